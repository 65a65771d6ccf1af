using System.Diagnostics;
using CdsHooks.Api.Security;
using CdsHooks.Api.Services;
using CdsHooks.Api.Telemetry;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Fhir;

/// <summary>
/// Reads what prefetch lacks from the EHR's FHIR server (CDS Hooks 2.0 §Prefetch: "the CDS Service MAY obtain the
/// data from the FHIR server"): keys absent or holding an OperationOutcome are queried with the same template the
/// service advertises, paged bundles are followed (<c>Bundle.link[next]</c>, up to <see cref="FhirOptions.MaxPages"/>),
/// and Medications that <c>medicationReference</c>s point at are read. Queries of one hook call run in parallel under
/// one deadline (<see cref="FhirOptions.RequestDeadline"/>); when it passes, the call goes on with what arrived.
/// Only an allowlisted <c>fhirServer</c> is ever contacted, with the request's bearer token when it sent one.
/// Three parts: <see cref="FhirReadPlan"/> decides what to read (no I/O), <see cref="FhirServerReader"/> reads it, and
/// <see cref="FhirFailureDescriber"/> words every failure for the OperationOutcome and the cards.
/// </summary>
public sealed partial class FhirPrefetchFallback(
    IHttpClientFactory httpClients,
    FhirServerAllowlist allowlist,
    IOptions<FhirOptions> options,
    TimeProvider time,
    CdsMetrics metrics,
    ILogger<FhirPrefetchFallback> logger) : IPrefetchFallback
{
    /// <summary>The named HttpClient: no redirects, no cookies, the resilience handler, no URL logging.</summary>
    public const string HttpClientName = "fhir";

    public async Task<FallbackResult> FetchAsync(CdsRequest request, IReadOnlyList<PrefetchEntry> entries, CancellationToken cancellationToken)
    {
        var plan = FhirReadPlan.For(request, entries);
        if (plan.IsEmpty) return FallbackResult.Nothing;

        var check = allowlist.Check(request.FhirServer);
        if (!check.Allowed)
        {
            if (check.RejectedHost is { } host) LogNotAllowlisted(logger, host);
            var why = check.RejectedHost is null ? FhirFailureDescriber.NoServerAccess : FhirFailureDescriber.NotAllowlisted(check.RejectedHost);
            return new FallbackResult([], [.. plan.Keys.Select(e => FhirFailureDescriber.Missing(e, why))],
                MedicationDetailsWhy: plan.MedicationReferences.Count > 0 ? why.Why : null);
        }

        var o = options.Value;
        using var deadline = new CancellationTokenSource(o.RequestDeadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var client = new FhirSearchClient(httpClients.CreateClient(HttpClientName), o.MaxResponseBytes);
        var reader = new FhirServerReader(client, o, metrics, logger, check.Base!, request.FhirAuthorization?.AccessToken, plan.KnownMedications, linked.Token, deadline);
        var started = Stopwatch.GetTimestamp();

        var keyTasks = plan.Keys.Select(e => reader.FetchKeyAsync(e, plan.Context)).ToList();
        var medicationTask = reader.ReadMedicationsAsync(plan.MedicationReferences);
        var outcomes = await Task.WhenAll(keyTasks).ConfigureAwait(false);
        var medications = await medicationTask.ConfigureAwait(false);

        var fetched = outcomes.Where(r => r.Entry is not null).Select(r => r.Entry!).ToList();
        var missing = outcomes.Where(r => r.Missing is not null).Select(r => r.Missing!).ToList();
        foreach (var r in outcomes) medications.AddRange(r.Medications);
        medications = [.. medications.Distinct()];
        LogFetched(logger, plan.Keys.Count, plan.MedicationReferences.Count, check.Base!.Host, missing.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new FallbackResult(fetched, missing, medications, reader.MedicationReadsFailed ? "the FHIR server did not return them" : null);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "FHIR server {Host} is not on Fhir:AllowedServers; not contacted")]
    private static partial void LogNotAllowlisted(ILogger logger, string host);

    [LoggerMessage(Level = LogLevel.Information, Message = "Read {KeyCount} prefetch keys and {MedicationCount} Medications from {Host}: {MissingCount} missing, {ElapsedMs:0.0} ms")]
    private static partial void LogFetched(ILogger logger, int keyCount, int medicationCount, string host, int missingCount, double elapsedMs);
}
