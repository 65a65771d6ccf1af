using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CdsHooks.Storage;

/// <summary>
/// Ready when the database answers a trivial query and its writers (feedback, card log) are not failing, as they
/// report to <see cref="StoreHealth"/>: a full disk lets reads through but not writes. While feedback writes are
/// failing each check probes a write, so readiness comes back by itself once there is room again.
/// </summary>
internal sealed class StorageHealthCheck(CdsDatabase database, FeedbackStore feedback, StoreHealth health) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await AnswerAsync(cancellationToken).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{database.Provider} does not answer: {StoreHealth.Describe(ex)}");
        }
        if (health.IsFailing(StoreHealth.Feedback))
        {
            try
            {
                await feedback.ProbeWriteAsync(cancellationToken).WaitAsync(cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Still failing: the episode and its reason stand; a probe is not counted as a failed operation.
            }
        }
        var failing = health.Failing.Where(f => f.Component != StoreHealth.Redis).ToList();
        return failing.Count == 0
            ? HealthCheckResult.Healthy(database.Provider)
            : HealthCheckResult.Unhealthy($"{database.Provider}: " + string.Join("; ", failing.Select(f =>
                $"{f.Component} writes failing since {f.Since:yyyy-MM-ddTHH:mm:ssZ} ({f.Failures} failed): {f.Reason}")));
    }

    private async Task AnswerAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = CdsDatabase.Command(connection, null, "SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }
}

/// <summary>
/// Ready when Redis takes a write (a short-lived key) within the operation timeout: without it no node can check a
/// jti. A write rather than PING, so a Redis that answers but refuses writes (out of memory, a read-only replica)
/// is not ready either.
/// </summary>
internal sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    private const string ProbeKey = "cds:ready-probe";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            await redis.RunAsync(db => db.StringSetAsync(ProbeKey, 1, TimeSpan.FromSeconds(5)), cancellationToken);
            return HealthCheckResult.Healthy($"redis {TimeProvider.System.GetElapsedTime(started).TotalMilliseconds:0.0} ms");
        }
        catch (StoreUnavailableException ex)
        {
            return HealthCheckResult.Unhealthy("redis: " + ex.Reason);
        }
    }
}
