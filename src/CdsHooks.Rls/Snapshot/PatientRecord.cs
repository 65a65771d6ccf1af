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
}
