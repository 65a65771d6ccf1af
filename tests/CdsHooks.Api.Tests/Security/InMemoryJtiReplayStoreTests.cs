using CdsHooks.Api.Security;
using CdsHooks.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Tests.Security;

public sealed class InMemoryJtiReplayStoreTests
{
    private readonly FixedTimeProvider _clock = new();

    private InMemoryJtiReplayStore Store(int capacity = 1000) =>
        new(_clock, Options.Create(new CdsClientSecurityOptions { ReplayCacheCapacity = capacity }), NullLogger<InMemoryJtiReplayStore>.Instance);

    private DateTimeOffset In(int minutes) => _clock.GetUtcNow().AddMinutes(minutes);

    [Fact]
    public async Task SameJti_SecondTimeWhileLive_IsAReplay()
    {
        var store = Store();
        Assert.True(await store.TryMarkUsedAsync("iss", "j1", In(5), default));
        Assert.False(await store.TryMarkUsedAsync("iss", "j1", In(5), default));
        Assert.True(await store.TryMarkUsedAsync("other-iss", "j1", In(5), default));
    }

    [Fact]
    public async Task ExpiredEntries_ArePurged_SoMemoryStaysBounded()
    {
        var store = Store();
        for (var i = 0; i < 500; i++) Assert.True(await store.TryMarkUsedAsync("iss", $"j{i}", In(5), default));
        Assert.Equal(500, store.Count);

        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.True(await store.TryMarkUsedAsync("iss", "fresh", In(5), default));
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task AtCapacity_RefusesNewTokens_UntilEntriesExpire()
    {
        var store = Store(capacity: 1000);
        for (var i = 0; i < 1000; i++) Assert.True(await store.TryMarkUsedAsync("iss", $"j{i}", In(5), default));

        Assert.False(await store.TryMarkUsedAsync("iss", "one-too-many", In(5), default));
        Assert.Equal(1000, store.Count);

        _clock.Advance(TimeSpan.FromMinutes(6));
        Assert.True(await store.TryMarkUsedAsync("iss", "one-too-many", In(5), default));
    }

    [Fact]
    public async Task ConcurrentUse_OfOneJti_AdmitsExactlyOne()
    {
        var store = Store();
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () => await store.TryMarkUsedAsync("iss", "race", In(5), default))));
        Assert.Single(results, r => r);
    }
}
