using System.Data.Common;
using System.Globalization;
using CdsHooks.Api.Analytics;

namespace CdsHooks.Api.Storage;

/// <summary>
/// The dashboard's figures over [from, to), optionally for one service: per card kind, totals and a weekly series
/// (weeks from Monday 00:00 UTC), override reasons and the suggestions accepted. Issued cards are counted by issue
/// time, feedback by <c>outcomeTimestamp</c>, joined to the card log on the card uuid (as in <see cref="CardStatisticsQuery"/>).
/// </summary>
public sealed class CardReportQuery(CdsDatabase database, ILockOutStatistics lockOuts)
{
    internal const long MicrosPerWeek = 7L * 24 * 3600 * 1_000_000;
    private const string Unknown = "unknown";

    // {0} is replaced by the service filter ("" or " AND c.service_id = @service"); the week is counted from @origin,
    // the Monday on or before @from, so every bucket number is 0 or more on both engines' integer division.
    private const string IssuedWeekly = """
        SELECT c.card_kind, (c.issued_at - @origin) / @week AS w, COUNT(*)
        FROM card_log c
        WHERE c.issued_at >= @from AND c.issued_at < @to{0}
        GROUP BY c.card_kind, (c.issued_at - @origin) / @week
        """;

    private const string OutcomesWeekly = """
        SELECT c.card_kind, f.outcome, (f.outcome_at - @origin) / @week AS w, COUNT(DISTINCT f.card_uuid)
        FROM feedback f JOIN card_log c ON c.card_uuid = f.card_uuid
        WHERE f.outcome_at >= @from AND f.outcome_at < @to{0}
        GROUP BY c.card_kind, f.outcome, (f.outcome_at - @origin) / @week
        """;

    private const string Outcomes = """
        SELECT c.card_kind, f.outcome, COUNT(DISTINCT f.card_uuid)
        FROM feedback f JOIN card_log c ON c.card_uuid = f.card_uuid
        WHERE f.outcome_at >= @from AND f.outcome_at < @to{0}
        GROUP BY c.card_kind, f.outcome
        """;

    private const string Reasons = """
        SELECT c.card_kind, f.reason_system, f.reason_code, MAX(f.reason_display), COUNT(DISTINCT f.card_uuid) AS cards
        FROM feedback f JOIN card_log c ON c.card_uuid = f.card_uuid
        WHERE f.outcome = 'overridden' AND f.reason_code IS NOT NULL AND f.outcome_at >= @from AND f.outcome_at < @to{0}
        GROUP BY c.card_kind, f.reason_system, f.reason_code
        ORDER BY cards DESC, f.reason_code
        """;

    private const string AcceptedSuggestions = """
        SELECT c.card_kind, f.card_uuid, f.accepted_suggestions, c.suggestion_uuids, c.suggestion_keys
        FROM feedback f JOIN card_log c ON c.card_uuid = f.card_uuid
        WHERE f.outcome = 'accepted' AND f.accepted_suggestions IS NOT NULL AND f.outcome_at >= @from AND f.outcome_at < @to{0}
        """;

    private const string Unmatched = """
        SELECT f.outcome, COUNT(DISTINCT f.card_uuid)
        FROM feedback f LEFT JOIN card_log c ON c.card_uuid = f.card_uuid
        WHERE c.card_uuid IS NULL AND f.outcome_at >= @from AND f.outcome_at < @to{1}
        GROUP BY f.outcome
        """;

