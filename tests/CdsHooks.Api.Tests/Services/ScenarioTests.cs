using System.Net;
using System.Text;
using System.Text.Json;
using CdsHooks.Protocol;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace CdsHooks.Api.Tests.Services;

/// <summary>Every fixture request in fhir-fixtures/scenarios.json, POSTed over HTTP, answers with exactly the expected cards.</summary>
public sealed class ScenarioTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    public static TheoryData<string> ScenarioNames() => [.. FixtureFiles.Scenarios().Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task Scenario_PostedOverHttp_ReturnsExpectedCardTopics(string name)
    {
        var scenario = FixtureFiles.Scenarios().Single(s => s.Name == name);
        var body = FixtureFiles.ReadFixture(scenario.Request);

        using var response = await host.Client.PostAsync($"/cds-services/{scenario.ServiceId}", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {(int)response.StatusCode} {json}");
        var cards = CardAssertions.AssertConformantResponse(json);
        Assert.Equal(scenario.ExpectedTopics.Order().ToArray(), CardAssertions.Topics(cards));
    }

    [Fact]
    public void Scenarios_CoverEveryCardKindAndTheNoCardCase()
    {
        var topics = FixtureFiles.Scenarios().SelectMany(s => s.ExpectedTopics).ToHashSet();
        Assert.Superset(new HashSet<string> { "iron-studies", "iron-therapy", "iv-iron", "iv-iron-caution", "ssri-caution", "aggravating-drug-caution" }, topics);
        Assert.Contains(FixtureFiles.Scenarios(), s => s.ExpectedTopics.Count == 0);
    }

    [Fact]
    public async Task SameHookCall_PostedTwice_ReturnsIdenticalCards()
    {
        var body = FixtureFiles.ReadFixture("requests/order-select-zoloft-text-low-iron.json");
        var first = await PostAsync(body);
        var second = await PostAsync(body);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Cards_AreSentWithTheirLength_AsTheHttpJsonOptionsWriteThem()
    {
        var body = FixtureFiles.ReadFixture("requests/order-select-sertraline-big-benchmark.json");
        using var response = await host.Client.PostAsync("/cds-services/rls-iron-order-select", new StringContent(body, Encoding.UTF8, "application/json"));
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        // The same bytes the service's HTTP JSON options give (encoder included: "≤ 75" stays readable, '<' escaped).
        var options = host.Services.GetRequiredService<IOptions<HttpJsonOptions>>().Value.SerializerOptions;
        var parsed = JsonSerializer.Deserialize(bytes, CdsJson.ResponseInfo)!;
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(parsed, options.GetTypeInfo(typeof(CdsResponse))), bytes);
        Assert.Contains("≤ 75", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task IvIronCaution_FerritinAtHardStop_IsCritical()
    {
        var json = await PostAsync(FixtureFiles.ReadFixture("requests/order-sign-fcm-ferritin-350.json"), "rls-iron-order-sign");
        var card = Assert.Single(CardAssertions.AssertConformantResponse(json));
        Assert.Equal("critical", card.GetProperty("indicator").GetString());
        var action = card.GetProperty("suggestions")[0].GetProperty("actions")[0];
        Assert.Equal("delete", action.GetProperty("type").GetString());
    }

    [Fact]
    public async Task SsriCaution_NoIronLabs_CarriesIronStudiesServiceRequestsAndDeleteAction()
    {
        var json = await PostAsync(FixtureFiles.ReadFixture("requests/order-select-sertraline-anxiety-no-iron-labs.json"));
        var card = Assert.Single(CardAssertions.AssertConformantResponse(json));
        Assert.Equal("any", card.GetProperty("selectionBehavior").GetString());
        var actions = card.GetProperty("suggestions").EnumerateArray().SelectMany(s => s.GetProperty("actions").EnumerateArray()).ToList();
        Assert.Contains(actions, a => a.GetProperty("type").GetString() == "delete");
        var created = actions.Where(a => a.GetProperty("type").GetString() == "create").Select(a => a.GetProperty("resource")).ToList();
        Assert.Equal(["2276-4", "50190-8"], created.Select(r => r.GetProperty("code").GetProperty("coding")[0].GetProperty("code").GetString()));
        Assert.All(created, r => Assert.Contains("no iron-containing supplements", r.GetProperty("patientInstruction").GetString()));
        var detail = card.GetProperty("detail").GetString()!;
        Assert.Contains("Anxiety", detail);
        Assert.Contains("overrideReasons", json);
    }

    [Fact]
    public async Task IronTherapy_Detail_ShowsValuesUnitsAndDates()
    {
        var json = await PostAsync(FixtureFiles.ReadFixture("requests/patient-view-ferritin-pmol.json"), "rls-iron-patient-view");
        var card = Assert.Single(CardAssertions.AssertConformantResponse(json));
        var detail = card.GetProperty("detail").GetString()!;
        Assert.Contains("89 ng/mL", detail);
        Assert.Contains("reported as 200 pmol/L", detail);
        Assert.Matches(@"on 20\d\d-\d\d-\d\d", detail);
    }

    [Theory]
    [InlineData("requests/order-select-zoloft-text-low-iron.json", "rls-iron-order-select", true)] // ferritin 32
    [InlineData("requests/patient-view-low-tsat-high-crp.json", "rls-iron-patient-view", false)] // ferritin 120, TSAT 15
    [InlineData("requests/patient-view-tsat-only-low.json", "rls-iron-patient-view", false)] // no ferritin
    public async Task IronTherapy_OffersIvIronOnlyWhenFerritinAtMost100(string fixture, string service, bool offersIv)
    {
        var json = await PostAsync(FixtureFiles.ReadFixture(fixture), service);
        var card = CardAssertions.AssertConformantResponse(json).Single(c => c.GetProperty("source").GetProperty("topic").GetProperty("code").GetString() == "iron-therapy");
        var labels = card.GetProperty("suggestions").EnumerateArray().Select(s => s.GetProperty("label").GetString()!).ToList();
        Assert.Contains(labels, l => l.Contains("oral ferrous sulfate", StringComparison.Ordinal));
        Assert.Equal(offersIv, labels.Any(l => l.Contains("IV ferric carboxymaltose", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task IronTherapy_HighCrp_WarnsThatFerritinMayBeFalselyReassuring()
    {
        var json = await PostAsync(FixtureFiles.ReadFixture("requests/patient-view-low-tsat-high-crp.json"), "rls-iron-patient-view");
        Assert.Contains("CRP is raised (25 mg/L)", json);
    }

    private async Task<string> PostAsync(string body, string service = "rls-iron-order-select")
    {
        using var response = await host.Client.PostAsync($"/cds-services/{service}", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        return json;
    }
}
