using System.Net;
using Microsoft.AspNetCore.Hosting;

namespace CdsHooks.Api.Tests.Security;

/// <summary>
/// <c>Security:RequireJwt</c> and the other security settings by environment: Development without issuers runs open
/// with a loud warning; anywhere else an unusable or unsafe configuration stops the service at boot, naming the key.
/// </summary>
[Collection(BootFailureCollection.Name)]
public sealed class SecurityModeTests
{
    private static readonly string InlineJwks = TestSigningKey.Jwks(TestSigningKey.Es384("k1"));

    private static string BootFailure(string environment, params (string Key, string? Value)[] settings)
    {
        return ConfiguredHost.BootFailure(environment, settings).ToString();
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public void NoIssuers_RequireJwtByDefault_FailsAtBootNamingTheKeys(string environment)
    {
        var failure = BootFailure(environment, ("Security:RequireJwt", null));
        Assert.Contains("Security:Issuers", failure);
        Assert.Contains("Security__Issuers__0__Issuer", failure);
        Assert.Contains("Security__RequireJwt=false", failure);
    }

    [Fact]
    public async Task Development_NoIssuers_RunsOpenWithLoudWarning_AndAllowsAnyOrigin()
    {
        using var host = new ConfiguredHost("Development", ("Security:RequireJwt", null));
        using var response = await host.Client.GetAsync("/cds-services");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("CDS client authentication is OFF"));

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/cds-services")
        {
            Headers = { { "Origin", "http://localhost:3000" }, { "Access-Control-Request-Method", "GET" }, { "Access-Control-Request-Headers", "authorization" } },
        };
        using var answer = await host.Client.SendAsync(preflight);
        Assert.Equal("*", Assert.Single(answer.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    [Fact]
    public async Task Development_TokenSentWithoutIssuersConfigured_IsIgnored()
    {
        using var host = new ConfiguredHost("Development", ("Security:RequireJwt", null));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cds-services") { Headers = { { "Authorization", "Bearer a.b.c" } } };
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task OpenModeWithIssuers_CallWithoutTokenPasses_ButAnInvalidTokenIsRefused()
    {
        using var host = new ConfiguredHost("Testing", ("Security:Issuers:0:Issuer", "https://ehr.example.test"), ("Security:Issuers:0:Jwks", InlineJwks));
        using (var open = await host.Client.GetAsync("/cds-services"))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cds-services") { Headers = { { "Authorization", "Bearer a.b.c" } } };
        using var refused = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public void CorsWildcard_OutsideDevelopment_FailsAtBoot() =>
        Assert.Contains("Cors:AllowedOrigins:0: '*' is allowed only in Development", BootFailure("Production", ("Cors:AllowedOrigins:0", "*")));

    [Fact]
    public void CorsOriginWithPath_FailsAtBoot() =>
        Assert.Contains("Cors:AllowedOrigins:0", BootFailure("Testing", ("Cors:AllowedOrigins:0", "https://sandbox.cds-hooks.org/app")));

    [Fact]
    public void HttpJwksUrl_WithoutAllowHttpJwks_FailsAtBoot() =>
        Assert.Contains("Security:Issuers:0:JwksUrl: 'http://ehr.example.test/jwks.json' uses http", BootFailure("Production",
            ("Security:RequireJwt", "true"), ("Security:Issuers:0:Issuer", "https://ehr.example.test"), ("Security:Issuers:0:JwksUrl", "http://ehr.example.test/jwks.json")));

    [Fact]
    public void HttpAllowedJku_WithoutAllowHttpJwks_FailsAtBoot() =>
        Assert.Contains("Security:Issuers:0:AllowedJku:0", BootFailure("Production",
            ("Security:RequireJwt", "true"), ("Security:Issuers:0:Issuer", "https://ehr.example.test"), ("Security:Issuers:0:Jwks", InlineJwks),
            ("Security:Issuers:0:AllowedJku:0", "http://ehr.example.test/jwks.json")));

    [Theory]
    [InlineData("HS256")]
    [InlineData("none")]
    public void SymmetricOrNoAlgorithm_FailsAtBoot(string alg) =>
        Assert.Contains($"Security:AllowedAlgorithms: '{alg}' is not allowed", BootFailure("Testing", ("Security:AllowedAlgorithms:0", alg)));

    [Fact]
    public void IssuerWithoutKeys_FailsAtBoot() =>
        Assert.Contains("set Security:Issuers:0:JwksUrl or Security:Issuers:0:Jwks", BootFailure("Testing", ("Security:Issuers:0:Issuer", "https://ehr.example.test")));

    [Fact]
    public void BrokenInlineJwks_FailsAtBoot() =>
        Assert.Contains("Security:Issuers:0:Jwks: not a JWKS", BootFailure("Testing", ("Security:Issuers:0:Issuer", "https://ehr.example.test"), ("Security:Issuers:0:Jwks", "{not json")));

    [Fact]
    public void InlineJwksWithOnlyASymmetricKey_FailsAtBoot() =>
        Assert.Contains("Security:Issuers:0:Jwks: no usable signing key", BootFailure("Testing", ("Security:Issuers:0:Issuer", "https://ehr.example.test"),
            ("Security:Issuers:0:Jwks", "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"}]}")));

    [Fact]
    public void BodyCapOutOfRange_FailsAtBoot() =>
        Assert.Contains("Limits:MaxRequestBodyBytes", BootFailure("Testing", ("Limits:MaxRequestBodyBytes", "100")));
}
