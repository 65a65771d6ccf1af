namespace CdsHooks.Storage;

/// <summary>
/// Remembers the <c>jti</c> of every accepted client JWT until it expires, so a replayed token is refused
/// (CDS Hooks 2.0 §Trusting CDS Clients). In memory for one node; a shared store (Redis) for several.
/// </summary>
public interface IJtiReplayStore
{
    /// <summary>
    /// Records <paramref name="jti"/> of <paramref name="issuer"/> until <paramref name="expiresAt"/>.
    /// Returns true when it was not seen before (the token may be used), false when it is a replay.
    /// A store that cannot answer (down, or slower than its timeout) throws
    /// <see cref="StoreUnavailableException"/>: the token is then refused with 503 (fail closed), never
    /// accepted unchecked and never a 500. A token refused so may have been recorded all the same: clients sign a
    /// new one for each call.
    /// </summary>
    ValueTask<bool> TryMarkUsedAsync(string issuer, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken);
}
