using CdsHooks.Api.Services;
using CdsHooks.Fhir;
using CdsHooks.Protocol;

namespace CdsHooks.Api.Fhir;

/// <summary>
/// What one hook call must read from the FHIR server, decided from the request alone (no I/O): the keys absent, failed
/// or paged, the Medications that references name and nothing at hand resolves, and the context values the queries use.
/// </summary>
internal sealed record FhirReadPlan(
    IReadOnlyList<PrefetchEntry> Keys,
    HashSet<string> KnownMedications,
    IReadOnlyList<string> MedicationReferences,
    Dictionary<string, string?> Context)
{
    public bool IsEmpty => Keys.Count == 0 && MedicationReferences.Count == 0;

    public static FhirReadPlan For(CdsRequest request, IReadOnlyList<PrefetchEntry> entries)
    {
        var keys = entries.Where(e => e.NeedsFetch || (e.State == PrefetchState.Data && e.NextPage is not null)).ToList();
        var known = KnownIn(entries, request.Context?.DraftOrders);
        var drafts = request.Context?.DraftOrders?.Entry?.Select(e => e.Resource).OfType<Resource>() ?? [];
        var references = CdsHooks.Fhir.MedicationReferences.NeededFromServer(entries.SelectMany(e => e.Resources).Concat(drafts).OfType<MedicationUse>(), known);
        return new(keys, known, references, ContextValues(request));
    }

    /// <summary>The root-level primitive context fields a prefetch template may name (CDS Hooks 2.0 §Prefetch tokens).</summary>
    private static Dictionary<string, string?> ContextValues(CdsRequest request) => new(StringComparer.Ordinal)
    {
        ["patientId"] = request.Context?.PatientId,
        ["userId"] = request.Context?.UserId,
        ["encounterId"] = request.Context?.EncounterId,
    };

    /// <summary>Medication ids ("Medication/x") and full URLs already in the request, so they are not read again.</summary>
    private static HashSet<string> KnownIn(IEnumerable<PrefetchEntry> entries, Bundle? drafts)
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
}
