using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Services;

/// <summary>
/// Draft orders as an EHR on FHIR DSTU2 sends them — and as the CDS Hooks Sandbox sends them whenever its FHIR
/// server is DSTU2 (<c>MedicationOrder</c>, <c>patient</c>, <c>dateWritten</c>, selected as <c>MedicationOrder/order-123</c>)
/// — get the cards their R4 equivalents get, over HTTP; draft orders of types the service does not read are logged.
/// </summary>
public sealed class Dstu2DraftOrderTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    private const string Select = "rls-iron-order-select";
    private const string Sign = "rls-iron-order-sign";

    /// <summary>The DSTU2 fixture, its R4 equivalent, the service, and the draft's "Type/id" in each.</summary>
    public static TheoryData<string, string, string, string, string> Equivalents() => new()
    {
        { "order-select-dstu2-sertraline-anxiety-no-iron-labs", "order-select-sertraline-anxiety-no-iron-labs", Select, "MedicationOrder/order-123", "MedicationRequest/rls-anxiety-f34-draft-1" },
        { "order-select-dstu2-remeron-contained-medication", "order-select-remeron-contained-medication", Select, "MedicationOrder/rls-remeron-f67-draft-1", "MedicationRequest/rls-remeron-f67-draft-1" },
        { "order-sign-dstu2-injectafer-ferritin-180", "order-sign-injectafer-ferritin-180", Sign, "MedicationOrder/order-123", "MedicationRequest/rls-fcm-f44-draft-1" },
    };

    [Fact]
    public void Equivalents_CoverEveryDstu2Fixture()
    {
        var fixtures = Directory.GetFiles(FixtureFiles.FixturePath("requests"), "*-dstu2-*.json").Select(Path.GetFileNameWithoutExtension).Order();

        Assert.Equal(fixtures, Equivalents().Select(row => (string)row[0]).Order());
    }

    [Theory]
    [MemberData(nameof(Equivalents))]
    public async Task Dstu2Draft_GetsTheCardsOfItsR4Equivalent(string dstu2, string r4, string service, string dstu2Draft, string r4Draft)
    {
        var fromDstu2 = await PostAsync(service, FixtureFiles.ReadFixture($"requests/{dstu2}.json"));
        var fromR4 = await PostAsync(service, FixtureFiles.ReadFixture($"requests/{r4}.json"));

        Assert.NotEmpty(CardAssertions.AssertConformantResponse(fromDstu2));
        Assert.Contains(dstu2Draft, fromDstu2, StringComparison.Ordinal);
        // The same cards, word for word, once the uuids (derived from hookInstance and the draft's id) and the
        // draft's "Type/id" are set aside.
        Assert.Equal(Comparable(fromR4), Comparable(fromDstu2.Replace(dstu2Draft, r4Draft, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Dstu2SelectedDraft_CautionRemovesTheMedicationOrderTheEhrSent()
    {
        var json = await PostAsync(Select, FixtureFiles.ReadFixture("requests/order-select-dstu2-sertraline-anxiety-no-iron-labs.json"));

        var card = Assert.Single(CardAssertions.AssertConformantResponse(json));
        var delete = card.GetProperty("suggestions").EnumerateArray().SelectMany(s => s.GetProperty("actions").EnumerateArray())
            .Single(a => a.GetProperty("type").GetString() == "delete");
        Assert.Equal("MedicationOrder/order-123", delete.GetProperty("resourceId").GetString());
    }

    [Fact]
    public async Task Dstu2Draft_SelectedUnderTheR4Type_Returns400NamingTheSelection()
    {
        var request = JsonNode.Parse(FixtureFiles.ReadFixture("requests/order-select-dstu2-sertraline-anxiety-no-iron-labs.json"))!.AsObject();
        request["context"]!["selections"] = new JsonArray("MedicationRequest/order-123");

        using var response = await host.Client.PostAsync($"/cds-services/{Select}", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("context.selections[0]", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreadDraftTypes_AreLoggedOncePerCall_ByTypeOnly()
    {
        var (request, hookInstance) = UnderNewHookInstance("requests/order-select-nutrition-order-and-amoxicillin.json");
        var entries = request["context"]!["draftOrders"]!["entry"]!.AsArray();
        entries.Add(new JsonObject { ["resource"] = new JsonObject { ["resourceType"] = "DeviceRequest", ["id"] = "device-draft-7", ["subject"] = new JsonObject { ["reference"] = "Patient/rls-diet-m72" } } });
        entries.Add(new JsonObject { ["resource"] = new JsonObject { ["resourceType"] = "NutritionOrder", ["id"] = "second-diet" } });
        entries.Add(new JsonObject { ["resource"] = new JsonObject { ["resourceType"] = "Patient rls-diet-m72\nforged line", ["id"] = "x" } });

        await PostAsync(Select, request.ToJsonString());

        var lines = host.Logs.Lines.Where(l => l.Contains(hookInstance, StringComparison.Ordinal) && l.Contains("not considered", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.StartsWith("Information ", line, StringComparison.Ordinal);
        Assert.Contains("4 draft order(s) not considered: this service does not read NutritionOrder, DeviceRequest, (not a FHIR type name)", line, StringComparison.Ordinal);
        Assert.DoesNotContain("rls-diet-m72", line, StringComparison.Ordinal);
        Assert.DoesNotContain("device-draft-7", line, StringComparison.Ordinal);
        Assert.DoesNotContain("forged", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dstu2Drafts_AreRead_NotLoggedAsUnread()
    {
        var (request, hookInstance) = UnderNewHookInstance("requests/order-sign-dstu2-injectafer-ferritin-180.json");

        await PostAsync(Sign, request.ToJsonString());

        var lines = host.Logs.Lines.Where(l => l.Contains(hookInstance, StringComparison.Ordinal)).ToList();
        Assert.Contains(lines, l => l.Contains("Answered with 1 cards", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("not considered", StringComparison.Ordinal));
    }

    /// <summary>A fixture request under a hookInstance of its own, to find this call's log lines.</summary>
    private static (JsonObject Request, string HookInstance) UnderNewHookInstance(string fixture)
    {
        var request = JsonNode.Parse(FixtureFiles.ReadFixture(fixture))!.AsObject();
        var hookInstance = Guid.NewGuid().ToString();
        request["hookInstance"] = hookInstance;
        return (request, hookInstance);
    }

    private async Task<string> PostAsync(string service, string body)
    {
        using var response = await host.Client.PostAsync($"/cds-services/{service}", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {json}");
        return json;
    }

    /// <summary>The response without its uuids; it must not name a MedicationOrder any more.</summary>
    private static string Comparable(string json)
    {
        var root = JsonNode.Parse(json)!;
        RemoveUuids(root);
        var text = root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Assert.DoesNotContain("MedicationOrder/", text, StringComparison.Ordinal);
        return text;

        static void RemoveUuids(JsonNode? node)
        {
            if (node is JsonObject obj)
            {
                obj.Remove("uuid");
                foreach (var (_, value) in obj) RemoveUuids(value);
            }
            else if (node is JsonArray array)
            {
                foreach (var item in array) RemoveUuids(item);
            }
        }
    }
}
