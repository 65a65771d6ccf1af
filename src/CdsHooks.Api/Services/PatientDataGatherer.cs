using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Api.Services;

/// <summary>
/// Data a hook call needs but could not get. <paramref name="Reason"/> is the sentence for a 412 OperationOutcome;
/// <paramref name="Code"/> is the FHIR IssueType (timeout, login, forbidden, transient, security, ...);
/// <paramref name="Why"/> is the short cause a card shows ("the FHIR server failed (503)").
/// </summary>
public sealed record MissingData(string Key, string Reason, string Code = "incomplete", string? Why = null);

/// <summary>The result of gathering: a record for the rules, or the required keys that could not be read at all.</summary>
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
/// <param name="MedicationDetailsWhy">Set when some referenced Medications could not be read: why.</param>
public sealed record FallbackResult(
    IReadOnlyList<PrefetchEntry> Fetched,
    IReadOnlyList<MissingData> Missing,
    IReadOnlyList<Medication>? Medications = null,
    string? MedicationDetailsWhy = null)
{
    public static FallbackResult Nothing { get; } = new([], []);
}

/// <summary>
/// Gathers the patient's data for one hook call: prefetch first, then the fallback for keys that are absent, failed
/// or paged. A required key that cannot be read at all makes the call fail with 412; everything else that could not
/// be read (a required key read in part, a guard key, an optional key) goes into the record as a
/// <see cref="DataGap"/> per data area, for the rules to decide what it means and the cards to say.
/// </summary>
public sealed class PatientDataGatherer(IPrefetchFallback fallback)
{
    public async Task<GatherResult> GatherAsync(CdsRequest request, CdsServiceDefinition service, CancellationToken cancellationToken)
    {
        var entries = PrefetchResolver.Resolve(request, service);
        var result = await fallback.FetchAsync(request, [.. entries.Values], cancellationToken);
        foreach (var fetched in result.Fetched) entries[fetched.Key.Name] = fetched;

        var gaps = new List<DataGap>();
        List<MissingData>? missingRequired = null;
        foreach (var missing in result.Missing)
        {
            var entry = entries[missing.Key];
            // A paged bundle whose further pages could not be read still has its first page: used, and a gap noted.
            var partial = entry.State == PrefetchState.Data;
            if (!partial && entry.Key.Required)
            {
                (missingRequired ??= []).Add(missing);
                continue;
            }
            foreach (var area in entry.Key.Areas)
            {
                gaps.Add(new DataGap(area, partial, missing.Why ?? missing.Reason, "prefetch." + missing.Key, missing.Code, missing.Reason));
            }
        }
        if (missingRequired is not null) return new GatherResult(null, missingRequired);

        // A guard key sent as null: "no data" cannot be told from "not recorded", so what it guards is not suggested.
        foreach (var entry in entries.Values)
        {
            if (entry.Key.Role != PrefetchRole.Guard || entry.State != PrefetchState.NoData) continue;
            foreach (var area in entry.Key.Areas)
            {
                gaps.Add(new DataGap(area, Partial: false, "the EHR sent no data for it", "prefetch." + entry.Key.Name, "not-found",
                    $"Prefetch '{entry.Key.Name}' ({entry.Key.Describes}) was sent as null."));
            }
        }
        if (result.MedicationDetailsWhy is { } why) gaps.Add(new DataGap(DataArea.MedicationDetails, Partial: true, why));

        var context = request.Context!;
        var record = PatientRecord.FromResources(
            context.PatientId!,
            entries.Values.SelectMany(e => e.Resources).Concat(result.Medications ?? []),
            context.DraftOrders,
            context.Selections,
            gaps);
        return new GatherResult(record, []);
    }
}
