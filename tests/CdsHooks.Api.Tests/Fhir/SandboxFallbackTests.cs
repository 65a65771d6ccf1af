using System.Net;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Fhir;

/// <summary>
/// What the CDS Hooks Sandbox really sends (../shared/spec-examples: fhirServer, no fhirAuthorization, little or no
/// prefetch) is answered with 200 when its fhirServer is an allowlisted server: here the stub, read without a token.
/// </summary>
public sealed class SandboxFallbackTests : IClassFixture<FhirFallbackHost>
{
    private readonly FhirFallbackHost _host;

    public SandboxFallbackTests(FhirFallbackHost host)
    {
        _host = host;
        host.Reset();
    }

    public static TheoryData<string> SandboxRequests() =>
        [.. FixtureFiles.SpecExamplesDirectory is { } dir
            ? Directory.GetFiles(dir, "sandbox-*.request.json").Select(Path.GetFileName).OfType<string>().Where(f => !f.Contains("feedback", StringComparison.Ordinal)).Order()
            : Enumerable.Empty<string>()];

    [Fact]
    public void SandboxRequests_ArePresent() => Assert.Equal(3, SandboxRequests().Count);

    [Theory]
    [MemberData(nameof(SandboxRequests))]
    public async Task SandboxRequest_FhirServerAllowlisted_Returns200(string file)
    {
        var request = JsonNode.Parse(File.ReadAllText(Path.Combine(FixtureFiles.SpecExamplesDirectory!, file)))!.AsObject();
        Assert.Null(request["fhirAuthorization"]);
        request["fhirServer"] = _host.Fhir.BaseUrl.AbsoluteUri;
        var hook = request["hook"]!.GetValue<string>();

        var answer = await _host.PostAsync("rls-iron-" + hook, request.ToJsonString());

        Assert.True(answer.Status == HttpStatusCode.OK, $"{file}: {answer}");
        CardAssertions.AssertConformantResponse(answer.Body);
        Assert.NotEmpty(_host.Fhir.Requests);
        Assert.All(_host.Fhir.Requests, r => Assert.Null(r.Authorization));
    }
}
