using System.Collections.Frozen;
using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Api.Services;

/// <summary>One prefetch key: its FHIR query template and whether the rules cannot work without it.</summary>
public sealed record PrefetchKey(string Name, string Template, string ResourceType, bool Required, string Describes);

/// <summary>A CDS service this host offers: one per hook, sharing the RLS rules.</summary>
public sealed record CdsServiceDefinition(string Id, string Hook, HookKind Kind, string Title, string Description, IReadOnlyList<PrefetchKey> Prefetch)
{
    public CdsServiceDescriptor ToDescriptor() => new()
    {
        Hook = Hook,
        Id = Id,
        Title = Title,
        Description = Description,
        Prefetch = Prefetch.ToDictionary(p => p.Name, p => p.Template),
        UsageRequirements = "Send the prefetch keys listed (null: no data). Keys left out are read from fhirServer, which must be on this service's allowlist: with fhirAuthorization's access token when one is sent, else without a token (an open FHIR server, as the CDS Hooks Sandbox uses).",
    };
}

/// <summary>
/// The services in discovery and their prefetch templates. LOINC and diagnosis codes in the templates come
/// from the knowledge file, so the queries always ask for exactly what the rules read.
/// </summary>
public sealed class CdsServiceCatalog
{
    public const string PatientKey = "patient";
    public const string IronLabsKey = "ironLabs";
    public const string CrpAndHemoglobinKey = "crpAndHemoglobin";
    public const string MedicationStatementsKey = "medicationStatements";
    public const string MedicationRequestsKey = "medicationRequests";
    public const string ConditionsKey = "conditions";

    private readonly FrozenDictionary<string, CdsServiceDefinition> _byId;

    public CdsServiceCatalog(RlsKnowledge knowledge)
    {
        var prefetch = PrefetchKeys(knowledge);
        Services =
        [
            new("rls-iron-order-select", "order-select", HookKind.OrderSelect,
                "RLS: iron status and RLS-aggravating drugs (order-select)",
                "As orders are selected for a patient with restless legs syndrome: warns when a serotonergic antidepressant, sedating antihistamine or dopamine antagonist is selected, and gives iron studies / iron therapy advice from ferritin and transferrin saturation (AASM 2024, IRLSSG 2018).",
                prefetch),
            new("rls-iron-order-sign", "order-sign", HookKind.OrderSign,
                "RLS: iron status and RLS-aggravating drugs (order-sign)",
                "Before orders are signed for a patient with restless legs syndrome: checks every draft order for RLS-aggravating drugs and IV iron that is not indicated, and gives iron advice (AASM 2024, IRLSSG 2018).",
                prefetch),
            new("rls-iron-patient-view", "patient-view", HookKind.PatientView,
                "RLS: iron status and RLS-aggravating medications (patient-view)",
                "When the chart of a patient with restless legs syndrome is opened: iron studies due, iron therapy or IV iron indicated, and active medications that can worsen RLS (AASM 2024, IRLSSG 2018).",
                prefetch),
        ];
        _byId = Services.ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<CdsServiceDefinition> Services { get; }

    public CdsServiceDefinition? Find(string id) => _byId.TryGetValue(id, out var s) ? s : null;

    private static List<PrefetchKey> PrefetchKeys(RlsKnowledge k)
    {
        string Loinc(params Analyte[] analytes) => string.Join(',',
            analytes.SelectMany(a => k.LabCodesByAnalyte.TryGetValue(a, out var codes) ? codes : []).Select(c => "http://loinc.org|" + c));
        var diagnoses = string.Join(',', k.RlsConditionCodes.Concat(k.AnxietyConditionCodes).Select(c => $"{c.System}|{c.Code}"));
        return
        [
            new(PatientKey, "Patient/{{context.patientId}}", "Patient", true, "the patient (age)"),
            new(IronLabsKey, $"Observation?patient={{{{context.patientId}}}}&code={Loinc(Analyte.Ferritin, Analyte.Tsat, Analyte.Iron, Analyte.Tibc)}&_sort=-date&_count=50", "Observation", true, "ferritin, TSAT, iron and TIBC results"),
            new(CrpAndHemoglobinKey, $"Observation?patient={{{{context.patientId}}}}&code={Loinc(Analyte.Crp, Analyte.Hemoglobin)}&_sort=-date&_count=20", "Observation", false, "CRP and hemoglobin results"),
            new(MedicationStatementsKey, "MedicationStatement?patient={{context.patientId}}&status=active", "MedicationStatement", true, "active medication statements"),
            new(MedicationRequestsKey, "MedicationRequest?patient={{context.patientId}}&status=active", "MedicationRequest", true, "active medication orders"),
            new(ConditionsKey, $"Condition?patient={{{{context.patientId}}}}&code={diagnoses}", "Condition", true, "RLS and anxiety diagnoses"),
        ];
    }
}
