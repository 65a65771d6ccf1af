namespace CdsHooks.Storage;

/// <summary>
/// The answer of <c>GET /analytics/cards/report</c> and <c>GET /dashboard/api/report</c>: per card kind over [from, to),
/// optionally for one service, the totals, a weekly series, the override reasons and the suggestions accepted. The
/// dashboard draws exactly this and nothing else.
/// </summary>
public sealed class CardReport
{
    /// <summary>Start of the range, inclusive.</summary>
    public required DateTimeOffset From { get; init; }
    /// <summary>End of the range, exclusive.</summary>
    public required DateTimeOffset To { get; init; }
    /// <summary>The service the figures are limited to; absent for all services.</summary>
    public string? ServiceId { get; init; }
    /// <summary>Every service id the filter accepts.</summary>
    public required List<string> Services { get; init; }
    /// <summary>
    /// The weeks of the series: Monday 00:00 UTC of each week that overlaps the range, oldest first. The first and last
    /// week may be cut by the range.
    /// </summary>
    public required List<DateOnly> Weeks { get; init; }
    /// <summary>
    /// True when this store records lock-outs (a card kind not shown again after an override); otherwise every
    /// <see cref="CardKindReport.LockOuts"/> is absent.
    /// </summary>
    public bool LockOutsRecorded { get; init; }
    /// <summary>One entry per card kind with a card issued or feedback in the range, most issued first.</summary>
    public required List<CardKindReport> CardKinds { get; init; }
    /// <summary>Feedback on card uuids this store never logged (another node's own store, or before the log existed).</summary>
    public required FeedbackCounts UnmatchedFeedback { get; init; }
}

public sealed class CardKindReport
{
    /// <summary>The card's <c>source.topic.code</c>, e.g. <c>iron-therapy</c>.</summary>
    public required string CardKind { get; init; }
    /// <summary>Cards issued in the range.</summary>
    public long Issued { get; set; }
    /// <summary>Distinct cards with an <c>accepted</c> report whose outcomeTimestamp is in the range.</summary>
    public long Accepted { get; set; }
    /// <summary>Distinct cards with an <c>overridden</c> report whose outcomeTimestamp is in the range.</summary>
    public long Overridden { get; set; }
    /// <summary>accepted / (accepted + overridden), 4 places; absent when there is no feedback (ignored cards are never reported).</summary>
    public double? AcceptanceRate { get; set; }
    /// <summary>Lock-outs applied in the range; absent when the store does not record them (<see cref="CardReport.LockOutsRecorded"/>).</summary>
    public long? LockOuts { get; set; }
    /// <summary>One entry per week of <see cref="CardReport.Weeks"/>, in the same order.</summary>
    public required List<WeeklyCounts> Weekly { get; init; }
    /// <summary>Override reasons by distinct overridden cards, most frequent first (at most <c>Analytics:TopOverrideReasons</c>).</summary>
    public List<OverrideReasonCount> OverrideReasons { get; init; } = [];
    /// <summary>Which suggestions were accepted, by stable key, most accepted first.</summary>
    public List<SuggestionCount> SuggestionsAccepted { get; init; } = [];

    public static double? Rate(long accepted, long overridden) =>
        accepted + overridden == 0 ? null : Math.Round((double)accepted / (accepted + overridden), 4);
}

public sealed class WeeklyCounts
{
    /// <summary>Monday of the week (UTC).</summary>
    public required DateOnly Week { get; init; }
    public long Issued { get; set; }
    public long Accepted { get; set; }
    public long Overridden { get; set; }
    /// <summary>accepted / (accepted + overridden) in that week; absent without feedback that week.</summary>
    public double? AcceptanceRate { get; set; }
}

public sealed class SuggestionCount
{
    /// <summary>
    /// The suggestion's stable key within its card kind (e.g. <c>iv</c>, <c>remove</c>), or <c>#n</c> (its position in
    /// the card) when the card log holds no key for it, or <c>unknown</c> when the accepted id is not one of the card's.
    /// </summary>
    public required string Key { get; init; }
    /// <summary>Distinct cards on which this suggestion was accepted.</summary>
    public long Accepted { get; set; }
}
