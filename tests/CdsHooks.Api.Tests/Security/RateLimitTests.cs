using System.Net;
using System.Text.Json;

namespace CdsHooks.Api.Tests.Security;

/// <summary>Two EHRs with inline keys and a budget of 3 calls per minute each.</summary>
public sealed class RateLimitedHost : CdsServiceHost
{
    public const int PerMinute = 3;
    public const string IssuerA = "https://ehr-a.example.test";
    public const string IssuerB = "https://ehr-b.example.test";

    public TestSigningKey KeyA { get; } = TestSigningKey.Es384("a-1");
    public TestSigningKey KeyB { get; } = TestSigningKey.Es384("b-1");

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        .. base.Settings,
        new("Security:RequireJwt", "true"),
        new("Security:Issuers:0:Issuer", IssuerA),
        new("Security:Issuers:0:Jwks", TestSigningKey.Jwks(KeyA)),
        new("Security:Issuers:1:Issuer", IssuerB),
        new("Security:Issuers:1:Jwks", TestSigningKey.Jwks(KeyB)),
        new("Limits:RequestsPerMinutePerClient", PerMinute.ToString()),
    ];

    public async Task<HttpResponseMessage> DiscoverAsync(TestSigningKey key, string issuer)
    {
        var token = new TestToken(key, issuer, new Uri(BaseAddress, "/cds-services").AbsoluteUri, Clock.GetUtcNow()).Sign();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cds-services") { Headers = { { "Authorization", "Bearer " + token } } };
        return await Client.SendAsync(request);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            KeyA.Dispose();
            KeyB.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>The open mode's limit is per remote address.</summary>
public sealed class OpenRateLimitedHost : CdsServiceHost
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [.. base.Settings, new("Limits:RequestsPerMinutePerClient", RateLimitedHost.PerMinute.ToString())];
}

public sealed class RateLimitTests(RateLimitedHost host) : IClassFixture<RateLimitedHost>
{
    // The limiter uses one-minute fixed windows on the real clock: 2n+1 calls cross at most one window boundary,
    // so at least one of them is over the limit whatever the timing.
    private const int Calls = 2 * RateLimitedHost.PerMinute + 1;

    [Fact]
    public async Task ClientOverItsBudget_Gets429WithRetryAfter_OtherClientIsUnaffected()
    {
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? rejected = null;
        for (var i = 0; i < Calls; i++)
        {
            var response = await host.DiscoverAsync(host.KeyA, RateLimitedHost.IssuerA);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && rejected is null) rejected = response;
            else response.Dispose();
        }
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        Assert.NotNull(rejected);
        using (rejected)
        {
            var retryAfter = rejected.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value.TotalSeconds, 1, 60);
            Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());
            Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
        }
        Assert.Contains(host.Logs.Lines, l => l.Contains("429 for iss:" + RateLimitedHost.IssuerA, StringComparison.Ordinal));

        using var other = await host.DiscoverAsync(host.KeyB, RateLimitedHost.IssuerB);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }
}

public sealed class OpenModeRateLimitTests(OpenRateLimitedHost host) : IClassFixture<OpenRateLimitedHost>
{
    [Fact]
    public async Task UnauthenticatedCaller_OverTheBudget_Gets429PerRemoteAddress()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 2 * RateLimitedHost.PerMinute + 1; i++)
        {
            using var response = await host.Client.GetAsync("/cds-services");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) Assert.NotNull(response.Headers.RetryAfter);
        }
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Contains(host.Logs.Lines, l => l.Contains("429 for ip:127.0.0.1", StringComparison.Ordinal));

        // Health probes are never rate limited.
        using var health = await host.Client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
