using CdsHooks.Api.Services;
using CdsHooks.Fhir;

namespace CdsHooks.Api.Fhir;

/// <summary>Why data could not be read from the FHIR server: a FHIR IssueType code and words for the EHR's log and the cards.</summary>
internal sealed record FhirProblem(string Code, string Why);

/// <summary>
/// Every way reading the FHIR server can fail, worded once: what the 412 OperationOutcome and the "not available" card
/// text say. The reader picks the failure; this says it (never a query value, a patient id or a token).
/// </summary>
internal static class FhirFailureDescriber
{
    public static readonly FhirProblem NoServerAccess = new("incomplete", "this service has no FHIR server access to read it");
    public static readonly FhirProblem NextLinkOffServer = new("security", "a next-page link points off the FHIR server and was not followed");
    public static readonly FhirProblem CircuitOpen = new("transient", "the FHIR server has been failing, so calls to it are paused for a short while");
    public static readonly FhirProblem Unreachable = new("transient", "the FHIR server could not be reached or dropped the connection");
    public static readonly FhirProblem ConnectionLost = new("transient", "the FHIR server dropped the connection mid-answer");
    public static readonly FhirProblem RequestNotMade = new("processing", "the FHIR request could not be made");

    public static FhirProblem NotAllowlisted(string host) =>
        new("security", $"the request's fhirServer ({host}) is not on this service's allowlist, so it was not contacted");

    public static FhirProblem ContextLacks(string? token) => new("incomplete", $"its query needs {{{{{token}}}}}, which the hook context does not give");

    public static FhirProblem TooManyPages(FhirOptions options) => new("too-costly", $"the search has more than {options.MaxPages} pages (Fhir:MaxPages)");

    public static FhirProblem Deadline(FhirOptions options) =>
        new("timeout", $"the FHIR server did not answer within the {options.RequestDeadline.TotalMilliseconds:0} ms deadline (Fhir:RequestDeadline)");

    public static FhirProblem AttemptTimeout(FhirOptions options) =>
        new("timeout", $"the FHIR server did not answer within {options.AttemptTimeout.TotalMilliseconds:0} ms (Fhir:AttemptTimeout), retries included");

    /// <summary>An answer the server gave that cannot be used.</summary>
    public static FhirProblem Describe(FhirResult result, FhirOptions options) => result.Failure switch
    {
        FhirFailure.Unauthorized => new("login", "the FHIR server refused the access token (401)"),
        FhirFailure.Forbidden => new("forbidden", "the access token does not allow this read (403)"),
        FhirFailure.Throttled => new("throttled", "the FHIR server is limiting requests (429)"),
        FhirFailure.Redirect => new("security", $"the FHIR server answered with a redirect ({result.Status}), which this service does not follow"),
        FhirFailure.NotFhirJson => new("processing", $"the FHIR server's answer ({result.Status}) was not FHIR JSON"),
        FhirFailure.InvalidJson => new("processing", "the FHIR server's answer was truncated or malformed JSON"),
        FhirFailure.TooLarge => new("too-costly", $"the FHIR server's answer is larger than {options.MaxResponseBytes} bytes (Fhir:MaxResponseBytes)"),
        FhirFailure.UnexpectedResource => new("processing", "the FHIR server answered with an OperationOutcome or an unexpected resource"),
        FhirFailure.NotFound => new("not-found", "the FHIR server does not know this query (404)"),
        _ => new("transient", $"the FHIR server failed ({result.Status})"),
    };

    /// <summary>What is missing of <paramref name="entry"/>'s key, and why: the words depend on what the client sent.</summary>
    public static MissingData Missing(PrefetchEntry entry, FhirProblem problem) => new(entry.Key.Name,
        entry.State == PrefetchState.Failed
            ? $"The client's prefetch of {entry.Key.Describes} failed (OperationOutcome) and {problem.Why}."
            : entry.State == PrefetchState.Data
                ? $"Further pages of {entry.Key.Describes} could not be read: {problem.Why}."
                : $"Prefetch '{entry.Key.Name}' ({entry.Key.Describes}) was not sent and {problem.Why}.",
        problem.Code,
        problem.Why);
}
