using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace CdsHooks.Storage;

/// <summary>
/// The jti replay store shared by every node (CDS Hooks 2.0 §Trusting CDS Clients: a jti is used once): one atomic
/// <c>SET key 1 PX ttl NX</c> per token, so whichever node sees a jti first wins and every other node refuses it.
/// When Redis fails or does not answer within <see cref="RedisOptions.OperationTimeout"/> this throws
/// <see cref="StoreUnavailableException"/>: the token cannot be checked, so it is not accepted (fail closed, 503).
/// </summary>
internal sealed class RedisJtiReplayStore(RedisConnection redis, TimeProvider clock) : IJtiReplayStore
{
    /// <summary>A token expiring now is still remembered this long, so a replay within the validator's clock skew is caught.</summary>
    public static readonly TimeSpan MinimumRetention = TimeSpan.FromSeconds(1);

    public async ValueTask<bool> TryMarkUsedAsync(string issuer, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var ttl = expiresAt - clock.GetUtcNow();
        if (ttl < MinimumRetention) ttl = MinimumRetention;
        var key = Key(issuer, jti);
        return await redis.RunAsync(db => db.StringSetAsync(key, 1, ttl, When.NotExists), cancellationToken);
    }

    /// <summary>
    /// A fixed-length key: issuer and jti come from the client, so they are hashed rather than used raw (no size
    /// limit to police, no key-space collisions between issuers).
    /// </summary>
    public static string Key(string issuer, string jti)
    {
        // Length-prefixed, so no (issuer, jti) pair can be spelled like another.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{issuer.Length}:{issuer}{jti}"));
        return "cds:jti:" + Convert.ToHexStringLower(hash);
    }
}
