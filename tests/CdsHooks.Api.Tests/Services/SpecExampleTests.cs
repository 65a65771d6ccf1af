using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Services;

/// <summary>
/// HL7's own hook examples and what the CDS Hooks Sandbox really sends (../shared/spec-examples) are accepted:
/// 200, or 412 where data is missing — never 400 or 500.
/// </summary>
public sealed class SpecExampleTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    public static TheoryData<string> ContextExamples() => [.. Files("*.context.json")];

    public static TheoryData<string> SandboxRequests() => [.. Files("sandbox-*.request.json").Where(f => !f.Contains("feedback"))];

    private static IEnumerable<string> Files(string pattern) =>
        FixtureFiles.SpecExamplesDirectory is { } dir ? Directory.GetFiles(dir, pattern).Select(Path.GetFileName).OfType<string>().Order() : [];

    [Fact]
    public void SpecExamples_ArePresent()
    {
        Assert.NotNull(FixtureFiles.SpecExamplesDirectory);
        Assert.Equal(6, ContextExamples().Count);
        Assert.Equal(3, SandboxRequests().Count);
    }

    [Theory]
    [MemberData(nameof(ContextExamples))]
    public async Task Hl7ContextExample_WithNullPrefetch_Returns200NoCards(string file)
    {
        var hook = file[..file.IndexOf("--", StringComparison.Ordinal)];
        var context = JsonNode.Parse(File.ReadAllText(Path.Combine(FixtureFiles.SpecExamplesDirectory!, file)))!["context"]!.DeepClone();
        var prefetch = new JsonObject();
        foreach (var key in new[] { "patient", "ironLabs", "crpAndHemoglobin", "medicationStatements", "medicationRequests", "conditions" }) prefetch[key] = null;
        var request = new JsonObject
        {
            ["hook"] = hook,
            ["hookInstance"] = Guid.NewGuid().ToString(),
            ["context"] = context,
            ["prefetch"] = prefetch,
        };

        var (status, body) = await PostAsync("rls-iron-" + hook, request.ToJsonString());

        Assert.True(status == HttpStatusCode.OK, $"{file}: {(int)status} {body}");
        Assert.Empty(CardAssertions.AssertConformantResponse(body)); // no RLS in these examples
    }

    [Theory]
    [MemberData(nameof(ContextExamples))]
    public async Task Hl7ContextExample_WithoutPrefetch_IsNeverRejectedAsBadInput(string file)
    {
        var hook = file[..file.IndexOf("--", StringComparison.Ordinal)];
        var context = JsonNode.Parse(File.ReadAllText(Path.Combine(FixtureFiles.SpecExamplesDirectory!, file)))!["context"]!.DeepClone();
        var request = new JsonObject { ["hook"] = hook, ["hookInstance"] = Guid.NewGuid().ToString(), ["context"] = context };

        var (status, body) = await PostAsync("rls-iron-" + hook, request.ToJsonString());

        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.PreconditionFailed, $"{file}: {(int)status} {body}");
    }

    [Theory]
    [MemberData(nameof(SandboxRequests))]
    public async Task SandboxRequest_IsAccepted(string file)
    {
        var body = File.ReadAllText(Path.Combine(FixtureFiles.SpecExamplesDirectory!, file));
        var hook = JsonNode.Parse(body)!["hook"]!.GetValue<string>();

        var (status, response) = await PostAsync("rls-iron-" + hook, body);

        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.PreconditionFailed, $"{file}: {(int)status} {response}");
        if (status == HttpStatusCode.OK) CardAssertions.AssertConformantResponse(response);
    }

    private async Task<(HttpStatusCode, string)> PostAsync(string service, string body)
    {
        using var response = await host.Client.PostAsync($"/cds-services/{service}", new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
