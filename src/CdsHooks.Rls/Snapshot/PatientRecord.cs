using CdsHooks.Fhir;

namespace CdsHooks.Rls.Snapshot;

public enum HookKind
{
    PatientView,
    OrderSelect,
    OrderSign,
}

/// <summary>
/// The FHIR data gathered for one hook call (from prefetch or the FHIR server), before interpretation.
/// Lists are empty, never null, when the EHR said it has no data.
/// </summary>
public sealed class PatientRecord
{
    public required string PatientId { get; init; }
    public Patient? Patient { get; init; }
    public IReadOnlyList<Observation> Observations { get; init; } = [];
    public IReadOnlyList<Condition> Conditions { get; init; } = [];
    public IReadOnlyList<MedicationStatement> MedicationStatements { get; init; } = [];
    public IReadOnlyList<MedicationRequest> MedicationRequests { get; init; } = [];
    /// <summary>Medication resources that <c>medicationReference</c>s may point at (bundle entries, reads).</summary>
    public IReadOnlyList<Medication> Medications { get; init; } = [];
    public Bundle? DraftOrders { get; init; }
    /// <summary>order-select only: "Type/id" of the orders the clinician selected.</summary>
    public IReadOnlyList<string> Selections { get; init; } = [];
    /// <summary>Optional data the service could not obtain (prefetch keys); mentioned in card details.</summary>
    public IReadOnlyList<string> Unavailable { get; init; } = [];

    /// <summary>True for the resource types a record holds (what <see cref="FromResources"/> keeps).</summary>
    public static bool Holds(Resource resource) =>
        resource is Fhir.Patient or Observation or Condition or MedicationStatement or MedicationRequest or Medication;

    /// <summary>
    /// A record from search results in any order: each resource goes to the list of its type (the first Patient
    /// wins); types a record does not hold are left out.
    /// </summary>
    public static PatientRecord FromResources(
        string patientId,
        IEnumerable<Resource> resources,
        Bundle? draftOrders = null,
        IReadOnlyList<string>? selections = null,
        IReadOnlyList<string>? unavailable = null)
    {
        var observations = new List<Observation>();
        var conditions = new List<Condition>();
        var statements = new List<MedicationStatement>();
        var requests = new List<MedicationRequest>();
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
            Medications = medications,
            DraftOrders = draftOrders,
            Selections = selections ?? [],
            Unavailable = unavailable ?? [],
        };
    }
}
