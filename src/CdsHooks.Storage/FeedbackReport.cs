namespace CdsHooks.Storage;

public enum FeedbackOutcome
{
    Accepted,
    Overridden,
}

/// <summary>An override reason the clinician picked from the card's <c>overrideReasons</c> (a CDS Hooks Coding).</summary>
public sealed record OverrideCode(string System, string Code, string? Display);

/// <summary>
/// One validated feedback entry (CDS Hooks 2.0 §Feedback), normalised: lower-case uuids, UTC time, sorted suggestion ids.
/// The clinician's free-text <c>userComment</c> is deliberately not kept: free text can carry patient identifiers.
/// </summary>
public sealed record FeedbackReport(string CardUuid, FeedbackOutcome Outcome, DateTimeOffset OutcomeAt, IReadOnlyList<string> AcceptedSuggestionIds, OverrideCode? Reason)
{
    public string OutcomeCode => Outcome == FeedbackOutcome.Accepted ? "accepted" : "overridden";

    /// <summary>
    /// What tells two reports on the same card, outcome and instant apart: the suggestions accepted, or the override reason.
    /// The spec lets a card be reported more than once (another outcome, another suggestion, later); a client retrying
    /// the same report sends the same values, so (service, card, outcome, time, detail) is stored once.
    /// </summary>
    public string Detail => Outcome == FeedbackOutcome.Accepted
        ? string.Join(' ', AcceptedSuggestionIds)
        : Reason is null ? "" : Reason.System + "|" + Reason.Code;
}
