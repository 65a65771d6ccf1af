using System.Net;
using CdsHooks.Api.Fhir;
using CdsHooks.Api.Security;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Tests.Fhir;

/// <summary>The SSRF defence: which fhirServer URLs the service may call, as a unit and over HTTP.</summary>
public sealed class FhirAllowlistTests : IClassFixture<FhirFallbackHost>
{
    private readonly FhirFallbackHost _host;

    public FhirAllowlistTests(FhirFallbackHost host)
    {
        _host = host;
        host.Reset();
    }

    private static FhirServerAllowlist Allowlist(params string[] servers) =>
        new(Options.Create(new FhirOptions { AllowedServers = [.. servers], AllowInsecureHttp = false }));

    [Theory]
    [InlineData("https://ehr.example.org/fhir")]
    [InlineData("https://ehr.example.org/fhir/")]
    [InlineData("https://EHR.Example.ORG/fhir")]
    [InlineData("https://ehr.example.org:443/fhir")]
    [InlineData("https://ehr.example.org/fhir/r4")]
    public void Allowlist_SameServer_Allowed(string fhirServer)
    {
        var check = Allowlist("https://ehr.example.org/fhir/").Check(fhirServer);
        Assert.True(check.Allowed, check.Reason);
        Assert.False(check.Base!.AbsoluteUri.EndsWith('/'));
    }

    [Theory]
    [InlineData("https://ehr.example.org.evil.com/fhir", "ehr.example.org.evil.com")]
    [InlineData("https://evil-ehr.example.org/fhir", "evil-ehr.example.org")]
    [InlineData("https://ehr.example.org:8443/fhir", "ehr.example.org")]
    [InlineData("http://ehr.example.org/fhir", "ehr.example.org")]
    [InlineData("https://ehr.example.org/fhir2", "ehr.example.org")]
    [InlineData("https://ehr.example.org/", "ehr.example.org")]
    [InlineData("https://ehr.example.org/admin", "ehr.example.org")]
    [InlineData("https://ehr.example.org/fhir/../admin", "ehr.example.org")]
    [InlineData("https://ehr.example.org@evil.com/fhir", "evil.com")]
    [InlineData("https://user:pass@ehr.example.org/fhir", "ehr.example.org")]
    [InlineData("https://ehr.example.org/fhir?x=1", "ehr.example.org")]
    [InlineData("http://127.0.0.1/fhir", "127.0.0.1")]
    [InlineData("http://localhost:8080/fhir", "localhost")]
    [InlineData("http://[::1]/fhir", "[::1]")]
    [InlineData("http://169.254.169.254/latest/meta-data", "169.254.169.254")]
    [InlineData("file:///etc/passwd", "")]
    public void Allowlist_OtherServer_RejectedNamingHostOnly(string fhirServer, string host)
    {
        var check = Allowlist("https://ehr.example.org/fhir").Check(fhirServer);
        Assert.False(check.Allowed);
        Assert.Equal(host, check.RejectedHost);
    }

    [Fact]
    public void Allowlist_Empty_RejectsEverything() =>
        Assert.False(Allowlist().Check("https://ehr.example.org/fhir").Allowed);

    [Theory]
    [InlineData("https://ehr.example.org/fhir/Observation?patient=1&_page=2", true)]
    [InlineData("https://ehr.example.org/fhir?_getpages=abc", true)]
    [InlineData("https://ehr.example.org/fhirx/Observation", false)]
    [InlineData("https://other.example.org/fhir/Observation", false)]
    [InlineData("https://ehr.example.org:444/fhir/Observation", false)]
    [InlineData("https://x@ehr.example.org/fhir/Observation", false)]
    public void IsWithin_NextLinks_MustStayOnTheServer(string url, bool within) =>
        Assert.Equal(within, FhirServerAllowlist.IsWithin(new Uri(url), new Uri("https://ehr.example.org/fhir")));

    [Theory]
    [InlineData("http://169.254.169.254/fhir")]
    [InlineData("http://localhost:1/fhir")]
    [InlineData("https://allowed.example.evil.com/fhir")]
    public async Task FhirServerNotAllowlisted_NeverContacted_412AndHostLogged(string fhirServer)
    {
        var body = FallbackRequests.WithoutPrefetch("requests/order-select-zoloft-text-low-iron.json", new Uri(fhirServer));

        var answer = await _host.PostAsync("rls-iron-order-select", body);

        Assert.Equal(HttpStatusCode.PreconditionFailed, answer.Status);
        Assert.All(answer.Json["issue"]!.AsArray(), i => Assert.Equal("security", i!["code"]!.GetValue<string>()));
        Assert.Contains($"FHIR server {new Uri(fhirServer).Host} is not on Fhir:AllowedServers", _host.Logs.All);
        Assert.DoesNotContain(FhirFallbackHost.AccessToken, _host.Logs.All);
        Assert.Empty(_host.Fhir.Requests);
    }

    [Fact]
    public async Task StubOnADifferentPort_NotAllowlisted_NeverContacted()
    {
        // Same host (127.0.0.1), another port: a different authority.
        var body = FallbackRequests.WithoutPrefetch("requests/order-select-zoloft-text-low-iron.json", _host.Elsewhere.BaseUrl);

        var answer = await _host.PostAsync("rls-iron-order-select", body);

        Assert.Equal(HttpStatusCode.PreconditionFailed, answer.Status);
        Assert.Empty(_host.Elsewhere.Requests);
    }

    [Fact]
    public async Task FhirServerWithUserInfo_Rejected()
    {
        var url = new UriBuilder(_host.Fhir.BaseUrl) { UserName = "admin", Password = "x" }.Uri;
        var body = FallbackRequests.WithoutPrefetch("requests/order-select-zoloft-text-low-iron.json", url);

        var answer = await _host.PostAsync("rls-iron-order-select", body);

        Assert.Equal(HttpStatusCode.PreconditionFailed, answer.Status);
        Assert.Empty(_host.Fhir.Requests);
    }

    [Fact]
    public async Task FhirServerNotAllowlisted_FullPrefetch_Answers200WithoutContact()
    {
        var body = FallbackRequests.Load("requests/order-select-zoloft-text-low-iron.json", new Uri("http://169.254.169.254/fhir"), FhirFallbackHost.AccessToken).ToJsonString();

        var answer = await _host.PostAsync("rls-iron-order-select", body);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }
}
