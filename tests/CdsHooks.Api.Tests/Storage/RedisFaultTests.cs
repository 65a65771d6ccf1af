using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CdsHooks.Api.Security;
using CdsHooks.Api.Tests.Feedback;
using CdsHooks.Api.Tests.Security;
using CdsHooks.Storage;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Storage;

/// <summary>
/// A node that requires client JWTs and keeps their jti in a redis-server of its own (<see cref="RedisServerProcess"/>),
/// which the tests kill, pause and bring back. One trusted issuer with an inline RS384 key.
/// </summary>
public sealed class RedisFaultHost : CdsServiceHost, IAsyncLifetime
{
    public const string Issuer = "https://ehr.fault.example.test";

    /// <summary>False: Redis is down when the service starts (the test starts it later).</summary>
    public bool StartRedisFirst { get; init; } = true;

    public RedisServerProcess Redis { get; } = new();

    public TestSigningKey Key { get; } = TestSigningKey.Rs384("fault-rs384");

    public StoreHealth StoreHealth => Services.GetRequiredService<StoreHealth>();

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        .. base.Settings,
        new("Security:RequireJwt", "true"),
        new("Security:Issuers:0:Issuer", Issuer),
        new("Security:Issuers:0:Jwks", TestSigningKey.Jwks(Key)),
        new("Redis:ConnectionString", Redis.ConnectionString),
    ];

    public async Task InitializeAsync()
    {
        if (StartRedisFirst) await Redis.StartAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await Redis.DisposeAsync();
        Key.Dispose();
    }

    /// <summary>Sends <paramref name="body"/> to <paramref name="path"/> with a fresh token; returns the answer and how long it took.</summary>
    public async Task<(HttpResponseMessage Response, TimeSpan Elapsed)> PostAsync(string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", new TestToken(Key, Issuer, new Uri(BaseAddress, path).AbsoluteUri, Clock.GetUtcNow()).Sign());
        var started = Stopwatch.GetTimestamp();
        var response = await Client.SendAsync(request);
        return (response, Stopwatch.GetElapsedTime(started));
    }

    public async Task<(HttpStatusCode Status, JsonElement Redis, TimeSpan Elapsed)> ReadinessAsync()
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await Client.GetAsync("/health/ready");
        var elapsed = Stopwatch.GetElapsedTime(started);
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, report.RootElement.GetProperty("checks").GetProperty("redis").Clone(), elapsed);
    }

    /// <summary>Waits (on <see cref="CdsHooks.Storage.StoreHealth.WhenChanged"/>, no polling) until Redis is no longer failing.</summary>
    public async Task RedisRecoveredAsync(TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        while (StoreHealth.IsFailing(CdsHooks.Storage.StoreHealth.Redis))
        {
            var changed = StoreHealth.WhenChanged;
            if (!StoreHealth.IsFailing(CdsHooks.Storage.StoreHealth.Redis)) break;
            await changed.WaitAsync(deadline.Token);
        }
    }
}