    public async Task<CardReport> RunAsync(DateTimeOffset from, DateTimeOffset to, string? serviceId, IReadOnlyList<string> services, int topReasons, CancellationToken cancellationToken)
    {
        var firstWeek = WeekOf(from);
        var weeks = new List<DateOnly>();
        for (var w = firstWeek; w.ToDateTime(TimeOnly.MinValue) < to.UtcDateTime; w = w.AddDays(7)) weeks.Add(w);
        var origin = new DateTimeOffset(firstWeek.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var range = new Range(StoredTime.ToMicros(from), StoredTime.ToMicros(to), StoredTime.ToMicros(origin), serviceId);

        var kinds = new Dictionary<string, CardKindReport>(StringComparer.Ordinal);
        CardKindReport Kind(string kind)
        {
            if (!kinds.TryGetValue(kind, out var k))
            {
                k = new CardKindReport { CardKind = kind, Weekly = [.. weeks.Select(w => new WeeklyCounts { Week = w })] };
                kinds[kind] = k;
            }
            return k;
        }
        WeeklyCounts? Week(CardKindReport k, long bucket) => bucket >= 0 && bucket < k.Weekly.Count ? k.Weekly[(int)bucket] : null;

        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await ReadAsync(connection, IssuedWeekly, range, r =>
            {
                var k = Kind(r.GetString(0));
                var n = Count(r, 2);
                k.Issued += n;
                Week(k, Count(r, 1))?.Issued += n;
            }, cancellationToken);
            await ReadAsync(connection, OutcomesWeekly, range, r =>
            {
                if (Week(Kind(r.GetString(0)), Count(r, 2)) is not { } week) return;
                if (r.GetString(1) == "accepted") week.Accepted = Count(r, 3);
                else week.Overridden = Count(r, 3);
            }, cancellationToken);
            await ReadAsync(connection, Outcomes, range, r =>
            {
                var k = Kind(r.GetString(0));
                if (r.GetString(1) == "accepted") k.Accepted = Count(r, 2);
                else k.Overridden = Count(r, 2);
            }, cancellationToken);
            await ReadAsync(connection, Reasons, range, r =>
            {
                var k = Kind(r.GetString(0));
                if (k.OverrideReasons.Count >= topReasons) return;
                k.OverrideReasons.Add(new OverrideReasonCount
                {
                    System = r.IsDBNull(1) ? null : r.GetString(1),
                    Code = r.GetString(2),
                    Display = r.IsDBNull(3) ? null : r.GetString(3),
                    Count = Count(r, 4),
                });
            }, cancellationToken);

            // Accepted suggestion ids are matched to the card's suggestions by position, then named by the stored key.
            var accepted = new HashSet<(string Kind, string Card, string Key)>();
            await ReadAsync(connection, AcceptedSuggestions, range, r =>
            {
                var kind = r.GetString(0);
                var card = r.GetString(1);
                var offered = r.GetString(3).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var keys = r.IsDBNull(4) ? null : r.GetString(4);
                foreach (var id in r.GetString(2).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var position = Array.IndexOf(offered, id);
                    accepted.Add((kind, card, position < 0 ? Unknown : SuggestionKeys.At(keys, position)));
                }
            }, cancellationToken);
            foreach (var group in accepted.GroupBy(a => (a.Kind, a.Key)))
            {
                Kind(group.Key.Kind).SuggestionsAccepted.Add(new SuggestionCount { Key = group.Key.Key, Accepted = group.LongCount() });
            }

            var unmatched = new FeedbackCounts();
            await ReadAsync(connection, Unmatched, range, r =>
            {
                if (r.GetString(0) == "accepted") unmatched.Accepted = Count(r, 1);
                else unmatched.Overridden = Count(r, 1);
            }, cancellationToken);

            var lockOutCounts = await lockOuts.CountByCardKindAsync(from, to, serviceId, cancellationToken);
            foreach (var k in kinds.Values)
            {
                k.AcceptanceRate = CardKindReport.Rate(k.Accepted, k.Overridden);
                foreach (var w in k.Weekly) w.AcceptanceRate = CardKindReport.Rate(w.Accepted, w.Overridden);
                k.SuggestionsAccepted.Sort((a, b) => b.Accepted != a.Accepted ? b.Accepted.CompareTo(a.Accepted) : string.CompareOrdinal(a.Key, b.Key));
                if (lockOutCounts is not null) k.LockOuts = lockOutCounts.GetValueOrDefault(k.CardKind);
            }

            return new CardReport
            {
                From = from,
                To = to,
                ServiceId = serviceId,
                Services = [.. services],
                Weeks = weeks,
                LockOutsRecorded = lockOutCounts is not null,
                CardKinds = [.. kinds.Values.OrderByDescending(k => k.Issued).ThenBy(k => k.CardKind, StringComparer.Ordinal)],
                UnmatchedFeedback = unmatched,
            };
        }
    }

    /// <summary>Monday of the (UTC) week holding <paramref name="instant"/>.</summary>
    public static DateOnly WeekOf(DateTimeOffset instant)
    {
        var day = DateOnly.FromDateTime(instant.UtcDateTime);
        return day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
    }

    private readonly record struct Range(long From, long To, long Origin, string? ServiceId);

    private static long Count(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    private static async Task ReadAsync(DbConnection connection, string sql, Range range, Action<DbDataReader> row, CancellationToken cancellationToken)
    {
        var filtered = range.ServiceId is null
            ? string.Format(CultureInfo.InvariantCulture, sql, "", "")
            : string.Format(CultureInfo.InvariantCulture, sql, " AND c.service_id = @service", " AND f.service_id = @service");
        await using var command = CdsDatabase.Command(connection, null, filtered)
            .With("from", range.From)
            .With("to", range.To);
        if (filtered.Contains("@origin", StringComparison.Ordinal)) command.With("origin", range.Origin).With("week", MicrosPerWeek);
        if (range.ServiceId is not null) command.With("service", range.ServiceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) row(reader);
    }
}
