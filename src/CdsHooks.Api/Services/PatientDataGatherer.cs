using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Api.Services;

/// <summary>
/// Data a hook call needs but could not get: reported to the client in a 412 OperationOutcome.
/// <paramref name="Code"/> is the FHIR IssueType (timeout, login, forbidden, transient, security, ...).
/// </summary>
public sealed record MissingData(string Key, string Reason, string Code = "incomplete");

/// <summary>The result of gathering: a record for the rules, or what is missing.</summary>
public sealed record GatherResult(PatientRecord? Record, IReadOnlyList<MissingData> Missing);

/// <summary>
/// Reads what prefetch lacks from somewhere else (the EHR's FHIR server). Given every prefetch entry, fetches the
/// keys that are absent or failed, further pages of paged ones, and Medications that <c>medicationReference</c>s point
/// at but nothing in the request contains; returns what it got and what it could not get.
/// </summary>
public interface IPrefetchFallback
{
    Task<FallbackResult> FetchAsync(CdsRequest request, IReadOnlyList<PrefetchEntry> entries, CancellationToken cancellationToken);
}

/// <param name="Fetched">Entries that replace the request's (complete, or partial when a later page failed).</param>
/// <param name="Missing">Keys that could not be read (or whose further pages could not).</param>
/// <param name="Medications">Medications read for otherwise unresolved references.</param>
/// <param name="Unavailable">Other optional data that could not be read, for the card detail.</param>
public sealed record FallbackResult(
    IReadOnlyList<PrefetchEntry> Fetched,
    IReadOnlyList<MissingData> Missing,
    IReadOnlyList<Medication>? Medications = null,
    IReadOnlyList<string>? Unavailable = null)
{
    public static FallbackResult Nothing { get; } = new([], []);
}

/// <summary>
/// Gathers the patient's data for one hook call: prefetch first, then the fallback for keys that are absent,
/// failed or paged. Required keys that stay missing make the call fail with 412; optional ones are noted.
/// </summary>
public sealed class PatientDataGatherer(IPrefetchFallback fallback)
{
    public async Task<GatherResult> GatherAsync(CdsRequest request, CdsServiceDefinition service, CancellationToken cancellationToken)
    {
        var entries = PrefetchResolver.Resolve(request, service);
        var result = await fallback.FetchAsync(request, [.. entries.Values], cancellationToken);
        var unavailable = new List<string>(result.Unavailable ?? []);
        foreach (var fetched in result.Fetched) entries[fetched.Key.Name] = fetched;
        if (result.Missing.Count > 0)
        {
            var missingRequired = new List<MissingData>();
            foreach (var missing in result.Missing)
            {
                var entry = entries[missing.Key];
                // A paged bundle whose further pages could not be read still has its first page: use it, say so.
                if (entry.State == PrefetchState.Data)
                {
                    unavailable.Add($"further pages of {entry.Key.Describes}");
                }
                else if (entry.Key.Required)
                {
                    missingRequired.Add(missing);
                }
                else
                {
                    unavailable.Add(entry.Key.Describes);
                }
            }
            if (missingRequired.Count > 0) return new GatherResult(null, missingRequired);
        }

        return new GatherResult(BuildRecord(request, entries, result.Medications ?? [], unavailable), []);
    }

    private static PatientRecord BuildRecord(CdsRequest request, Dictionary<string, PrefetchEntry> entries, IReadOnlyList<Medication> readMedications, List<string> unavailable)
    {
        var context = request.Context!;
        return PatientRecord.FromResources(
            context.PatientId!,
            entries.Values.SelectMany(e => e.Resources).Concat(readMedications),
            context.DraftOrders,
            context.Selections,
            unavailable);
    }
}
