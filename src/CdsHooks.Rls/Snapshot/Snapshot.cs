using CdsHooks.Rls.Knowledge;

namespace CdsHooks.Rls.Snapshot;

/// <summary>One lab value in canonical units, with what it was read from (shown in card details).</summary>
public sealed record LabResult(
    Analyte Analyte,
    decimal Value,
    string? Comparator,
    string Unit,
    DateTimeOffset When,
    string Code,
    string? ReportedAs,
    bool Derived = false)
{
    /// <summary>True only when the value is certainly at most <paramref name="limit"/> (a "&gt;50" is not).</summary>
    public bool AtMost(decimal limit) => Comparator switch
    {
        ">" or ">=" => false,
        _ => Value <= limit,
    };

    /// <summary>True only when the value is certainly below <paramref name="limit"/>.</summary>
    public bool Below(decimal limit) => Comparator switch
    {
        ">" or ">=" => false,
        "<" => Value <= limit, // "<20" is below 20
        _ => Value < limit,
    };

    /// <summary>True only when the value is certainly above <paramref name="limit"/> (a "&lt;300" is not).</summary>
    public bool Above(decimal limit) => Comparator switch
    {
        "<" or "<=" => false,
        ">" => Value >= limit, // ">100" is above 100
        _ => Value > limit,
    };

    /// <summary>True only when the value is certainly at least <paramref name="limit"/>.</summary>
    public bool AtLeast(decimal limit) => Comparator switch
    {
        "<" or "<=" => false,
        _ => Value >= limit,
    };
}

/// <summary>How a drug was recognised: code, class code or name. Shown in card details for transparency.</summary>
public sealed record DrugMatch(string Ingredient, DrugClass Class, string Evidence);

public enum MedicationOrigin
{
    /// <summary>A draft order in context.draftOrders.</summary>
    Draft,
    /// <summary>An active MedicationRequest from the record.</summary>
    ActiveOrder,
    /// <summary>An active MedicationStatement.</summary>
    Statement,
}

/// <summary>A medication (draft, ordered or taken) with the drugs recognised in it.</summary>
public sealed record MedicationFact(
    string Name,
    IReadOnlyList<DrugMatch> Drugs,
    MedicationOrigin Origin,
    string? ResourceId,
    bool IsSelected)
{
    public bool Has(DrugClass cls)
    {
        // A loop, not Any(): the rules ask this for every medication on every call, and a lambda capturing cls allocates.
        foreach (var d in Drugs)
        {
            if (d.Class == cls) return true;
        }
        return false;
    }
}

/// <summary>Why the service believes the patient has RLS.</summary>
public sealed record RlsEvidence(string Description, bool FromCondition);

/// <summary>
/// Everything the rules need, interpreted and normalised: newest valid lab values in canonical units,
/// classified medications, diagnoses. Built by <see cref="SnapshotBuilder"/>; contains no FHIR or JSON.
/// </summary>
public sealed class PatientSnapshot
{
    public required string PatientId { get; init; }
    public required DateTimeOffset Now { get; init; }
    public int? AgeYears { get; init; }
    public RlsEvidence? Rls { get; init; }
    public string? Anxiety { get; init; }
    public IReadOnlyDictionary<Analyte, LabResult> Latest { get; init; } = new Dictionary<Analyte, LabResult>();
    /// <summary>Results that were read but not used, with the reason (unknown unit, no value, no date).</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];
    public IReadOnlyList<MedicationFact> Medications { get; init; } = [];
    /// <summary>True when the draft orders already include ferritin or iron studies.</summary>
    public bool IronStudiesAlreadyOrdered { get; init; }
    public IReadOnlyList<string> Unavailable { get; init; } = [];

    public LabResult? Lab(Analyte analyte) => Latest.TryGetValue(analyte, out var r) ? r : null;
}
