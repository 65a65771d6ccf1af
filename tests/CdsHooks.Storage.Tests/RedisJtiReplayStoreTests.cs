using CdsHooks.Testing;
using StackExchange.Redis;

namespace CdsHooks.Storage.Tests;

/// <summary>The jti replay store in the real test Redis (CDS_TEST_REDIS): one answer for every node.</summary>
public sealed class RedisJtiReplayStoreTests
{
    private static readonly DateTimeOffset Now = FixedTimeProvider.FixtureDate;

    [RequiresRedisFact]
    public async Task SameJti_OnASecondNodeWithItsOwnConnection_IsAReplay()
    {
        await using var first = await TestServers.ConnectRedisAsync();
        await using var second = await TestServers.ConnectRedisAsync();
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
        await using var connection = await TestServers.ConnectRedisAsync();
        var store = new RedisJtiReplayStore(connection, new FixedTimeProvider());
        var jti = Guid.NewGuid().ToString();

        Assert.True(await store.TryMarkUsedAsync("https://ehr-a.example", jti, Now.AddMinutes(5), CancellationToken.None));
        Assert.True(await store.TryMarkUsedAsync("https://ehr-b.example", jti, Now.AddMinutes(5), CancellationToken.None));
    }

    [RequiresRedisFact]
    public async Task Jti_IsRememberedUntilTheTokenExpires_AndNoLonger()
    {
        await using var connection = await TestServers.ConnectRedisAsync();
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
