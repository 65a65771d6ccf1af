using System.Diagnostics;
using CdsHooks.Fhir;

namespace CdsHooks.Api.Telemetry;

/// <summary>
/// The <c>fhir.read</c> span of one GET to the EHR's FHIR server (each HTTP attempt below it is an HttpClient span,
/// counted by <see cref="FhirAttemptTelemetry"/>): the server's authority, the resource type, read or search, the HTTP
/// status, the attempts the resilience pipeline made and the outcome. Never the URL: its path and query hold the
/// patient id and the search values.
/// </summary>
public static class FhirReadTelemetry
{
    public const string Ok = "ok";

    public static Activity? Start(Uri server, string resourceType, bool search)
    {
        var span = CdsTelemetry.Source.StartActivity(CdsTelemetry.FhirReadSpan, ActivityKind.Internal);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(CdsTelemetry.ServerAddress, server.Host);
            span.SetTag(CdsTelemetry.ServerPort, server.Port);
            span.SetTag(CdsTelemetry.FhirResourceType, resourceType);
            span.SetTag(CdsTelemetry.FhirInteraction, search ? "search" : "read");
        }
        return span;
    }

    public static void End(Activity? span, FhirResult result, string outcome)
    {
        if (span is not { IsAllDataRequested: true }) return;
        if (result.Status is { } status) span.SetTag(CdsTelemetry.HttpStatus, status);
        span.SetTag(CdsTelemetry.FhirOutcome, outcome);
        // A read answered 404 is an answer ("no such resource"), not a failure of the read.
        if (outcome is not (Ok or "not-found")) span.SetStatus(ActivityStatusCode.Error, outcome);
    }

    /// <summary>
    /// What became of a read, from a small fixed set: <c>ok</c>; the HTTP answer's failure (<c>not-found</c>,
    /// <c>unauthorized</c>, <c>forbidden</c>, <c>throttled</c>, <c>server-error</c>, <c>redirect</c>,
    /// <c>not-fhir-json</c>, <c>invalid-json</c>, <c>too-large</c>, <c>unexpected-resource</c>); or, with no usable
    /// answer, the FHIR IssueType code the 412 would give (<c>timeout</c>, <c>transient</c>, <c>processing</c>).
    /// </summary>
    public static string Outcome(FhirResult result, string? problemCode) => result.Failure switch
    {
        FhirFailure.None => problemCode ?? Ok,
        FhirFailure.NotFound => "not-found",
        FhirFailure.Unauthorized => "unauthorized",
        FhirFailure.Forbidden => "forbidden",
        FhirFailure.Throttled => "throttled",
        FhirFailure.ServerError => "server-error",
        FhirFailure.Redirect => "redirect",
        FhirFailure.NotFhirJson => "not-fhir-json",
        FhirFailure.InvalidJson => "invalid-json",
        FhirFailure.TooLarge => "too-large",
        FhirFailure.UnexpectedResource => "unexpected-resource",
        _ => "failed",
    };

    /// <summary>The <c>fhir.read</c> span an HTTP attempt runs under, when one is being recorded.</summary>
    public static Activity? CurrentRead() =>
        Activity.Current is { IsAllDataRequested: true } span && ReferenceEquals(span.Source, CdsTelemetry.Source)
            && span.OperationName == CdsTelemetry.FhirReadSpan ? span : null;
}
