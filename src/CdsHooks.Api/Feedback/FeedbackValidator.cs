using CdsHooks.Protocol;
using CdsHooks.Storage;

namespace CdsHooks.Api.Feedback;

/// <summary>
/// Checks a feedback body against CDS Hooks 2.0 §Feedback. Error keys name the entry and field
/// (<c>feedback[2].outcomeTimestamp</c>); a valid body yields normalised <see cref="FeedbackReport"/>s.
/// </summary>
public static class FeedbackValidator
{
    /// <summary>A client reports what one user did with one hook call's cards; more than this is not feedback.</summary>
    public const int MaxEntries = 100;
    private const int MaxSystemLength = 256;
    private const int MaxCodeLength = 128;
    private const int MaxDisplayLength = 512;

    public static (Dictionary<string, string[]> Errors, List<FeedbackReport> Reports) Validate(FeedbackRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var reports = new List<FeedbackReport>();
        void Add(string field, string message) => errors[field] = errors.TryGetValue(field, out var m) ? [.. m, message] : [message];

        if (request.Feedback is not { Count: > 0 } entries)
        {
            Add("feedback", "'feedback' is required: an array with at least one entry.");
            return (errors, reports);
        }
        if (entries.Count > MaxEntries)
        {
            Add("feedback", $"At most {MaxEntries} entries per request.");
            return (errors, reports);
        }

        for (var i = 0; i < entries.Count; i++)
        {
            var at = $"feedback[{i}]";
            if (entries[i] is not { } entry)
            {
                Add(at, "Each entry must be an object.");
                continue;
            }
            var before = errors.Count;

            string? card = null;
            if (string.IsNullOrWhiteSpace(entry.Card)) Add($"{at}.card", "'card' is required: the uuid of the card.");
            else if (!TryUuid(entry.Card, out card)) Add($"{at}.card", "'card' must be the card's uuid (RFC 4122 form, e.g. 35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515).");

            FeedbackOutcome? outcome = entry.Outcome switch
            {
                "accepted" => FeedbackOutcome.Accepted,
                "overridden" => FeedbackOutcome.Overridden,
                _ => null,
            };
            if (outcome is null)
            {
                Add($"{at}.outcome", string.IsNullOrEmpty(entry.Outcome)
                    ? "'outcome' is required: 'accepted' or 'overridden'."
                    : "'outcome' must be 'accepted' or 'overridden'.");
            }

            var accepted = new SortedSet<string>(StringComparer.Ordinal);
            if (outcome == FeedbackOutcome.Accepted && entry.AcceptedSuggestions is not { Count: > 0 })
            {
                Add($"{at}.acceptedSuggestions", "'acceptedSuggestions' is required when the outcome is 'accepted': the suggestions the user took.");
            }
            else if (outcome == FeedbackOutcome.Overridden && entry.AcceptedSuggestions is { Count: > 0 })
            {
                Add($"{at}.acceptedSuggestions", "'acceptedSuggestions' is only for the 'accepted' outcome.");
            }
            else if (entry.AcceptedSuggestions is { } suggestions)
            {
                for (var j = 0; j < suggestions.Count; j++)
                {
                    if (suggestions[j]?.Id is not { } id || string.IsNullOrWhiteSpace(id)) Add($"{at}.acceptedSuggestions[{j}].id", "'id' is required: the suggestion's uuid.");
                    else if (!TryUuid(id, out var uuid)) Add($"{at}.acceptedSuggestions[{j}].id", "'id' must be the suggestion's uuid.");
                    else accepted.Add(uuid);
                }
            }

            OverrideCode? reason = null;
            if (entry.OverrideReason is { } overrideReason)
            {
                if (outcome == FeedbackOutcome.Accepted) Add($"{at}.overrideReason", "'overrideReason' is only for the 'overridden' outcome.");
                // The reason may be absent: a user can override with only a userComment (spec).
                if (overrideReason.Reason is { } coding)
                {
                    var path = $"{at}.overrideReason.reason";
                    if (string.IsNullOrWhiteSpace(coding.System)) Add($"{path}.system", "'system' is required: a Coding from the card's overrideReasons.");
                    else if (coding.System.Length > MaxSystemLength) Add($"{path}.system", $"'system' is longer than {MaxSystemLength} characters.");
                    if (string.IsNullOrWhiteSpace(coding.Code)) Add($"{path}.code", "'code' is required: a Coding from the card's overrideReasons.");
                    else if (coding.Code.Length > MaxCodeLength) Add($"{path}.code", $"'code' is longer than {MaxCodeLength} characters.");
                    if (coding.Display is { Length: > MaxDisplayLength }) Add($"{path}.display", $"'display' is longer than {MaxDisplayLength} characters.");
                    reason = new OverrideCode(coding.System ?? "", coding.Code ?? "", coding.Display);
                }
            }

            DateTimeOffset outcomeAt = default;
            if (string.IsNullOrWhiteSpace(entry.OutcomeTimestamp)) Add($"{at}.outcomeTimestamp", "'outcomeTimestamp' is required: when the user acted (RFC 3339, e.g. 2026-11-21T12:41:19.243Z).");
            else if (!Rfc3339.TryParse(entry.OutcomeTimestamp, out outcomeAt)) Add($"{at}.outcomeTimestamp", "'outcomeTimestamp' must be an RFC 3339 date-time with an offset, e.g. 2026-11-21T12:41:19.243Z.");

            if (errors.Count == before)
            {
                reports.Add(new FeedbackReport(card!, outcome!.Value, outcomeAt.ToUniversalTime(), [.. accepted], reason));
            }
        }
        return (errors, errors.Count == 0 ? reports : []);
    }

    private static bool TryUuid(string value, out string uuid)
    {
        if (value.Length == 36 && Guid.TryParseExact(value, "D", out var guid))
        {
            uuid = guid.ToString("D");
            return true;
        }
        uuid = "";
        return false;
    }
}
