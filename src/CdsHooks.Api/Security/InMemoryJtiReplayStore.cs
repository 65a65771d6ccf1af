using System.Collections.Concurrent;
using CdsHooks.Storage;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Security;

/// <summary>
/// The single-node replay store: each <c>jti</c> is remembered until its token expires (plus skew), expired entries
/// are purged at most once a minute, and the number of entries is capped (<see cref="CdsClientSecurityOptions.ReplayCacheCapacity"/>).
/// At the cap new tokens are refused rather than forgetting live ones, which would re-open replays; a warning says so.
/// Several nodes need a shared store (register another <see cref="IJtiReplayStore"/>).
/// </summary>
public sealed partial class InMemoryJtiReplayStore(TimeProvider clock, IOptions<CdsClientSecurityOptions> options, ILogger<InMemoryJtiReplayStore> logger) : IJtiReplayStore
{
    private static readonly TimeSpan PurgeEvery = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<(string Issuer, string Jti), DateTimeOffset> _seen = new();
    private readonly int _capacity = options.Value.ReplayCacheCapacity;
    private readonly Lock _purgeLock = new();
    private long _nextPurgeTicks;
    private int _count;

    /// <summary>Entries currently remembered (expired ones included until the next purge).</summary>
    public int Count => Volatile.Read(ref _count);

    public ValueTask<bool> TryMarkUsedAsync(string issuer, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        PurgeExpired(now, force: false);
        var key = (issuer, jti);
        if (_seen.TryGetValue(key, out var until))
        {
            // A remembered jti whose token has expired is not a live replay; the entry is simply due for purging.
            return ValueTask.FromResult(until <= now && _seen.TryUpdate(key, expiresAt, until));
        }
        if (Count >= _capacity)
        {
            PurgeExpired(now, force: true);
            if (Count >= _capacity)
            {
                LogFull(logger, _capacity);
                return ValueTask.FromResult(false);
            }
        }
        if (!_seen.TryAdd(key, expiresAt)) return ValueTask.FromResult(false);
        Interlocked.Increment(ref _count);
        return ValueTask.FromResult(true);
    }

    private void PurgeExpired(DateTimeOffset now, bool force)
    {
        if (!force && now.UtcTicks < Volatile.Read(ref _nextPurgeTicks)) return;
        if (!_purgeLock.TryEnter()) return;
        try
        {
            Volatile.Write(ref _nextPurgeTicks, (now + PurgeEvery).UtcTicks);
            foreach (var entry in _seen)
            {
                if (entry.Value <= now && _seen.TryRemove(entry)) Interlocked.Decrement(ref _count);
            }
        }
        finally
        {
            _purgeLock.Exit();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "jti replay store is full ({Capacity} live tokens): refusing new tokens. Raise Security:ReplayCacheCapacity or use a shared store")]
    private static partial void LogFull(ILogger logger, int capacity);
}
