using CdsHooks.Fhir;

namespace CdsHooks.Protocol;

/// <summary>The body of <c>POST /cds-services/{id}/feedback</c> (CDS Hooks 2.0 §Feedback).</summary>
public sealed class FeedbackRequest
{
    public List<FeedbackEntry>? Feedback { get; set; }
}

public sealed class FeedbackEntry
{
    public string? Card { get; set; }
    /// <summary>accepted | overridden</summary>
    public string? Outcome { get; set; }
    public List<AcceptedSuggestion>? AcceptedSuggestions { get; set; }
    public OverrideReason? OverrideReason { get; set; }
    public string? OutcomeTimestamp { get; set; }
}

public sealed class AcceptedSuggestion
{
    public string? Id { get; set; }
}

public sealed class OverrideReason
{
    public Coding? Reason { get; set; }
    public string? UserComment { get; set; }
}
