using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Security;

/// <summary>
/// The service as the CDS Hooks Sandbox saw it (public base URL http://127.0.0.1:3001), trusting the Sandbox's real
/// public JWKS from ../shared/spec-examples inline, with the jku the Sandbox sends on the allowlist.
/// </summary>
public class SandboxHost : CdsServiceHost
{
    public const string Issuer = "https://sandbox.cds-hooks.org";

    private static readonly Lazy<JsonElement> Example = new(() =>
        JsonDocument.Parse(File.ReadAllText(SpecExample("sandbox-jwt.json"))).RootElement.Clone());

    public static string Token => Example.Value.GetProperty("token").GetString()!;

    public static string UrlCalled => Example.Value.GetProperty("url_called").GetString()!;

    public static DateTimeOffset IssuedAt => DateTimeOffset.FromUnixTimeSeconds(Example.Value.GetProperty("payload").GetProperty("iat").GetInt64());

    public static DateTimeOffset Expires => DateTimeOffset.FromUnixTimeSeconds(Example.Value.GetProperty("payload").GetProperty("exp").GetInt64());

    public static string SpecExample(string file) =>
        Path.Combine(FixtureFiles.SpecExamplesDirectory ?? throw new InvalidOperationException("../shared/spec-examples is missing"), file);

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        .. base.Settings,
        new("Security:RequireJwt", "true"),
        new("Security:PublicBaseUrl", "http://127.0.0.1:3001"),
        new("Security:Issuers:0:Issuer", Issuer),
        new("Security:Issuers:0:JwksUrl", "https://sandbox.cds-hooks.org/.well-known/jwks.json"),
        new("Security:Issuers:0:Jwks", File.ReadAllText(SpecExample("sandbox-jwks.json"))),
    ];

    /// <summary>Posts to the URL the real token was made for, with the token, at <paramref name="at"/> on the host's clock.</summary>
    public async Task<HttpResponseMessage> CallWithTheRealTokenAsync(DateTimeOffset at)
    {
        Clock.Set(at);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(UrlCalled).AbsolutePath, UriKind.Relative))
        {
            Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return await Client.SendAsync(request);
    }
}

/// <summary>
/// The Sandbox's JWKS pasted inline and nothing else — no JwksUrl, no AllowedJku — as the README's Sandbox recipe
/// configures it: the jku the Sandbox names is not used, the inline key is.
/// </summary>
public sealed class SandboxInlineJwksHost : SandboxHost
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings => base.Settings.Where(s => s.Key != "Security:Issuers:0:JwksUrl");
}

public sealed class SandboxTokenTests(SandboxHost host) : IClassFixture<SandboxHost>
{
    private Task<HttpResponseMessage> CallAsync(DateTimeOffset at) => host.CallWithTheRealTokenAsync(at);

    [Fact]
    public async Task RealSandboxToken_BetweenIatAndExp_IsAuthenticated_ThenReplayIsRefused()
    {
        // patient-greeting is not a service here: 404 shows the token passed authentication (aud from PublicBaseUrl).
        using (var first = await CallAsync(SandboxHost.IssuedAt.AddSeconds(60)))
        {
            Assert.True(first.StatusCode == HttpStatusCode.NotFound, $"{first.StatusCode}\n{host.Logs.All}");
        }
        using var replay = await CallAsync(SandboxHost.IssuedAt.AddSeconds(61));
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Contains("jti already used", host.Logs.All);
    }

    [Fact]
    public async Task RealSandboxToken_AfterExpiry_Returns401()
    {
        using var response = await CallAsync(SandboxHost.Expires.AddMinutes(5));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("expired (exp)", host.Logs.All);
    }
}

public sealed class SandboxInlineJwksTokenTests(SandboxInlineJwksHost host) : IClassFixture<SandboxInlineJwksHost>
{
    [Fact]
    public async Task RealSandboxToken_JwksOnlyPastedInline_IsAuthenticatedDespiteItsJku()
    {
        using var response = await host.CallWithTheRealTokenAsync(SandboxHost.IssuedAt.AddSeconds(60));

        // 404: authenticated (patient-greeting is not a service here); a refusal would be a bare 401.
        Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{response.StatusCode}\n{host.Logs.All}");
        // Nothing fetched, nothing tried (a fetch logs "JWKS …" and the HTTP client logs the URL).
        Assert.DoesNotContain("JWKS", host.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(".well-known/jwks.json", host.Logs.All, StringComparison.Ordinal);
    }
}
