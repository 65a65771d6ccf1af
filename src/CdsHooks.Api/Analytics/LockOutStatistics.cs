namespace CdsHooks.Api.Analytics;

/// <summary>
/// Lock-outs applied per card kind (a card kind not shown again after an override). The seam for the lock-out store:
/// its implementation replaces <see cref="LockOutsNotRecorded"/> in <see cref="AnalyticsExtensions.AddCardAnalytics"/>,
/// and the report and dashboard then show the figures (the page's column is already there).
/// </summary>
public interface ILockOutStatistics
{
    /// <summary>
    /// Lock-outs applied in [from, to) per card kind, for one service or all (<paramref name="serviceId"/> null); a kind
    /// missing from the answer had none. Null when this store does not record lock-outs.
    /// </summary>
    Task<IReadOnlyDictionary<string, long>?> CountByCardKindAsync(DateTimeOffset from, DateTimeOffset to, string? serviceId, CancellationToken cancellationToken);
}

/// <summary>This build records no lock-outs: the report says so and the dashboard shows "not recorded".</summary>
public sealed class LockOutsNotRecorded : ILockOutStatistics
{
    public Task<IReadOnlyDictionary<string, long>?> CountByCardKindAsync(DateTimeOffset from, DateTimeOffset to, string? serviceId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, long>?>(null);
}
