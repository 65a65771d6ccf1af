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
    bool Derived = false,
    string? SourceId = null)
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
public sealed record DrugMatch(string Ingredient, DrugClass Class, string Evidence, KnownDrug? Drug = null);

public enum MedicationOrigin
{
    /// <summary>A draft order in context.draftOrders.</summary>
    Draft,
    /// <summary>An active MedicationRequest from the record.</summary>
    ActiveOrder,
    /// <summary>An active MedicationStatement.</summary>
    Statement,
    /// <summary>A completed or stopped MedicationRequest.</summary>
    PastOrder,
    /// <summary>A completed or stopped MedicationStatement.</summary>
    PastStatement,
    /// <summary>A MedicationAdministration: a dose given (completed or in progress).</summary>
    Administration,
}

/// <summary>
/// A medication (draft, ordered, taken or given) with the drugs recognised in it. <see cref="When"/> is when it was
/// ordered, started or given, where the record says. <see cref="Unidentified"/> says why the drug of a medication
/// could not be told (no code, text or name; a reference that could not be read).
/// </summary>
public sealed record MedicationFact(
    string Name,
    IReadOnlyList<DrugMatch> Drugs,
    MedicationOrigin Origin,
    string? ResourceId,
    bool IsSelected,
    DateTimeOffset? When = null,
    string? Unidentified = null)
{
    public bool Has(DrugClass cls)
    {
        // An index loop, not Any() or foreach: the rules ask this for every medication on every call, and both a lambda
        // capturing cls and an enumerator of the IReadOnlyList allocate.
        var drugs = Drugs;
        for (int i = 0; i < drugs.Count; i++)
        {
            if (drugs[i].Class == cls) return true;
        }
        return false;
    }

    public DrugMatch? First(DrugClass cls)
    {
        var drugs = Drugs;
        for (int i = 0; i < drugs.Count; i++)
        {
            if (drugs[i].Class == cls) return drugs[i];
        }
        return null;
    }

    /// <summary>Current: an active order or statement, or a draft being ordered now.</summary>
    public bool IsCurrent => Origin is MedicationOrigin.Draft or MedicationOrigin.ActiveOrder or MedicationOrigin.Statement;

    public bool IsIron => Has(DrugClass.OralIron) || Has(DrugClass.IvIron);
}

/// <summary>Why the service believes the patient has RLS.</summary>
public sealed record RlsEvidence(string Description, bool FromCondition);

/// <summary>An active condition of a kind the rules use, with what its code says (trimester, weeks of gestation).</summary>
public sealed record ConditionFact(ConditionKind Kind, string Display, ConditionMatch Match, DateTimeOffset? Recorded);

/// <summary>An active allergy or intolerance to iron: which forms it rules out and whether it was serious.</summary>
public sealed record AllergyFact(IronForm Forms, bool Serious, string Description);

public enum Sex
{
    Unknown,
    Female,
    Male,
    Other,
}

public enum PregnancyState
{
    /// <summary>Nothing in a readable record says the patient is pregnant now.</summary>
    NotKnownPregnant,
    Pregnant,
    /// <summary>The latest pregnancy status is "unknown", or a pregnancy record could not be read.</summary>
    Unknown,
}

/// <summary>
/// Pregnancy as the record shows it now. <see cref="WeeksLow"/>/<see cref="WeeksHigh"/> bound the gestational age
/// today from every dated piece of evidence (an estimated delivery date, a gestational age, a weeks-of-gestation or
/// trimester code), so the first trimester is known only when the upper bound is below its end.
/// </summary>
public sealed record PregnancyFact(PregnancyState State, decimal? WeeksLow, decimal? WeeksHigh, string Evidence)
{
    public static PregnancyFact None { get; } = new(PregnancyState.NotKnownPregnant, null, null, "none recorded");

    /// <summary>The gestational age in a few words: "about 10 weeks", "at least 14 weeks", "weeks not known".</summary>
    public string Weeks => (WeeksLow, WeeksHigh) switch
    {
        ({ } low, { } high) when high - low <= 2 => $"about {Math.Round((low + high) / 2):0} weeks",
        ({ } low, { } high) => $"{Math.Floor(low):0} to {Math.Ceiling(high):0} weeks",
        ({ } low, null) when low > 0 => $"at least {Math.Floor(low):0} weeks",
        _ => "weeks not known",
    };
}

/// <summary>
/// Everything the rules need, interpreted and normalised: newest valid lab values in canonical units, classified
/// medications, diagnoses, allergies and pregnancy, and what could not be read. Built by <see cref="SnapshotBuilder"/>;
/// contains no FHIR or JSON.
/// </summary>
public sealed class PatientSnapshot
{
    public required string PatientId { get; init; }
    public required DateTimeOffset Now { get; init; }
    public int? AgeYears { get; init; }
    /// <summary>Why the age is unknown (no birth date, or one that is not plausible), for the card.</summary>
    public string? AgeUnknownWhy { get; init; }
    public Sex Sex { get; init; }
    public RlsEvidence? Rls { get; init; }
    public string? Anxiety { get; init; }
    public IReadOnlyList<ConditionFact> Conditions { get; init; } = [];
    public IReadOnlyDictionary<Analyte, LabResult> Latest { get; init; } = new Dictionary<Analyte, LabResult>();
    /// <summary>Results that were read but not used, with the reason (unknown unit, no value, no date, future date).</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];
    public IReadOnlyList<MedicationFact> Medications { get; init; } = [];
    public IReadOnlyList<AllergyFact> Allergies { get; init; } = [];
    public PregnancyFact Pregnancy { get; init; } = PregnancyFact.None;
    /// <summary>Lab analytes the draft orders already order (ferritin, TSAT via a panel, phosphate).</summary>
    public IReadOnlySet<Analyte> DraftedLabs { get; init; } = new HashSet<Analyte>();
    /// <summary>order-select: the analytes of the selected draft lab orders (the rest of <see cref="DraftedLabs"/> is not selected).</summary>
    public IReadOnlySet<Analyte> SelectedLabs { get; init; } = new HashSet<Analyte>();
    /// <summary>Data the service could not read (whole or in part), by area.</summary>
    public IReadOnlyList<DataGap> Gaps { get; init; } = [];

    public LabResult? Lab(Analyte analyte) => Latest.TryGetValue(analyte, out var r) ? r : null;

    public bool Has(ConditionKind kind) => First(kind) is not null;

    public ConditionFact? First(ConditionKind kind)
    {
        var conditions = Conditions;
        for (int i = 0; i < conditions.Count; i++)
        {
            if (conditions[i].Kind == kind) return conditions[i];
        }
        return null;
    }

    /// <summary>The gap that kept <paramref name="area"/> from being read completely, if any.</summary>
    public DataGap? GapIn(DataArea area)
    {
        var gaps = Gaps;
        for (int i = 0; i < gaps.Count; i++)
        {
            if (gaps[i].Area == area) return gaps[i];
        }
        return null;
    }

    public bool IsChild(ClinicalThresholds t) => AgeYears is { } age && age < t.AdultAgeYears;

    /// <summary>
    /// Whether a pregnancy cannot be ruled out from age and sex alone: then missing pregnancy data blocks what a
    /// pregnancy would rule out.
    /// </summary>
    public bool CouldBePregnant(ClinicalThresholds t) =>
        Sex != Sex.Male && (AgeYears is not { } age || (age >= t.PregnancyPossibleFromAge && age <= t.PregnancyPossibleToAge));
}
