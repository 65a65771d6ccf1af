using CdsHooks.Fhir;
using CdsHooks.Rls.Knowledge;

namespace CdsHooks.Rls.Snapshot;

/// <summary>
/// Data the service could not read for an area: none of it (<see cref="Partial"/> false) or only part of it (a later
/// page failed). <see cref="Why"/> is short and for clinicians ("the FHIR server failed (503)"); <see cref="Key"/> (the
/// request element, e.g. <c>prefetch.conditions</c>), <see cref="Code"/> (a FHIR IssueType) and
/// <see cref="Diagnostics"/> are for the EHR when the answer is a 412.
/// </summary>
public sealed record DataGap(DataArea Area, bool Partial, string Why, string? Key = null, string Code = "incomplete", string? Diagnostics = null);

/// <summary>
/// The FHIR data gathered for one hook call (from prefetch or the FHIR server), before interpretation.
/// Lists are empty, never null, when the EHR said it has no data; <see cref="Gaps"/> says what could not be read.
/// </summary>
public sealed class PatientRecord
{
    public required string PatientId { get; init; }
    public Patient? Patient { get; init; }
    public IReadOnlyList<Observation> Observations { get; init; } = [];
    public IReadOnlyList<Condition> Conditions { get; init; } = [];
    public IReadOnlyList<MedicationStatement> MedicationStatements { get; init; } = [];
    public IReadOnlyList<MedicationRequest> MedicationRequests { get; init; } = [];
    public IReadOnlyList<MedicationAdministration> MedicationAdministrations { get; init; } = [];
    public IReadOnlyList<AllergyIntolerance> Allergies { get; init; } = [];
    /// <summary>Medication resources that <c>medicationReference</c>s may point at (bundle entries, reads).</summary>
    public IReadOnlyList<Medication> Medications { get; init; } = [];
    public Bundle? DraftOrders { get; init; }
    /// <summary>order-select only: "Type/id" of the orders the clinician selected.</summary>
    public IReadOnlyList<string> Selections { get; init; } = [];
    /// <summary>What could not be read, by area.</summary>
    public IReadOnlyList<DataGap> Gaps { get; init; } = [];

    /// <summary>True for the resource types a record holds (what <see cref="FromResources"/> keeps).</summary>
    public static bool Holds(Resource resource) =>
        resource is Fhir.Patient or Observation or Condition or MedicationStatement or MedicationRequest or MedicationAdministration
            or AllergyIntolerance or Medication;

    /// <summary>
    /// A record from search results in any order: each resource goes to the list of its type (the first Patient
    /// wins); types a record does not hold are left out. The prefetch keys' searches do not overlap (different types,
    /// statuses or codes), so nothing is de-duplicated here; a resource a server sends twice is read twice, which
    /// changes no finding.
    /// </summary>
    public static PatientRecord FromResources(
        string patientId,
        IEnumerable<Resource> resources,
        Bundle? draftOrders = null,
        IReadOnlyList<string>? selections = null,
        IReadOnlyList<DataGap>? gaps = null)
    {
        var observations = new List<Observation>();
        var conditions = new List<Condition>();
        var statements = new List<MedicationStatement>();
        var requests = new List<MedicationRequest>();
        var administrations = new List<MedicationAdministration>();
        var allergies = new List<AllergyIntolerance>();
        var medications = new List<Medication>();
        Fhir.Patient? patient = null;
        foreach (var resource in resources)
        {
            switch (resource)
            {
                case Fhir.Patient p: patient ??= p; break;
                case Observation o: observations.Add(o); break;
                case Condition c: conditions.Add(c); break;
                case MedicationStatement ms: statements.Add(ms); break;
                case MedicationRequest mr: requests.Add(mr); break;
                case MedicationAdministration ma: administrations.Add(ma); break;
                case AllergyIntolerance ai: allergies.Add(ai); break;
                case Medication m: medications.Add(m); break;
            }
        }
        return new PatientRecord
        {
            PatientId = patientId,
            Patient = patient,
            Observations = observations,
            Conditions = conditions,
            MedicationStatements = statements,
            MedicationRequests = requests,
            MedicationAdministrations = administrations,
            Allergies = allergies,
            Medications = medications,
            DraftOrders = draftOrders,
            Selections = selections ?? [],
            Gaps = gaps ?? [],
        };
    }
}
