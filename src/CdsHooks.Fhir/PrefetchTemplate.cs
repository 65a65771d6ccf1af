using System.Text;

namespace CdsHooks.Fhir;

/// <summary>
/// Fills a CDS Hooks prefetch template (CDS Hooks 2.0 §Prefetch tokens) so the service can run the query itself:
/// <c>{{context.X}}</c> for root-level primitive context fields, and <c>{{userPractitionerId}}</c>,
/// <c>{{userPractitionerRoleId}}</c>, <c>{{userPatientId}}</c>, <c>{{userRelatedPersonId}}</c> from <c>context.userId</c>
/// ("Practitioner/123"). Values are percent-encoded, so a context value can never add a query parameter or path segment.
/// </summary>
public static class PrefetchTemplate
{
    private static readonly (string Token, string ResourceType)[] UserTokens =
    [
        ("userPractitionerId", "Practitioner"),
        ("userPractitionerRoleId", "PractitionerRole"),
        ("userPatientId", "Patient"),
        ("userRelatedPersonId", "RelatedPerson"),
    ];

    /// <summary>
    /// Renders <paramref name="template"/> with the context's primitive fields (name -> value, e.g. "patientId").
    /// Returns false, with the token that could not be filled, when a token names a field the context lacks:
    /// the query cannot be run then (the spec says a client must not send such a key either).
    /// </summary>
    public static bool TryRender(string template, IReadOnlyDictionary<string, string?> context, out string query, out string? unfilledToken)
    {
        var sb = new StringBuilder(template.Length + 32);
        int at = 0;
        while (true)
        {
            int open = template.IndexOf("{{", at, StringComparison.Ordinal);
            if (open < 0) break;
            int close = template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0) break;
            sb.Append(template, at, open - at);
            var token = template.AsSpan(open + 2, close - open - 2).Trim().ToString();
            var value = Resolve(token, context);
            if (string.IsNullOrEmpty(value))
            {
                query = "";
                unfilledToken = token;
                return false;
            }
            sb.Append(Uri.EscapeDataString(value));
            at = close + 2;
        }
        sb.Append(template, at, template.Length - at);
        query = sb.ToString();
        unfilledToken = null;
        return true;
    }

    private static string? Resolve(string token, IReadOnlyDictionary<string, string?> context)
    {
        const string contextPrefix = "context.";
        if (token.StartsWith(contextPrefix, StringComparison.Ordinal))
        {
            return context.TryGetValue(token[contextPrefix.Length..], out var v) ? v : null;
        }
        foreach (var (name, resourceType) in UserTokens)
        {
            if (token != name) continue;
            // userId is "Type/id" (CDS Hooks hooks: "Practitioner/123", "PractitionerRole/...", ...).
            if (!context.TryGetValue("userId", out var user) || user is null) return null;
            var slash = user.IndexOf('/', StringComparison.Ordinal);
            return slash > 0 && user.AsSpan(0, slash).SequenceEqual(resourceType) && slash < user.Length - 1 ? user[(slash + 1)..] : null;
        }
        return null; // FHIRPath tokens ({{today()}}) are 3.0 ballot, not 2.0: unfilled.
    }
}
