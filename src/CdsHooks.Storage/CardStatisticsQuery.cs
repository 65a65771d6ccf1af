using System.Data.Common;
using System.Globalization;

namespace CdsHooks.Storage;

/// <summary>
/// Counts per service and card kind over [from, to): cards issued (by issue time), cards held back by the lock-out (by
/// the time they were held back) and cards with feedback (by <c>outcomeTimestamp</c>), joined on the card uuid. Feedback on cards missing from the log is counted apart.
/// </summary>
public sealed class CardStatisticsQuery(CdsDatabase database)
{
    private const string Issued = """
        SELECT service_id, card_kind, COUNT(*)
        FROM card_log
        WHERE issued_at >= @from AND issued_at < @to
        GROUP BY service_id, card_kind
        """;

    private const string Withheld = """
        SELECT service_id, card_kind, reason, COUNT(*)
        FROM card_withheld
        WHERE withheld_at >= @from AND withheld_at < @to
        GROUP BY service_id, card_kind, reason
        """;

    private const string Outcomes = """
        SELECT c.service_id, c.card_kind, f.outcome, COUNT(DISTINCT f.card_uuid)
        FROM feedback f JOIN card_log c ON c.card_uuid = f.card_uuid
        WHERE f.outcome_at >= @from AND f.outcome_at < @to
        GROUP BY c.service_id, c.card_kind, f.outcome
        """;

    private const string Unmatched = """
        SELECT f.outcome, COUNT(DISTINCT f.card_uuid)
        FROM feedback f LEFT JOIN card_log c ON c.card_uuid = f.card_uuid
        WHERE c.card_uuid IS NULL AND f.outcome_at >= @from AND f.outcome_at < @to
        GROUP BY f.outcome
        """;

    private const string Reasons = """
        SELECT c.service_id, c.card_kind, f.reason_system, f.reason_code, MAX(f.reason_display), COUNT(DISTINCT f.card_uuid) AS cards
        FROM feedback f JOIN card_log c ON c.card_uuid = f.card_uuid
        WHERE f.outcome = 'overridden' AND f.reason_code IS NOT NULL AND f.outcome_at >= @from AND f.outcome_at < @to
        GROUP BY c.service_id, c.card_kind, f.reason_system, f.reason_code
        ORDER BY cards DESC, f.reason_code
        """;

    public async Task<CardAnalyticsReport> RunAsync(DateTimeOffset from, DateTimeOffset to, int topReasons, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var groups = new SortedDictionary<(string Service, string Kind), CardKindStatistics>();
        CardKindStatistics Group(DbDataReader r) =>
            groups.TryGetValue((r.GetString(0), r.GetString(1)), out var g)
                ? g
                : groups[(r.GetString(0), r.GetString(1))] = new CardKindStatistics { ServiceId = r.GetString(0), CardKind = r.GetString(1) };

        await ReadAsync(connection, Issued, from, to, r => Group(r).Issued = Count(r, 2), cancellationToken);
        await ReadAsync(connection, Withheld, from, to, r =>
        {
            var g = Group(r);
            if (r.GetString(2) == WithheldCard.Code(WithholdReason.LockOut)) g.LockOuts = Count(r, 3);
            else g.RepeatsWithheld = Count(r, 3);
        }, cancellationToken);
        await ReadAsync(connection, Outcomes, from, to, r =>
        {
            var g = Group(r);
            if (r.GetString(2) == "accepted") g.Accepted = Count(r, 3);
            else g.Overridden = Count(r, 3);
        }, cancellationToken);
        await ReadAsync(connection, Reasons, from, to, r =>
        {
            var g = Group(r);
            if (g.TopOverrideReasons.Count < topReasons)
            {
                g.TopOverrideReasons.Add(new OverrideReasonCount
                {
                    System = r.IsDBNull(2) ? null : r.GetString(2),
                    Code = r.GetString(3),
                    Display = r.IsDBNull(4) ? null : r.GetString(4),
                    Count = Count(r, 5),
                });
            }
        }, cancellationToken);
        var unmatched = new FeedbackCounts();
        await ReadAsync(connection, Unmatched, from, to, r =>
        {
            if (r.GetString(0) == "accepted") unmatched.Accepted = Count(r, 1);
            else unmatched.Overridden = Count(r, 1);
        }, cancellationToken);

        foreach (var g in groups.Values) g.AcceptanceRate = CardKindStatistics.Rate(g.Accepted, g.Overridden);
        return new CardAnalyticsReport { From = from, To = to, Cards = [.. groups.Values], UnmatchedFeedback = unmatched };
    }

    private static long Count(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    private static async Task ReadAsync(DbConnection connection, string sql, DateTimeOffset from, DateTimeOffset to, Action<DbDataReader> row, CancellationToken cancellationToken)
    {
        await using var command = CdsDatabase.Command(connection, null, sql)
            .With("from", StoredTime.ToMicros(from))
            .With("to", StoredTime.ToMicros(to));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) row(reader);
    }
}
