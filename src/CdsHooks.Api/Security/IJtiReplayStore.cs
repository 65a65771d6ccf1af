namespace CdsHooks.Api.Security;

/// <summary>
/// Remembers the <c>jti</c> of every accepted client JWT until it expires, so a replayed token is refused
/// (CDS Hooks 2.0 §Trusting CDS Clients). In memory for one node; a shared store (Redis) for several.
/// </summary>
public interface IJtiReplayStore
{
    /// <summary>
    /// Records <paramref name="jti"/> of <paramref name="issuer"/> until <paramref name="expiresAt"/>.
    /// Returns true when it was not seen before (the token may be used), false when it is a replay.
    /// </summary>
    ValueTask<bool> TryMarkUsedAsync(string issuer, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken);
}
