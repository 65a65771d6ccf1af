namespace CdsHooks.Storage;

/// <summary>
/// Lock-outs applied per card kind (a card kind not shown again after an override): <see cref="LockOutCountQuery"/>
/// reads them from the card log's withheld cards (null while the lock-out is off: "not recorded").
/// </summary>
public interface ILockOutStatistics
{
    /// <summary>
    /// Lock-outs applied in [from, to) per card kind, for one service or all (<paramref name="serviceId"/> null); a kind
    /// missing from the answer had none. Null when this store does not record lock-outs.
    /// </summary>
    Task<IReadOnlyDictionary<string, long>?> CountByCardKindAsync(DateTimeOffset from, DateTimeOffset to, string? serviceId, CancellationToken cancellationToken);
}
