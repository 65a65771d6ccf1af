using System.Diagnostics;
using System.Diagnostics.Metrics;
using CdsHooks.Storage;

namespace CdsHooks.Api.Telemetry;

/// <summary>
/// The service's own instruments (meter <c>CdsHooks.Api</c>). Every tag is from a small fixed set: service ids
/// from the catalog, card kinds from the knowledge file, FHIR resource types from the prefetch templates, outcome and
/// reason codes defined in code. Nothing a caller sends ends up in a tag.
/// </summary>
public sealed class CdsMetrics
{
    public const string MeterName = "CdsHooks.Api";

    /// <summary>A service id that is not in the catalog: the path's text is never a tag.</summary>
    public const string UnknownService = "unknown";

    /// <summary>Seconds: from 1 ms (a prefetched call) to the FHIR deadline and beyond.</summary>
    private static readonly IReadOnlyList<double> DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Histogram<double> _hookDuration;
    private readonly Counter<long> _cardsIssued;
    private readonly Counter<long> _preconditionFailed;
    private readonly Counter<long> _feedback;
    private readonly Counter<long> _fhirReads;
    private readonly Counter<long> _fhirAttempts;

    public CdsMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _hookDuration = meter.CreateHistogram("cds.hook.duration", "s",
            "Time to answer a hook call, from the endpoint's start (after authentication) to the answer being ready; by service, hook and HTTP status.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _cardsIssued = meter.CreateCounter<long>("cds.cards.issued", "{card}", "Cards answered, by service and card kind.");
        _preconditionFailed = meter.CreateCounter<long>("cds.hook.precondition_failed", "{response}",
            "412 answers, by service and reason (the OperationOutcome issue code; a 412 with several codes counts once under each).");
        _feedback = meter.CreateCounter<long>("cds.feedback.outcomes", "{report}",
            "Feedback reports acknowledged (stored, or already stored), by service and outcome: accepted or overridden.");
        _fhirReads = meter.CreateCounter<long>("cds.fhir.reads", "{read}", "FHIR reads and searches (pages included), by resource type and outcome.");
        _fhirAttempts = meter.CreateCounter<long>("cds.fhir.attempts", "{attempt}",
            "HTTP attempts of FHIR reads (retries included), by server host, attempt number and HTTP status or error type.");
    }

    public bool HookCallsObserved => _hookDuration.Enabled || _cardsIssued.Enabled || _preconditionFailed.Enabled;

    public void HookAnswered(string serviceId, string hook, int? status, string? errorType, TimeSpan elapsed)
    {
        if (!_hookDuration.Enabled) return;
        var tags = new TagList { { CdsTelemetry.ServiceId, serviceId }, { CdsTelemetry.Hook, hook } };
        if (status is { } s) tags.Add(CdsTelemetry.HttpStatus, s);
        if (errorType is not null) tags.Add(CdsTelemetry.ErrorType, errorType);
        _hookDuration.Record(elapsed.TotalSeconds, tags);
    }

    public void CardIssued(string serviceId, string kind) =>
        _cardsIssued.Add(1, new KeyValuePair<string, object?>(CdsTelemetry.ServiceId, serviceId), new KeyValuePair<string, object?>(CdsTelemetry.CardKind, kind));

    public void PreconditionFailed(string serviceId, string reason) =>
        _preconditionFailed.Add(1, new KeyValuePair<string, object?>(CdsTelemetry.ServiceId, serviceId), new KeyValuePair<string, object?>(CdsTelemetry.PreconditionReason, reason));

    public void FeedbackAcknowledged(string serviceId, IReadOnlyList<FeedbackReport> reports)
    {
        if (!_feedback.Enabled) return;
        foreach (var report in reports)
        {
            _feedback.Add(1, new KeyValuePair<string, object?>(CdsTelemetry.ServiceId, serviceId), new KeyValuePair<string, object?>(CdsTelemetry.FeedbackOutcome, report.OutcomeCode));
        }
    }

    public bool FhirAttemptsObserved => _fhirAttempts.Enabled;

    public void FhirAttempt(string serverAddress, int attempt, int? status, string? errorType)
    {
        if (!_fhirAttempts.Enabled) return;
        var tags = new TagList { { CdsTelemetry.ServerAddress, serverAddress }, { CdsTelemetry.FhirAttempt, attempt } };
        if (status is { } s) tags.Add(CdsTelemetry.HttpStatus, s);
        if (errorType is not null) tags.Add(CdsTelemetry.ErrorType, errorType);
        _fhirAttempts.Add(1, tags);
    }

    public void FhirRead(string resourceType, string outcome) =>
        _fhirReads.Add(1, new KeyValuePair<string, object?>(CdsTelemetry.FhirResourceType, resourceType), new KeyValuePair<string, object?>(CdsTelemetry.FhirOutcome, outcome));
}
