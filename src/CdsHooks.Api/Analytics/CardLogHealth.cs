using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CdsHooks.Api.Analytics;

/// <summary>The card log's state now, read from memory (cheap: for readiness probes and dashboards).</summary>
/// <param name="FailingSince">When store writes started failing (null while they succeed).</param>
/// <param name="LastError">The last failure (exception type and message; no credentials), while failing.</param>
/// <param name="SpooledCards">Cards in the spool waiting for the store.</param>
/// <param name="QueuedCards">Cards in memory waiting for the writer.</param>
/// <param name="DroppedCards">Cards dropped since start (spool at its bound, or the writer stuck).</param>
public readonly record struct CardLogStatus(DateTimeOffset? FailingSince, string? LastError, int SpooledCards, int QueuedCards, long DroppedCards)
{
    public bool IsFailing => FailingSince is not null;
}

/// <summary>Whether the card log's store takes writes: failing since when, and what waits in the spool.</summary>
public interface ICardLogHealth
{
    CardLogStatus Status { get; }
}

/// <summary>
/// Readiness entry <c>card-log</c>: the registration's failure status (Unhealthy unless registered otherwise) while store
/// writes fail, with since when and how many cards wait in the spool; healthy again after the first write that succeeds
/// (the writer retries at least every 2 s). Hook answers never wait on the card log either way.
/// </summary>
public sealed class CardLogHealthCheck(ICardLogHealth cardLog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var s = cardLog.Status;
        var data = new Dictionary<string, object>
        {
            ["spooledCards"] = s.SpooledCards,
            ["queuedCards"] = s.QueuedCards,
            ["droppedCards"] = s.DroppedCards,
        };
        if (s.FailingSince is { } since)
        {
            data["failingSince"] = since;
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus,
                $"card log: store writes failing since {since:O} ({s.LastError}); {s.SpooledCards} cards in the spool", data: data));
        }
        return Task.FromResult(HealthCheckResult.Healthy(
            s.SpooledCards > 0 ? $"card log: replaying {s.SpooledCards} spooled cards" : "card log: writing", data));
    }
}
