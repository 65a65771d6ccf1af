using System.Collections.Concurrent;
using CdsHooks.Api.Security;
using CdsHooks.Api.Services;
using CdsHooks.Api.Telemetry;
using CdsHooks.Fhir;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace CdsHooks.Api.Fhir;

/// <summary>What reading one prefetch key gave: the entry read (or null), what is missing, and the Medications its references needed.</summary>
internal sealed record FhirKeyOutcome(PrefetchEntry? Entry, MissingData? Missing, IReadOnlyList<Medication> Medications);

/// <summary>
/// The reads of one hook call on one allowlisted FHIR server: each key's query, its next pages (never off the server),
/// the Medications references name (each once), every GET a <c>fhir.read</c> span and count, every failure a
/// <see cref="FhirProblem"/> from <see cref="FhirFailureDescriber"/>. The token goes to this server only.
/// </summary>
internal sealed partial class FhirServerReader(
    FhirSearchClient client, FhirOptions options, CdsMetrics metrics, ILogger logger, Uri serverBase, string? token, HashSet<string> known,
    CancellationToken cancellationToken, CancellationTokenSource deadline)
{
    private readonly ConcurrentDictionary<string, Task<Medication?>> _medicationReads = new(StringComparer.Ordinal);
    // Relative next links resolve below the base, which needs the trailing slash (RFC 3986 §5.2).
    private readonly Uri _resolveBase = new(serverBase.AbsoluteUri.TrimEnd('/') + "/");
    private int _medicationFailures;

    public bool MedicationReadsFailed => Volatile.Read(ref _medicationFailures) > 0;

    public async Task<FhirKeyOutcome> FetchKeyAsync(PrefetchEntry entry, Dictionary<string, string?> context)
    {
        var key = entry.Key;
        var resources = new List<Resource>(entry.Resources);
        string? next = entry.NextPage;
        var visited = new HashSet<Uri>();
        if (entry.NeedsFetch)
        {
            if (!PrefetchTemplate.TryRender(key.Template, context, out var query, out var token))
            {
                return new(null, FhirFailureDescriber.Missing(entry, FhirFailureDescriber.ContextLacks(token)), []);
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
                return new(null, FhirFailureDescriber.Missing(entry, problem), []);
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
        return new(fetched, partial is null ? null : FhirFailureDescriber.Missing(entry with { State = PrefetchState.Data }, partial), medications);
    }

    /// <summary>Follows next links on the same server up to the page limit; returns why it stopped early, if it did.</summary>
    private async Task<FhirProblem?> FollowPagesAsync(PrefetchKey key, List<Resource> resources, string? next, HashSet<Uri> visited)
    {
        int pages = 1;
        while (next is not null)
        {
            if (!Uri.TryCreate(_resolveBase, next, out var url) || !FhirServerAllowlist.IsWithin(url, serverBase))
            {
                // Never send the token to another server, whatever the bundle says.
                LogNextLinkOffServer(logger, serverBase.Host);
                return FhirFailureDescriber.NextLinkOffServer;
            }
            if (!visited.Add(url)) return null; // a server linking a page to itself adds nothing more
            if (pages >= options.MaxPages) return FhirFailureDescriber.TooManyPages(options);
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
    private async Task<(FhirResult Result, FhirProblem? Problem)> GetAsync(Uri url, string resourceType, bool search)
    {
        using var span = FhirReadTelemetry.Start(serverBase, resourceType, search);
        var (result, problem) = await ReadAsync(url, resourceType, search).ConfigureAwait(false);
        var outcome = FhirReadTelemetry.Outcome(result, problem?.Code);
        metrics.FhirRead(resourceType, outcome);
        FhirReadTelemetry.End(span, result, outcome);
        return (result, problem);
    }

    /// <summary>One GET through the resilience pipeline, with every way it can fail turned into a <see cref="FhirProblem"/>.</summary>
    private async Task<(FhirResult Result, FhirProblem? Problem)> ReadAsync(Uri url, string resourceType, bool search)
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
            return (result, FhirFailureDescriber.Describe(result, options));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            LogReadFailed(logger, resourceType, serverBase.Host, "Deadline", 0);
            return (default, FhirFailureDescriber.Deadline(options));
        }
        catch (TimeoutRejectedException)
        {
            LogReadFailed(logger, resourceType, serverBase.Host, "AttemptTimeout", 0);
            return (default, FhirFailureDescriber.AttemptTimeout(options));
        }
        catch (BrokenCircuitException)
        {
            LogReadFailed(logger, resourceType, serverBase.Host, "CircuitOpen", 0);
            return (default, FhirFailureDescriber.CircuitOpen);
        }
        catch (HttpRequestException ex)
        {
            LogReadFailed(logger, resourceType, serverBase.Host, "Unreachable:" + ex.HttpRequestError, 0);
            return (default, FhirFailureDescriber.Unreachable);
        }
        catch (IOException)
        {
            // The connection dropped while the body was being read.
            LogReadFailed(logger, resourceType, serverBase.Host, "ConnectionLost", 0);
            return (default, FhirFailureDescriber.ConnectionLost);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or NotSupportedException)
        {
            // Whatever else the HTTP stack refuses is this call's failure, never a 500 for the EHR.
            LogReadFailed(logger, resourceType, serverBase.Host, ex.GetType().Name, 0);
            return (default, FhirFailureDescriber.RequestNotMade);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "FHIR {ResourceType} read from {Host} failed: {Failure} (HTTP {Status})")]
    private static partial void LogReadFailed(ILogger logger, string resourceType, string host, string failure, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not following a next-page link that leaves the FHIR server {Host}")]
    private static partial void LogNextLinkOffServer(ILogger logger, string host);
}
