using System.Net.Http.Headers;
using System.Text;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Security;

/// <summary>
/// The service with JWT authentication on, trusting four EHRs whose keys are generated here:
/// a Sandbox-style ES384 issuer with a JWKS URL (and a second allowed <c>jku</c>), an Epic-style RS384 issuer with
/// an inline JWKS and a tenant, and two issuers whose JWKS endpoints the tests rotate and take down.
/// </summary>
public class SecuredCdsServiceHost : CdsServiceHost, IAsyncLifetime
{
    public const string SandboxIssuer = "https://sandbox.example.test";
    public const string EpicIssuer = "https://epic.example.test/interconnect";
    public const string EpicTenant = "epic-tenant-1";
    public const string RotatingIssuer = "https://rotating.example.test";
    public const string FlakyIssuer = "https://flaky.example.test";
    public const string BrowserOrigin = "https://sandbox.cds-hooks.org";

    public JwksServer Jwks { get; } = new();
    public TestSigningKey SandboxKey { get; } = TestSigningKey.Es384("sandbox-es384-1");
    public TestSigningKey EpicKey { get; } = TestSigningKey.Rs384("epic-rs384-2026");
    public TestSigningKey RotatingKey1 { get; } = TestSigningKey.Es384("rotating-1");
    public TestSigningKey RotatingKey2 { get; } = TestSigningKey.Es384("rotating-2");
    public TestSigningKey FlakyKey { get; } = TestSigningKey.Es384("flaky-1");

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        .. base.Settings,
        new("Security:RequireJwt", "true"),
        new("Security:AllowHttpJwks", "true"),
        new("Security:Issuers:0:Issuer", SandboxIssuer),
        new("Security:Issuers:0:JwksUrl", Jwks.UrlOf("sandbox")),
        new("Security:Issuers:0:AllowedJku:0", Jwks.UrlOf("sandbox-alt")),
        new("Security:Issuers:1:Issuer", EpicIssuer),
        new("Security:Issuers:1:Jwks", TestSigningKey.Jwks(EpicKey)),
        new("Security:Issuers:1:Tenant", EpicTenant),
        new("Security:Issuers:2:Issuer", RotatingIssuer),
        new("Security:Issuers:2:JwksUrl", Jwks.UrlOf("rotating")),
        new("Security:Issuers:3:Issuer", FlakyIssuer),
        new("Security:Issuers:3:JwksUrl", Jwks.UrlOf("flaky")),
        new("Cors:AllowedOrigins:0", BrowserOrigin),
    ];

    public async Task InitializeAsync()
    {
        await Jwks.StartAsync();
        Jwks.Serve("sandbox", SandboxKey);
        Jwks.Serve("sandbox-alt", SandboxKey);
        Jwks.Serve("rotating", RotatingKey1);
        Jwks.Serve("flaky", FlakyKey);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await Jwks.DisposeAsync();
        foreach (var key in new[] { SandboxKey, EpicKey, RotatingKey1, RotatingKey2, FlakyKey }) key.Dispose();
    }

    /// <summary>The absolute URL of <paramref name="path"/> on this host: what a client puts in <c>aud</c>.</summary>
    public string Url(string path) => new Uri(BaseAddress, path).AbsoluteUri;

    /// <summary>A valid token for calling <paramref name="path"/>, issued now by the host's clock.</summary>
    public TestToken Token(TestSigningKey key, string issuer, string path) => new(key, issuer, Url(path), Clock.GetUtcNow());

    public Task<HttpResponseMessage> GetAsync(string path, string? token) => SendAsync(HttpMethod.Get, path, token, null);

    public Task<HttpResponseMessage> PostAsync(string path, string? token, string body) => SendAsync(HttpMethod.Post, path, token, body);

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await Client.SendAsync(request);
    }

    public static string ZoloftRequest() => FixtureFiles.ReadFixture("requests/order-select-zoloft-text-low-iron.json");
}
