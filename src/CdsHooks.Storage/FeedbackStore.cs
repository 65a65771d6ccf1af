using System.Data.Common;

namespace CdsHooks.Storage;

/// <summary>How many reports of one feedback request were new and how many had been stored before.</summary>
public readonly record struct FeedbackSaveResult(int Stored, int AlreadyStored);

/// <summary>
/// Feedback rows: written in one committed transaction, each report once (its natural key is the primary key).
/// Every write's outcome goes to <see cref="StoreHealth"/> (<see cref="StoreHealth.Feedback"/>), so a full disk or a
/// database that is down makes <c>/health/ready</c> unhealthy; <see cref="ProbeWriteAsync"/> tells when it is over.
/// </summary>
public sealed class FeedbackStore(CdsDatabase database, StoreHealth health)
{
    private const string Insert = """
        INSERT INTO feedback (service_id, card_uuid, outcome, outcome_at, report_detail, accepted_suggestions, reason_system, reason_code, reason_display, received_at)
        VALUES (@service, @card, @outcome, @at, @detail, @accepted, @system, @code, @display, @received)
        ON CONFLICT DO NOTHING
        """;

    /// <summary>A service id no service has: the probe's row can never be mistaken for a report.</summary>
    private const string ProbeService = "(write probe)";

    /// <summary>Larger than a database page (in a column no index holds), so the probe needs free space as a real report would.</summary>
    private static readonly string ProbePadding = new('p', 8192);

    public async Task<FeedbackSaveResult> SaveAsync(string serviceId, IReadOnlyList<FeedbackReport> reports, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        try
        {
            var saved = await database.WriteAsync(async (connection, transaction) =>
            {
                var stored = 0;
                foreach (var report in reports)
                {
                    await using var command = InsertCommand(connection, transaction, serviceId, report.CardUuid, report.OutcomeCode, StoredTime.ToMicros(report.OutcomeAt), report.Detail, receivedAt)
                        .With("accepted", report.AcceptedSuggestionIds.Count == 0 ? null : string.Join(' ', report.AcceptedSuggestionIds))
                        .With("system", report.Reason?.System)
                        .With("code", report.Reason?.Code)
                        .With("display", report.Reason?.Display);
                    stored += await command.ExecuteNonQueryAsync(cancellationToken);
                }
                return new FeedbackSaveResult(stored, reports.Count - stored);
            }, cancellationToken);
            health.ReportSuccess(StoreHealth.Feedback);
            return saved;
        }
        catch (Exception ex) when (ex is DbException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            health.ReportFailure(StoreHealth.Feedback, StoreHealth.Describe(ex), ex);
            throw;
        }
    }

    /// <summary>
    /// Whether a feedback write would succeed now, without storing anything: one transaction inserts a row larger than
    /// a page (so it needs free space, as on a full disk a report would) and deletes it again before committing.
    /// Success ends a failure episode; run by readiness while feedback writes are failing, since a node taken out of
    /// rotation gets no feedback that could show it has recovered.
    /// </summary>
    public async Task ProbeWriteAsync(CancellationToken cancellationToken)
    {
        var card = Guid.NewGuid().ToString();
        await database.WriteAsync(async (connection, transaction) =>
        {
            await using (var insert = InsertCommand(connection, transaction, ProbeService, card, "probe", 0, "probe", DateTimeOffset.UnixEpoch)
                .With("accepted", null).With("system", null).With("code", null).With("display", ProbePadding))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var delete = CdsDatabase.Command(connection, transaction, "DELETE FROM feedback WHERE service_id = @service AND card_uuid = @card")
                .With("service", ProbeService)
                .With("card", card);
            return await delete.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);
        health.ReportSuccess(StoreHealth.Feedback);
    }

    private static DbCommand InsertCommand(DbConnection connection, DbTransaction transaction, string serviceId, string card, string outcome, long outcomeAt, string detail, DateTimeOffset receivedAt) =>
        CdsDatabase.Command(connection, transaction, Insert)
            .With("service", serviceId)
            .With("card", card)
            .With("outcome", outcome)
            .With("at", outcomeAt)
            .With("detail", detail)
            .With("received", StoredTime.ToMicros(receivedAt));
}
