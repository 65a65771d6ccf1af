namespace CdsHooks.Rls.Knowledge;

/// <summary>The numeric results the rules read, each in one canonical unit (see the knowledge file's <c>units</c>).</summary>
public enum Analyte
{
    Ferritin,
    Tsat,
    Iron,
    Tibc,
    Transferrin,
    Crp,
    Hemoglobin,
    Phosphate,
    Egfr,
}

public enum DrugClass
{
    Ssri,
    Snri,
    Mirtazapine,
    Tca,
    SedatingAntihistamine,
    DopamineAntagonist,
    DopamineAgonist,
    Levodopa,
    Alpha2DeltaLigand,
    OralIron,
    IvIron,
    IronChelator,
    AlternativeAntidepressant,
}

public enum ConditionKind
{
    Rls,
    Anxiety,
    IronOverload,
    Pregnancy,
    Parkinsonism,
    KidneyFailure,
    Dialysis,
    PostherpeticNeuralgia,
}

/// <summary>
/// What the service reads about a patient, in the words a card uses when it could not be read ("Could not check
/// the allergy list"). Each prefetch key covers one or more areas; a rule that needs an area it could not read
/// suggests nothing that area guards.
/// </summary>
public enum DataArea
{
    Patient,
    Conditions,
    Medications,
    MedicationDetails,
    IronLabs,
    CrpHemoglobin,
    Allergies,
    IronHistory,
    Pregnancy,
    Phosphate,
    KidneyFunction,
}

/// <summary>The card kinds; <see cref="CardKinds.Code"/> is the <c>source.topic.code</c> of each card.</summary>
public enum CardKind
{
    IronStudies,
    IronTherapy,
    IvIron,
    IvIronCaution,
    IronContraindicated,
    IronFollowUp,
    IronOverloadWorkup,
    SsriCaution,
    AggravatingDrugCaution,
    AugmentationRisk,
    DataIncomplete,
}

public static class CardKinds
{
    public static string Code(this CardKind kind) => kind switch
    {
        CardKind.IronStudies => "iron-studies",
        CardKind.IronTherapy => "iron-therapy",
        CardKind.IvIron => "iv-iron",
        CardKind.IvIronCaution => "iv-iron-caution",
        CardKind.IronContraindicated => "iron-contraindicated",
        CardKind.IronFollowUp => "iron-follow-up",
        CardKind.IronOverloadWorkup => "iron-overload-workup",
        CardKind.AugmentationRisk => "augmentation-risk",
        CardKind.SsriCaution => "ssri-caution",
        CardKind.AggravatingDrugCaution => "aggravating-drug-caution",
        CardKind.DataIncomplete => "data-incomplete",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static IReadOnlyList<CardKind> All { get; } = Enum.GetValues<CardKind>();

    public static CardKind? FromCode(string? code)
    {
        foreach (var kind in All)
        {
            if (kind.Code() == code) return kind;
        }
        return null;
    }

    internal static Analyte? ParseAnalyte(string? s) => Parse<Analyte>(s);

    internal static DrugClass? ParseDrugClass(string? s) => Parse<DrugClass>(s);

    internal static ConditionKind? ParseConditionKind(string? s) => Parse<ConditionKind>(s);

    internal static DataArea? ParseDataArea(string? s) => Parse<DataArea>(s);

    /// <summary>The kebab-case name the knowledge file uses for an enum member ("sedating-antihistamine").</summary>
    public static string FileName<T>(T value) where T : struct, Enum
    {
        var name = value.ToString();
        var sb = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0) sb.Append('-');
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    /// <summary>Reads a kebab-case name of the knowledge file ("dopamine-agonist", "alpha2-delta-ligand" is "Alpha2DeltaLigand").</summary>
    private static T? Parse<T>(string? s) where T : struct, Enum
    {
        if (s is null) return null;
        foreach (var value in Enum.GetValues<T>())
        {
            if (FileName(value) == s) return value;
        }
        return null;
    }
}
