using System.Security.Cryptography;
using System.Text;
using CdsHooks.Api.Security;
using StackExchange.Redis;

namespace CdsHooks.Api.Storage;

/// <summary>
/// The jti replay store shared by every node (CDS Hooks 2.0 §Trusting CDS Clients: a jti is used once): one atomic
/// <c>SET key 1 PX ttl NX</c> per token, so whichever node sees a jti first wins and every other node refuses it.
/// Redis errors propagate: the caller must treat them as "cannot verify" (fail closed), never as "not a replay".
/// </summary>
public sealed class RedisJtiReplayStore(IConnectionMultiplexer redis, TimeProvider clock) : IJtiReplayStore
{
    /// <summary>A token expiring now is still remembered this long, so a replay within the validator's clock skew is caught.</summary>
    public static readonly TimeSpan MinimumRetention = TimeSpan.FromSeconds(1);

    public async ValueTask<bool> TryMarkUsedAsync(string issuer, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var ttl = expiresAt - clock.GetUtcNow();
        if (ttl < MinimumRetention) ttl = MinimumRetention;
        return await redis.GetDatabase().StringSetAsync(Key(issuer, jti), 1, ttl, When.NotExists);
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
