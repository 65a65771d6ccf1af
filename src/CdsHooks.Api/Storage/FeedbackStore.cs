using CdsHooks.Api.Feedback;

namespace CdsHooks.Api.Storage;

/// <summary>How many reports of one feedback request were new and how many had been stored before.</summary>
public readonly record struct FeedbackSaveResult(int Stored, int AlreadyStored);

/// <summary>Feedback rows: written in one committed transaction, each report once (its natural key is the primary key).</summary>
public sealed class FeedbackStore(CdsDatabase database)
{
    private const string Insert = """
        INSERT INTO feedback (service_id, card_uuid, outcome, outcome_at, report_detail, accepted_suggestions, reason_system, reason_code, reason_display, received_at)
        VALUES (@service, @card, @outcome, @at, @detail, @accepted, @system, @code, @display, @received)
        ON CONFLICT DO NOTHING
        """;

    public Task<FeedbackSaveResult> SaveAsync(string serviceId, IReadOnlyList<FeedbackReport> reports, DateTimeOffset receivedAt, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var stored = 0;
            foreach (var report in reports)
            {
                await using var command = CdsDatabase.Command(connection, transaction, Insert)
                    .With("service", serviceId)
                    .With("card", report.CardUuid)
                    .With("outcome", report.OutcomeCode)
                    .With("at", StoredTime.ToMicros(report.OutcomeAt))
                    .With("detail", report.Detail)
                    .With("accepted", report.AcceptedSuggestionIds.Count == 0 ? null : string.Join(' ', report.AcceptedSuggestionIds))
                    .With("system", report.Reason?.System)
                    .With("code", report.Reason?.Code)
                    .With("display", report.Reason?.Display)
                    .With("received", StoredTime.ToMicros(receivedAt));
                stored += await command.ExecuteNonQueryAsync(cancellationToken);
            }
            return new FeedbackSaveResult(stored, reports.Count - stored);
        }, cancellationToken);
}
