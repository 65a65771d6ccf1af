namespace CdsHooks.Storage;

/// <summary>The answer of <c>GET /analytics/cards</c>.</summary>
public sealed class CardAnalyticsReport
{
    /// <summary>Start of the range, inclusive.</summary>
    public required DateTimeOffset From { get; init; }
    /// <summary>End of the range, exclusive.</summary>
    public required DateTimeOffset To { get; init; }
    /// <summary>One entry per service and card kind with any card issued, held back or reported on in the range.</summary>
    public required List<CardKindStatistics> Cards { get; init; }
    /// <summary>Feedback on card uuids this store never logged (issued by another node with its own store, or before the log existed).</summary>
    public required FeedbackCounts UnmatchedFeedback { get; init; }
}

public sealed class CardKindStatistics
{
    public required string ServiceId { get; init; }
    /// <summary>The card's <c>source.topic.code</c>, e.g. <c>iron-therapy</c>.</summary>
    public required string CardKind { get; init; }
    /// <summary>Cards issued in the range (a retried hook call with the same hookInstance counts once).</summary>
    public long Issued { get; set; }
    /// <summary>Distinct cards with an <c>accepted</c> report whose outcomeTimestamp is in the range.</summary>
    public long Accepted { get; set; }
    /// <summary>Distinct cards with an <c>overridden</c> report whose outcomeTimestamp is in the range.</summary>
    public long Overridden { get; set; }
    /// <summary>accepted / (accepted + overridden), rounded to 4 places; 0 when there is no feedback. Ignored cards are never reported (spec), so issued is not the denominator.</summary>
    public double AcceptanceRate { get; set; }
    /// <summary>Cards of this kind held back because a card of the kind was overridden for the patient within its lock-out (by time held back).</summary>
    public long LockOuts { get; set; }
    /// <summary>Reminders of this kind held back because one was already shown for the patient in the encounter (by time held back).</summary>
    public long RepeatsWithheld { get; set; }
    /// <summary>The most frequent override reasons (distinct cards), most frequent first.</summary>
    public List<OverrideReasonCount> TopOverrideReasons { get; init; } = [];

    public static double Rate(long accepted, long overridden) =>
        accepted + overridden == 0 ? 0 : Math.Round((double)accepted / (accepted + overridden), 4);
}

public sealed class OverrideReasonCount
{
    public string? System { get; init; }
    public required string Code { get; init; }
    public string? Display { get; init; }
    public long Count { get; init; }
}

public sealed class FeedbackCounts
{
    public long Accepted { get; set; }
    public long Overridden { get; set; }
}