/// <summary>
/// Redis killed or hung while client JWTs are checked: every call is answered within a second, 503 with Retry-After
/// (fail closed: no token is accepted unchecked), readiness says why, and both come back when Redis does.
/// </summary>
public sealed class RedisFaultTests(RedisFaultHost host) : IClassFixture<RedisFaultHost>
{
    private const string Hook = "/cds-services/rls-iron-order-select";
    private const string Feedback = "/cds-services/rls-iron-order-select/feedback";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);

    private static string HookBody => SecuredCdsServiceHost.ZoloftRequest();

    private static string FeedbackBody => FeedbackTests.Body(FeedbackTests.Accepted(Guid.NewGuid().ToString(), Guid.NewGuid().ToString()));

    [RequiresRedisServerFact]
    public async Task RedisKilled_CallsAnswer503WithRetryAfterWithinOneSecond_ReadinessFlips_AndAllRecover()
    {
        await AssertServingAsync();
        using var unavailable = CountUnavailable();
        var failingLogs = FailingLogLines();

        await host.Redis.KillAsync();

        for (var i = 0; i < 3; i++)
        {
            await AssertUnavailableAsync(Hook, HookBody);
            await AssertUnavailableAsync(Feedback, FeedbackBody);
        }
        var (status, redis, elapsed) = await host.ReadinessAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", redis.GetProperty("status").GetString());
        Assert.Contains("redis", redis.GetProperty("description").GetString());
        Assert.True(elapsed < Bound, $"readiness took {elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(6, unavailable.Count);
        Assert.Equal(failingLogs + 1, FailingLogLines()); // one per episode, not one per call

        await host.Redis.StartAsync();
        await host.RedisRecoveredAsync(TimeSpan.FromSeconds(15));
        // The client reports the connection restored before a command is sure to go through on it (seen once in CI: a
        // 503 right after): readiness' own write says when Redis takes writes again, then every call is served.
        await ReadyAgainAsync();

        await AssertServingAsync();
    }

    [RequiresRedisServerFact]
    public async Task RedisPaused_CallsAnswerWithinOneSecond_ReadinessFlips_AndAllRecover()
    {
        await AssertServingAsync();

        host.Redis.Pause();
        try
        {
            var calls = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => host.PostAsync(i % 2 == 0 ? Hook : Feedback, i % 2 == 0 ? HookBody : FeedbackBody)));
            foreach (var (response, elapsed) in calls)
            {
                using (response) AssertUnavailable(response, elapsed);
            }
            var (status, redis, readinessElapsed) = await host.ReadinessAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Contains("no answer within 250 ms", redis.GetProperty("description").GetString());
            Assert.True(readinessElapsed < Bound, $"readiness took {readinessElapsed.TotalMilliseconds:0} ms");
        }
        finally
        {
            host.Redis.Resume();
        }

        // Nothing reconnects after a pause (the connection never dropped): readiness' own probe ends the episode.
        await ReadyAgainAsync();
        await AssertServingAsync();
    }

    private async Task ReadyAgainAsync()
    {
        var deadline = Stopwatch.StartNew();
        while ((await host.ReadinessAsync()).Status != HttpStatusCode.OK)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "readiness did not come back after Redis did");
        }
    }

    private async Task AssertServingAsync()
    {
        var (hook, _) = await host.PostAsync(Hook, HookBody);
        using (hook) Assert.Equal(HttpStatusCode.OK, hook.StatusCode);
        var (feedback, _) = await host.PostAsync(Feedback, FeedbackBody);
        using (feedback) Assert.Equal(HttpStatusCode.OK, feedback.StatusCode);
        var (ready, redis, _) = await host.ReadinessAsync();
        Assert.True(ready == HttpStatusCode.OK, redis.ToString());
    }

    private async Task AssertUnavailableAsync(string path, string body)
    {
        var (response, elapsed) = await host.PostAsync(path, body);
        using (response) AssertUnavailable(response, elapsed);
    }

    private static void AssertUnavailable(HttpResponseMessage response, TimeSpan elapsed)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(elapsed < Bound, $"{response.RequestMessage?.RequestUri?.AbsolutePath} took {elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(TimeSpan.FromSeconds(CdsClientAuthenticationHandler.UnavailableRetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private int FailingLogLines() => host.Logs.Lines.Count(l => l.Contains("Store redis is failing", StringComparison.Ordinal));

    /// <summary>Counts <c>cds.auth.unavailable</c> of this host only (meters of other hosts in the process are ignored).</summary>
    private UnavailableCounter CountUnavailable() => new(host.Services.GetRequiredService<IMeterFactory>());

    private sealed class UnavailableCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public UnavailableCounter(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "cds.auth.unavailable" && instrument.Meter.Scope == scope) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>Redis down when the service starts: the service starts anyway, not ready, and is ready once Redis is up.</summary>
public sealed class RedisDownAtBootTests
{
    [RequiresRedisServerFact]
    public async Task RedisDownAtBoot_ServiceStartsNotReady_ThenServesOnceRedisIsUp()
    {
        await using var host = new RedisFaultHost { StartRedisFirst = false };
        await ((IAsyncLifetime)host).InitializeAsync();
        try
        {
            // Starts while nothing listens on Redis' port (the time bounds of a cold host are not asserted: its first
            // calls compile the pipeline; RedisFaultTests checks them on a warm one).
            _ = host.Client;

            var (status, redis, _) = await host.ReadinessAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("Unhealthy", redis.GetProperty("status").GetString());
            var (hook, _) = await host.PostAsync("/cds-services/rls-iron-order-select", SecuredCdsServiceHost.ZoloftRequest());
            using (hook) Assert.Equal(HttpStatusCode.ServiceUnavailable, hook.StatusCode);

            await host.Redis.StartAsync();
            await host.RedisRecoveredAsync(TimeSpan.FromSeconds(15));

            Assert.Equal(HttpStatusCode.OK, (await host.ReadinessAsync()).Status);
            var (served, _) = await host.PostAsync("/cds-services/rls-iron-order-select", SecuredCdsServiceHost.ZoloftRequest());
            using (served) Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
        finally
        {
            await ((IAsyncLifetime)host).DisposeAsync();
        }
    }
}
