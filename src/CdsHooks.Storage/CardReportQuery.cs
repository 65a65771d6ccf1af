using System.Data.Common;
using System.Globalization;

namespace CdsHooks.Storage;

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

    // Every feedback row of the range with its card (if the log has it), read once: the weekly and total outcome counts,
    // the reasons, the suggestions and the feedback on unknown cards are folded from it here (one pass over the join
    // instead of five). {1} filters on the card's service, or on the feedback's for a card the log never saw.
    private const string Feedback = """
        SELECT c.card_kind, f.card_uuid, f.outcome, (f.outcome_at - @origin) / @week AS w,
               f.reason_system, f.reason_code, f.reason_display, f.accepted_suggestions, c.suggestion_uuids, c.suggestion_keys
        FROM feedback f LEFT JOIN card_log c ON c.card_uuid = f.card_uuid
        WHERE f.outcome_at >= @from AND f.outcome_at < @to{1}
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
            var outcomes = new FeedbackFold();
            await ReadAsync(connection, Feedback, range, outcomes.Add, cancellationToken);
            outcomes.Into(Kind, Week, topReasons);

            var lockOutCounts = await lockOuts.CountByCardKindAsync(from, to, serviceId, cancellationToken);
            // A kind that was only held back in the period still has a row (issued 0, its lock-outs).
            foreach (var kind in lockOutCounts?.Keys ?? Enumerable.Empty<string>()) Kind(kind);
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
                UnmatchedFeedback = outcomes.Unmatched,
            };
        }
    }

    /// <summary>
    /// Distinct cards per kind and outcome (in the range and per week), per override reason, and per accepted suggestion,
    /// from the rows of <see cref="Feedback"/>. A card reported twice (a retry under another timestamp, or accepted
    /// twice) counts once, as <c>COUNT(DISTINCT card_uuid)</c> would.
    /// </summary>
    private sealed class FeedbackFold
    {
        private readonly HashSet<(string Kind, bool Accepted, string Card)> _total = [];
        private readonly HashSet<(string Kind, bool Accepted, long Week, string Card)> _weekly = [];
        private readonly Dictionary<(string Kind, string? System, string Code), (string? Display, HashSet<string> Cards)> _reasons = [];
        private readonly HashSet<(string Kind, string Card, string Key)> _suggestions = [];
        private readonly HashSet<(bool Accepted, string Card)> _unmatched = [];

        /// <summary>Feedback on cards this store never logged (another node's own store, or before the log existed).</summary>
        public FeedbackCounts Unmatched => new()
        {
            Accepted = _unmatched.LongCount(u => u.Accepted),
            Overridden = _unmatched.LongCount(u => !u.Accepted),
        };

        public void Add(DbDataReader r)
        {
            var card = r.GetString(1);
            var accepted = r.GetString(2) == "accepted";
            if (r.IsDBNull(0))
            {
                _unmatched.Add((accepted, card));
                return;
            }
            var kind = r.GetString(0);
            _total.Add((kind, accepted, card));
            _weekly.Add((kind, accepted, Count(r, 3), card));
            if (!accepted && !r.IsDBNull(5))
            {
                var key = (kind, r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5));
                var display = r.IsDBNull(6) ? null : r.GetString(6);
                if (!_reasons.TryGetValue(key, out var reason)) reason = (display, []);
                reason.Cards.Add(card);
                // The same code may come with different displays: keep one deterministically (as MAX() would).
                _reasons[key] = (string.CompareOrdinal(display, reason.Display) > 0 ? display : reason.Display, reason.Cards);
            }
            if (accepted && !r.IsDBNull(7))
            {
                // Accepted ids are matched to the card's suggestions by position, then named by the stored key.
                var offered = r.GetString(8).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var keys = r.IsDBNull(9) ? null : r.GetString(9);
                foreach (var id in r.GetString(7).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var position = Array.IndexOf(offered, id);
                    _suggestions.Add((kind, card, position < 0 ? Unknown : SuggestionKeys.At(keys, position)));
                }
            }
        }

        public void Into(Func<string, CardKindReport> kindOf, Func<CardKindReport, long, WeeklyCounts?> weekOf, int topReasons)
        {
            foreach (var g in _total.GroupBy(t => (t.Kind, t.Accepted)))
            {
                if (g.Key.Accepted) kindOf(g.Key.Kind).Accepted = g.LongCount();
                else kindOf(g.Key.Kind).Overridden = g.LongCount();
            }
            foreach (var g in _weekly.GroupBy(t => (t.Kind, t.Accepted, t.Week)))
            {
                if (weekOf(kindOf(g.Key.Kind), g.Key.Week) is not { } week) continue;
                if (g.Key.Accepted) week.Accepted = g.LongCount();
                else week.Overridden = g.LongCount();
            }
            foreach (var byKind in _reasons.GroupBy(r => r.Key.Kind))
            {
                kindOf(byKind.Key).OverrideReasons.AddRange(byKind
                    .OrderByDescending(r => r.Value.Cards.Count).ThenBy(r => r.Key.Code, StringComparer.Ordinal)
                    .Take(topReasons)
                    .Select(r => new OverrideReasonCount { System = r.Key.System, Code = r.Key.Code, Display = r.Value.Display, Count = r.Value.Cards.Count }));
            }
            foreach (var g in _suggestions.GroupBy(a => (a.Kind, a.Key)))
            {
                kindOf(g.Key.Kind).SuggestionsAccepted.Add(new SuggestionCount { Key = g.Key.Key, Accepted = g.LongCount() });
            }
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
            : string.Format(CultureInfo.InvariantCulture, sql, " AND c.service_id = @service", " AND COALESCE(c.service_id, f.service_id) = @service");
        await using var command = CdsDatabase.Command(connection, null, filtered)
            .With("from", range.From)
            .With("to", range.To);
        if (filtered.Contains("@origin", StringComparison.Ordinal)) command.With("origin", range.Origin).With("week", MicrosPerWeek);
        if (range.ServiceId is not null) command.With("service", range.ServiceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) row(reader);
    }
}
