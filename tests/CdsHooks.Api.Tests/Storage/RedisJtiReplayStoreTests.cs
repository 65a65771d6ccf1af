using System.Net;
using CdsHooks.Api.Security;
using CdsHooks.Storage;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CdsHooks.Api.Tests.Storage;

/// <summary>The jti replay store in the real test Redis (CDS_TEST_REDIS): one answer for every node.</summary>
public sealed class RedisJtiReplayStoreTests
{
    private static readonly DateTimeOffset Now = FixedTimeProvider.FixtureDate;

    /// <summary>A node's own connection to the test Redis, as the service makes it (timeouts, fail fast).</summary>
    internal static async Task<RedisConnection> ConnectAsync()
    {
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var health = new StoreHealth(TimeProvider.System, meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), NullLogger<StoreHealth>.Instance);
        var connection = new RedisConnection(Options.Create(new RedisOptions { ConnectionString = TestServers.Redis }), health, NullLogger<RedisConnection>.Instance);
        await connection.FirstAttempt;
        return connection;
    }

    [RequiresRedisFact]
    public async Task SameJti_OnASecondNodeWithItsOwnConnection_IsAReplay()
    {
        await using var first = await ConnectAsync();
        await using var second = await ConnectAsync();
        IJtiReplayStore node1 = new RedisJtiReplayStore(first, new FixedTimeProvider());
        IJtiReplayStore node2 = new RedisJtiReplayStore(second, new FixedTimeProvider());
        var jti = Guid.NewGuid().ToString();

        Assert.True(await node1.TryMarkUsedAsync("https://sandbox.cds-hooks.org", jti, Now.AddMinutes(5), CancellationToken.None));
        Assert.False(await node2.TryMarkUsedAsync("https://sandbox.cds-hooks.org", jti, Now.AddMinutes(5), CancellationToken.None));
        Assert.False(await node1.TryMarkUsedAsync("https://sandbox.cds-hooks.org", jti, Now.AddMinutes(5), CancellationToken.None));
    }

    [RequiresRedisFact]
    public async Task SameJti_FromAnotherIssuer_IsNotAReplay()
    {
        await using var connection = await ConnectAsync();
        var store = new RedisJtiReplayStore(connection, new FixedTimeProvider());
        var jti = Guid.NewGuid().ToString();

        Assert.True(await store.TryMarkUsedAsync("https://ehr-a.example", jti, Now.AddMinutes(5), CancellationToken.None));
        Assert.True(await store.TryMarkUsedAsync("https://ehr-b.example", jti, Now.AddMinutes(5), CancellationToken.None));
    }

    [RequiresRedisFact]
    public async Task Jti_IsRememberedUntilTheTokenExpires_AndNoLonger()
    {
        await using var connection = await ConnectAsync();
        using var redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        var store = new RedisJtiReplayStore(connection, new FixedTimeProvider());
        var jti = Guid.NewGuid().ToString();
        var expired = Guid.NewGuid().ToString();

        await store.TryMarkUsedAsync("iss", jti, Now.AddSeconds(300), CancellationToken.None);
        await store.TryMarkUsedAsync("iss", expired, Now.AddSeconds(-30), CancellationToken.None);

        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(RedisJtiReplayStore.Key("iss", jti));
        Assert.InRange(ttl!.Value.TotalSeconds, 290, 300);
        var floor = await redis.GetDatabase().KeyTimeToLiveAsync(RedisJtiReplayStore.Key("iss", expired));
        Assert.InRange(floor!.Value.TotalMilliseconds, 1, RedisJtiReplayStore.MinimumRetention.TotalMilliseconds);
    }

    [Fact]
    public void Key_IsFixedLengthWhateverTheClientSends()
    {
        var shortKey = RedisJtiReplayStore.Key("a", "b");
        var longKey = RedisJtiReplayStore.Key(new string('x', 10_000), "b\nc");
        Assert.Equal(shortKey.Length, longKey.Length);
        Assert.NotEqual(RedisJtiReplayStore.Key("a\nb", "c"), RedisJtiReplayStore.Key("a", "b\nc"));
    }
}

/// <summary>A node configured with <c>Redis:ConnectionString</c>.</summary>
public sealed class RedisHost : CdsServiceHost
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [new("Redis:ConnectionString", Environment.GetEnvironmentVariable(TestServers.RedisVariable) ?? "")];
}

public sealed class RedisConfiguredNodeTests(RedisHost host) : IClassFixture<RedisHost>
{
    [RequiresRedisFact]
    public async Task RedisConfigured_NodeUsesRedisForJti_AndAnotherNodeSeesIt()
    {
        _ = host.Client; // start on the Kestrel socket before reading Services
        var nodeStore = host.Services.GetRequiredService<IJtiReplayStore>();
        Assert.IsType<RedisJtiReplayStore>(nodeStore);
        await using var other = await RedisJtiReplayStoreTests.ConnectAsync();
        var otherNode = new RedisJtiReplayStore(other, TimeProvider.System);
        var jti = Guid.NewGuid().ToString();

        Assert.True(await nodeStore.TryMarkUsedAsync("iss", jti, DateTimeOffset.UtcNow.AddMinutes(5), CancellationToken.None));
        Assert.False(await otherNode.TryMarkUsedAsync("iss", jti, DateTimeOffset.UtcNow.AddMinutes(5), CancellationToken.None));
    }

    [RequiresRedisFact]
    public async Task RedisConfigured_ReadinessChecksRedis()
    {
        using var ready = await host.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var checks = host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        Assert.Contains(checks, c => c.Name == "redis" && c.Tags.Contains("ready"));
    }

    [Fact]
    public void RedisNotConfigured_NoRedisJtiStoreIsRegistered()
    {
        using var plain = new CdsServiceHost();
        _ = plain.Client; // start on the Kestrel socket, as every other host here does
        Assert.IsType<InMemoryJtiReplayStore>(plain.Services.GetService<IJtiReplayStore>());
    }
}
