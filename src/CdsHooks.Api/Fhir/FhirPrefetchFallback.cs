using System.Collections.Concurrent;
using System.Diagnostics;
using CdsHooks.Api.Services;
using CdsHooks.Api.Telemetry;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace CdsHooks.Api.Fhir;

/// <summary>
/// Reads what prefetch lacks from the EHR's FHIR server (CDS Hooks 2.0 §Prefetch: "the CDS Service MAY obtain the
/// data from the FHIR server"): keys absent or holding an OperationOutcome are queried with the same template the
/// service advertises, paged bundles are followed (<c>Bundle.link[next]</c>, up to <see cref="FhirOptions.MaxPages"/>),
/// and Medications that <c>medicationReference</c>s point at are read. Queries of one hook call run in parallel under
/// one deadline (<see cref="FhirOptions.RequestDeadline"/>); when it passes, the call goes on with what arrived.
/// Only an allowlisted <c>fhirServer</c> is ever contacted, with the request's bearer token when it sent one.
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
        var work = entries.Where(e => e.NeedsFetch || (e.State == PrefetchState.Data && e.NextPage is not null)).ToList();
        var known = KnownMedications(entries, request.Context?.DraftOrders);
        var references = MedicationReferences.NeededFromServer(entries.SelectMany(e => e.Resources).Concat(Drafts(request)).OfType<MedicationUse>(), known);
        if (work.Count == 0 && references.Count == 0) return FallbackResult.Nothing;

        var check = allowlist.Check(request.FhirServer);
        if (!check.Allowed)
        {
            if (check.RejectedHost is { } host) LogNotAllowlisted(logger, host);
            var why = check.RejectedHost is null
                ? new Problem("incomplete", "this service has no FHIR server access to read it")
                : new Problem("security", $"the request's fhirServer ({check.RejectedHost}) is not on this service's allowlist, so it was not contacted");
            return new FallbackResult([], [.. work.Select(e => Missing(e, why))],
                MedicationDetailsWhy: references.Count > 0 ? why.Why : null);
        }

        var o = options.Value;
        using var deadline = new CancellationTokenSource(o.RequestDeadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var client = new FhirSearchClient(httpClients.CreateClient(HttpClientName), o.MaxResponseBytes);
        var call = new FhirCall(client, o, metrics, logger, check.Base!, request.FhirAuthorization?.AccessToken, known, linked.Token, deadline);
        var started = Stopwatch.GetTimestamp();

        var context = ContextValues(request);
        var keyTasks = work.Select(e => call.FetchKeyAsync(e, context)).ToList();
        var medicationTask = call.ReadMedicationsAsync(references);
        var outcomes = await Task.WhenAll(keyTasks).ConfigureAwait(false);
        var medications = await medicationTask.ConfigureAwait(false);

        var fetched = outcomes.Where(r => r.Entry is not null).Select(r => r.Entry!).ToList();
        var missing = outcomes.Where(r => r.Missing is not null).Select(r => r.Missing!).ToList();
        foreach (var r in outcomes) medications.AddRange(r.Medications);
        medications = [.. medications.Distinct()];
        LogFetched(logger, work.Count, references.Count, check.Base!.Host, missing.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new FallbackResult(fetched, missing, medications, call.MedicationReadsFailed ? "the FHIR server did not return them" : null);
    }

    private static IEnumerable<Resource> Drafts(CdsRequest request) =>
        request.Context?.DraftOrders?.Entry?.Select(e => e.Resource).OfType<Resource>() ?? [];

    /// <summary>The root-level primitive context fields a prefetch template may name (CDS Hooks 2.0 §Prefetch tokens).</summary>
    private static Dictionary<string, string?> ContextValues(CdsRequest request) => new(StringComparer.Ordinal)
    {
        ["patientId"] = request.Context?.PatientId,
        ["userId"] = request.Context?.UserId,
        ["encounterId"] = request.Context?.EncounterId,
    };

    /// <summary>Medication ids ("Medication/x") and full URLs already in the request, so they are not read again.</summary>
    private static HashSet<string> KnownMedications(IEnumerable<PrefetchEntry> entries, Bundle? drafts)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in entries.SelectMany(e => e.Resources).OfType<Medication>())
        {
            if (m.TypedId is { } id) known.Add(id);
        }
        foreach (var e in drafts?.Entry ?? [])
        {
            if (e.Resource is not Medication m) continue;
            if (m.TypedId is { } id) known.Add(id);
            if (e.FullUrl is { } url) known.Add(url);
        }
        return known;
    }

    private static MissingData Missing(PrefetchEntry entry, Problem problem) => new(entry.Key.Name,
        entry.State == PrefetchState.Failed
            ? $"The client's prefetch of {entry.Key.Describes} failed (OperationOutcome) and {problem.Why}."
            : entry.State == PrefetchState.Data
                ? $"Further pages of {entry.Key.Describes} could not be read: {problem.Why}."
                : $"Prefetch '{entry.Key.Name}' ({entry.Key.Describes}) was not sent and {problem.Why}.",
        problem.Code,
        problem.Why);

    /// <summary>Why data could not be read: a FHIR IssueType code and words for the EHR's log.</summary>
    private sealed record Problem(string Code, string Why);

    private sealed record KeyOutcome(PrefetchEntry? Entry, MissingData? Missing, IReadOnlyList<Medication> Medications);

    /// <summary>One hook call's reads: the server base, the token, the deadline and what was already read.</summary>
    private sealed class FhirCall(
        FhirSearchClient client, FhirOptions options, CdsMetrics metrics, ILogger logger, Uri serverBase, string? token, HashSet<string> known,
        CancellationToken cancellationToken, CancellationTokenSource deadline)
    {
        private readonly ConcurrentDictionary<string, Task<Medication?>> _medicationReads = new(StringComparer.Ordinal);
        // Relative next links resolve below the base, which needs the trailing slash (RFC 3986 §5.2).
        private readonly Uri _resolveBase = new(serverBase.AbsoluteUri.TrimEnd('/') + "/");
        private int _medicationFailures;

        public bool MedicationReadsFailed => Volatile.Read(ref _medicationFailures) > 0;

        public async Task<KeyOutcome> FetchKeyAsync(PrefetchEntry entry, Dictionary<string, string?> context)
        {
            var key = entry.Key;
            var resources = new List<Resource>(entry.Resources);
            string? next = entry.NextPage;
            var visited = new HashSet<Uri>();
            if (entry.NeedsFetch)
            {
                if (!PrefetchTemplate.TryRender(key.Template, context, out var query, out var token))
                {
                    return new(null, Missing(entry, new("incomplete", $"its query needs {{{{{token}}}}}, which the hook context does not give")), []);
                }
                var url = new Uri(_resolveBase, query);
                visited.Add(url);
                var search = query.Contains('?', StringComparison.Ordinal);
                var (result, problem) = await GetAsync(url, key.ResourceType, search).ConfigureAwait(false);
                if (problem is not null)
                {
                    // A read the server answers with 404 says "no such resource": no data, not a gap.
                    if (result.Failure == FhirFailure.NotFound && !search)
                    {
                        return new(new PrefetchEntry(key, PrefetchState.NoData, []), null, []);
                    }
                    return new(null, Missing(entry, problem), []);
                }
                if (result.Resource is Bundle bundle)
                {
                    resources.AddRange(PrefetchResolver.Flatten(bundle));
                    next = bundle.NextLink();
                }
                else
                {
                    resources.Add(result.Resource!);
                }
            }

            var partial = await FollowPagesAsync(key, resources, next, visited).ConfigureAwait(false);
            var fetched = new PrefetchEntry(key, PrefetchState.Data, resources);
            var medications = await ReadMedicationsAsync(MedicationReferences.NeededFromServer(resources.OfType<MedicationUse>(), (HashSet<string>)[.. known, .. KnownIn(resources)])).ConfigureAwait(false);
            return new(fetched, partial is null ? null : Missing(entry with { State = PrefetchState.Data }, partial), medications);
        }

        /// <summary>Follows next links on the same server up to the page limit; returns why it stopped early, if it did.</summary>
        private async Task<Problem?> FollowPagesAsync(PrefetchKey key, List<Resource> resources, string? next, HashSet<Uri> visited)
        {
            int pages = 1;
            while (next is not null)
            {
                if (!Uri.TryCreate(_resolveBase, next, out var url) || !FhirServerAllowlist.IsWithin(url, serverBase))
                {
                    // Never send the token to another server, whatever the bundle says.
                    LogNextLinkOffServer(logger, serverBase.Host);
                    return new("security", "a next-page link points off the FHIR server and was not followed");
                }
                if (!visited.Add(url)) return null; // a server linking a page to itself adds nothing more
                if (pages >= options.MaxPages) return new("too-costly", $"the search has more than {options.MaxPages} pages (Fhir:MaxPages)");
                var (result, problem) = await GetAsync(url, key.ResourceType, search: true).ConfigureAwait(false);
                if (problem is not null) return problem;
                var page = (Bundle)result.Resource!;
                resources.AddRange(PrefetchResolver.Flatten(page));
                next = page.NextLink();
                pages++;
            }
            return null;
        }

        public async Task<List<Medication>> ReadMedicationsAsync(IReadOnlyList<string> references)
        {
            if (references.Count == 0) return [];
            var reads = references.Select(r => _medicationReads.GetOrAdd(r, ReadMedicationAsync)).ToList();
            var medications = await Task.WhenAll(reads).ConfigureAwait(false);
            return [.. medications.OfType<Medication>().Distinct()];
        }

        private async Task<Medication?> ReadMedicationAsync(string reference)
        {
            if (known.Contains(reference)) return null;
            // Relative ("Medication/42") against the server; absolute only when on the same server.
            if (!Uri.TryCreate(_resolveBase, reference, out var url) || !FhirServerAllowlist.IsWithin(url, serverBase))
            {
                Interlocked.Increment(ref _medicationFailures);
                return null;
            }
            var (result, problem) = await GetAsync(url, "Medication", search: false).ConfigureAwait(false);
            if (problem is null && result.Resource is Medication m) return m;
            Interlocked.Increment(ref _medicationFailures);
            return null;
        }

        private static HashSet<string> KnownIn(List<Resource> resources) =>
            [.. resources.OfType<Medication>().Select(m => m.TypedId).OfType<string>()];

        /// <summary>One GET, as a <c>fhir.read</c> span and a <c>cds.fhir.reads</c> count (never its URL: it holds the patient id).</summary>
        private async Task<(FhirResult Result, Problem? Problem)> GetAsync(Uri url, string resourceType, bool search)
        {
            using var span = FhirReadTelemetry.Start(serverBase, resourceType, search);
            var (result, problem) = await ReadAsync(url, resourceType, search).ConfigureAwait(false);
            var outcome = FhirReadTelemetry.Outcome(result, problem?.Code);
            metrics.FhirRead(resourceType, outcome);
            FhirReadTelemetry.End(span, result, outcome);
            return (result, problem);
        }

        /// <summary>One GET through the resilience pipeline, with every way it can fail turned into a <see cref="Problem"/>.</summary>
        private async Task<(FhirResult Result, Problem? Problem)> ReadAsync(Uri url, string resourceType, bool search)
        {
            try
            {
                var result = await client.GetAsync(url, token, cancellationToken).ConfigureAwait(false);
                // A search must answer a Bundle, a read the resource type asked for.
                if (result.Succeeded && result.Resource!.ResourceType != (search ? "Bundle" : resourceType))
                {
                    result = result with { Resource = null, Failure = FhirFailure.UnexpectedResource };
                }
                if (result.Succeeded) return (result, null);
                LogReadFailed(logger, resourceType, serverBase.Host, result.Failure.ToString(), result.Status ?? 0);
                return (result, Describe(result));
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                LogReadFailed(logger, resourceType, serverBase.Host, "Deadline", 0);
                return (default, new("timeout", $"the FHIR server did not answer within the {options.RequestDeadline.TotalMilliseconds:0} ms deadline (Fhir:RequestDeadline)"));
            }
            catch (TimeoutRejectedException)
            {
                LogReadFailed(logger, resourceType, serverBase.Host, "AttemptTimeout", 0);
                return (default, new("timeout", $"the FHIR server did not answer within {options.AttemptTimeout.TotalMilliseconds:0} ms (Fhir:AttemptTimeout), retries included"));
            }
            catch (BrokenCircuitException)
            {
                LogReadFailed(logger, resourceType, serverBase.Host, "CircuitOpen", 0);
                return (default, new("transient", "the FHIR server has been failing, so calls to it are paused for a short while"));
            }
            catch (HttpRequestException ex)
            {
                LogReadFailed(logger, resourceType, serverBase.Host, "Unreachable:" + ex.HttpRequestError, 0);
                return (default, new("transient", "the FHIR server could not be reached or dropped the connection"));
            }
            catch (IOException)
            {
                // The connection dropped while the body was being read.
                LogReadFailed(logger, resourceType, serverBase.Host, "ConnectionLost", 0);
                return (default, new("transient", "the FHIR server dropped the connection mid-answer"));
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or NotSupportedException)
            {
                // Whatever else the HTTP stack refuses is this call's failure, never a 500 for the EHR.
                LogReadFailed(logger, resourceType, serverBase.Host, ex.GetType().Name, 0);
                return (default, new("processing", "the FHIR request could not be made"));
            }
        }

        private Problem Describe(FhirResult result) => result.Failure switch
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
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "FHIR server {Host} is not on Fhir:AllowedServers; not contacted")]
    private static partial void LogNotAllowlisted(ILogger logger, string host);

    [LoggerMessage(Level = LogLevel.Warning, Message = "FHIR {ResourceType} read from {Host} failed: {Failure} (HTTP {Status})")]
    private static partial void LogReadFailed(ILogger logger, string resourceType, string host, string failure, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not following a next-page link that leaves the FHIR server {Host}")]
    private static partial void LogNextLinkOffServer(ILogger logger, string host);

    [LoggerMessage(Level = LogLevel.Information, Message = "Read {KeyCount} prefetch keys and {MedicationCount} Medications from {Host}: {MissingCount} missing, {ElapsedMs:0.0} ms")]
    private static partial void LogFetched(ILogger logger, int keyCount, int medicationCount, string host, int missingCount, double elapsedMs);
}
