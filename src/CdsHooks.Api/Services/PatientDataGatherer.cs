using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Api.Services;

/// <summary>Data a hook call needs but could not get: reported to the client in a 412 OperationOutcome.</summary>
public sealed record MissingData(string Key, string Reason);

/// <summary>The result of gathering: a record for the rules, or what is missing.</summary>
public sealed record GatherResult(PatientRecord? Record, IReadOnlyList<MissingData> Missing);

/// <summary>
/// Reads what prefetch lacks from somewhere else (the EHR's FHIR server). Given the keys that are absent,
/// failed or paged, returns the completed entries and the keys it could not obtain.
/// </summary>
public interface IPrefetchFallback
{
    Task<FallbackResult> FetchAsync(CdsRequest request, IReadOnlyList<PrefetchEntry> needed, CancellationToken cancellationToken);
}

public sealed record FallbackResult(IReadOnlyList<PrefetchEntry> Fetched, IReadOnlyList<MissingData> Missing);

/// <summary>Used until a FHIR fallback is configured: nothing can be fetched, so absent required data is a 412.</summary>
public sealed class NoPrefetchFallback : IPrefetchFallback
{
    public Task<FallbackResult> FetchAsync(CdsRequest request, IReadOnlyList<PrefetchEntry> needed, CancellationToken cancellationToken) =>
        Task.FromResult(new FallbackResult([], [.. needed.Where(e => e.NeedsFetch).Select(e => new MissingData(e.Key.Name,
            e.State == PrefetchState.Failed
                ? $"The client's prefetch of {e.Key.Describes} failed (OperationOutcome) and this service has no FHIR server access to read it."
                : $"Prefetch '{e.Key.Name}' ({e.Key.Describes}) was not sent and this service has no FHIR server access to read it."))]));
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
        var needed = entries.Values.Where(e => e.NeedsFetch || e.NextPage is not null).ToList();
        var unavailable = new List<string>();
        if (needed.Count > 0)
        {
            var result = await fallback.FetchAsync(request, needed, cancellationToken);
            foreach (var fetched in result.Fetched) entries[fetched.Key.Name] = fetched;
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

        return new GatherResult(BuildRecord(request, entries, unavailable), []);
    }

    private static PatientRecord BuildRecord(CdsRequest request, Dictionary<string, PrefetchEntry> entries, List<string> unavailable)
    {
        var observations = new List<Observation>();
        var conditions = new List<Condition>();
        var statements = new List<MedicationStatement>();
        var requests = new List<MedicationRequest>();
        var medications = new List<Medication>();
        Patient? patient = null;
        foreach (var entry in entries.Values)
        {
            foreach (var resource in entry.Resources)
            {
                switch (resource)
                {
                    case Patient p: patient ??= p; break;
                    case Observation o: observations.Add(o); break;
                    case Condition c: conditions.Add(c); break;
                    case MedicationStatement ms: statements.Add(ms); break;
                    case MedicationRequest mr: requests.Add(mr); break;
                    case Medication m: medications.Add(m); break;
                }
            }
        }

        var context = request.Context!;
        return new PatientRecord
        {
            PatientId = context.PatientId!,
            Patient = patient,
            Observations = observations,
            Conditions = conditions,
            MedicationStatements = statements,
            MedicationRequests = requests,
            Medications = medications,
            DraftOrders = context.DraftOrders,
            Selections = context.Selections ?? [],
            Unavailable = unavailable,
        };
    }
}
