using System.Collections.Frozen;
using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;

namespace CdsHooks.Api.Services;

/// <summary>What the rules do when a prefetch key cannot be read.</summary>
public enum PrefetchRole
{
    /// <summary>Nothing useful can be said without it: a 412 when it cannot be read at all (read in part: a card says so).</summary>
    Required,
    /// <summary>
    /// It guards an order suggestion (allergies, recent iron, pregnancy, phosphate): when it cannot be read — absent
    /// and not fetched, failed, or sent as null — the orders it guards are not suggested and the card says why.
    /// </summary>
    Guard,
    /// <summary>Caveats only (CRP, hemoglobin): the card says it was not available.</summary>
    Optional,
}

/// <summary>One prefetch key: its FHIR query template, its role, and the data areas it covers.</summary>
public sealed record PrefetchKey(string Name, string Template, string ResourceType, PrefetchRole Role, string Describes, IReadOnlyList<DataArea> Areas)
{
    public bool Required => Role == PrefetchRole.Required;
}

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
/// The services in discovery and their prefetch templates. LOINC codes in the templates come from the knowledge
/// file, so the queries always ask for exactly what the rules read. Every query stays in the CDS Hooks 2.0
/// recommended subset (type search, patient reference, token codes, _sort, _count): relative dates are not
/// expressible there, so the recent-iron searches are newest first with a _count and the look-back is applied by
/// the rules.
/// </summary>
public sealed class CdsServiceCatalog
{
    public const string PatientKey = "patient";
    public const string IronLabsKey = "ironLabs";
    public const string CrpAndHemoglobinKey = "crpAndHemoglobin";
    public const string MedicationStatementsKey = "medicationStatements";
    public const string MedicationRequestsKey = "medicationRequests";
    public const string ConditionsKey = "conditions";
    public const string AllergiesKey = "allergies";
    public const string IronAdministrationsKey = "ironAdministrations";
    public const string PastMedicationRequestsKey = "pastMedicationRequests";
    public const string PastMedicationStatementsKey = "pastMedicationStatements";
    public const string SafetyObservationsKey = "safetyObservations";

    private readonly FrozenDictionary<string, CdsServiceDefinition> _byId;

    public CdsServiceCatalog(RlsKnowledge knowledge)
    {
        var prefetch = PrefetchKeys(knowledge);
        Services =
        [
            new("rls-iron-order-select", "order-select", HookKind.OrderSelect,
                "RLS: iron status and RLS-aggravating drugs (order-select)",
                "As orders are selected for a patient with restless legs syndrome: warns when a serotonergic antidepressant, sedating antihistamine or dopamine antagonist is selected, cautions on iron orders that meet a contraindication, and gives iron studies / iron therapy advice from ferritin and transferrin saturation (AASM 2024, IRLSSG 2018).",
                prefetch),
            new("rls-iron-order-sign", "order-sign", HookKind.OrderSign,
                "RLS: iron status and RLS-aggravating drugs (order-sign)",
                "Before orders are signed for a patient with restless legs syndrome: checks every draft order for RLS-aggravating drugs and for iron that is not indicated or meets a contraindication, and gives iron advice (AASM 2024, IRLSSG 2018).",
                prefetch),
            new("rls-iron-patient-view", "patient-view", HookKind.PatientView,
                "RLS: iron status and RLS-aggravating medications (patient-view)",
                "When the chart of a patient with restless legs syndrome is opened: iron studies due, iron therapy or IV iron indicated (checked against contraindications), and active medications that can worsen RLS (AASM 2024, IRLSSG 2018).",
                prefetch),
        ];
        _byId = Services.ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<CdsServiceDefinition> Services { get; }

    public CdsServiceDefinition? Find(string id) => _byId.TryGetValue(id, out var s) ? s : null;

    private static List<PrefetchKey> PrefetchKeys(RlsKnowledge k)
    {
        string Codes(IEnumerable<string> loinc) => string.Join(',', loinc.Select(c => "http://loinc.org|" + c));
        string Loinc(params Analyte[] analytes) => Codes(analytes.SelectMany(a => k.LabCodesByAnalyte.TryGetValue(a, out var codes) ? codes : []));
        var safety = Codes(k.LabCodesByAnalyte[Analyte.Phosphate].Concat(k.LabCodesByAnalyte[Analyte.Egfr]).Concat(k.PregnancyLoincCodes));
        return
        [
            new(PatientKey, "Patient/{{context.patientId}}", "Patient", PrefetchRole.Required, "the patient (age, sex)", [DataArea.Patient]),
            new(IronLabsKey, $"Observation?patient={{{{context.patientId}}}}&code={Loinc(Analyte.Ferritin, Analyte.Tsat, Analyte.Iron, Analyte.Tibc)}&_sort=-date&_count=50", "Observation", PrefetchRole.Required, "ferritin, TSAT, iron and TIBC results", [DataArea.IronLabs]),
            new(CrpAndHemoglobinKey, $"Observation?patient={{{{context.patientId}}}}&code={Loinc(Analyte.Crp, Analyte.Hemoglobin)}&_sort=-date&_count=20", "Observation", PrefetchRole.Optional, "CRP and hemoglobin results", [DataArea.CrpHemoglobin]),
            new(MedicationStatementsKey, "MedicationStatement?patient={{context.patientId}}&status=active", "MedicationStatement", PrefetchRole.Required, "active medication statements", [DataArea.Medications]),
            new(MedicationRequestsKey, "MedicationRequest?patient={{context.patientId}}&status=active", "MedicationRequest", PrefetchRole.Required, "active medication orders", [DataArea.Medications]),
            // Every active condition (problem list and encounter diagnoses), classified inside the service: RLS (also
            // text-only entries), anxiety, and what guards iron: overload, pregnancy, Parkinson disease, kidney failure.
            new(ConditionsKey, "Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse&_count=100", "Condition", PrefetchRole.Required, "active conditions", [DataArea.Conditions]),
            new(AllergiesKey, "AllergyIntolerance?patient={{context.patientId}}&clinical-status=active&_count=100", "AllergyIntolerance", PrefetchRole.Guard, "active allergies and intolerances", [DataArea.Allergies]),
            new(IronAdministrationsKey, "MedicationAdministration?patient={{context.patientId}}&status=completed,in-progress&_sort=-effective-time&_count=50", "MedicationAdministration", PrefetchRole.Guard, "medications given (recent first)", [DataArea.IronHistory]),
            new(PastMedicationRequestsKey, "MedicationRequest?patient={{context.patientId}}&status=completed,stopped&_sort=-authoredon&_count=50", "MedicationRequest", PrefetchRole.Guard, "completed and stopped medication orders (recent first)", [DataArea.IronHistory]),
            new(PastMedicationStatementsKey, "MedicationStatement?patient={{context.patientId}}&status=completed,stopped&_sort=-effective&_count=50", "MedicationStatement", PrefetchRole.Guard, "completed and stopped medication statements (recent first)", [DataArea.IronHistory]),
            new(SafetyObservationsKey, $"Observation?patient={{{{context.patientId}}}}&code={safety}&_sort=-date&_count=50", "Observation", PrefetchRole.Guard, "phosphate, eGFR and pregnancy results", [DataArea.Phosphate, DataArea.KidneyFunction, DataArea.Pregnancy]),
        ];
    }
}
