namespace CdsHooks.Rls.Knowledge;

public enum Analyte
{
    Ferritin,
    Tsat,
    Iron,
    Tibc,
    Transferrin,
    Crp,
    Hemoglobin,
}

public enum DrugClass
{
    Ssri,
    Snri,
    Mirtazapine,
    Tca,
    SedatingAntihistamine,
    DopamineAntagonist,
    RlsTreatment,
    OralIron,
    IvIron,
    AlternativeAntidepressant,
}

public enum ConditionKind
{
    Rls,
    Anxiety,
}

/// <summary>The six card kinds; <see cref="CardKinds.Code"/> is the <c>source.topic.code</c> of each card.</summary>
public enum CardKind
{
    IronStudies,
    IronTherapy,
    IvIron,
    IvIronCaution,
    SsriCaution,
    AggravatingDrugCaution,
}

public static class CardKinds
{
    public static string Code(this CardKind kind) => kind switch
    {
        CardKind.IronStudies => "iron-studies",
        CardKind.IronTherapy => "iron-therapy",
        CardKind.IvIron => "iv-iron",
        CardKind.IvIronCaution => "iv-iron-caution",
        CardKind.SsriCaution => "ssri-caution",
        CardKind.AggravatingDrugCaution => "aggravating-drug-caution",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static string Display(this CardKind kind) => kind switch
    {
        CardKind.IronStudies => "Iron studies due in RLS",
        CardKind.IronTherapy => "Iron therapy indicated in RLS",
        CardKind.IvIron => "Consider IV iron in RLS",
        CardKind.IvIronCaution => "IV iron not indicated",
        CardKind.SsriCaution => "Serotonergic antidepressant may worsen RLS",
        CardKind.AggravatingDrugCaution => "Medication may worsen RLS",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static IReadOnlyList<CardKind> All { get; } = Enum.GetValues<CardKind>();

    public static CardKind? FromCode(string? code) => code switch
    {
        "iron-studies" => CardKind.IronStudies,
        "iron-therapy" => CardKind.IronTherapy,
        "iv-iron" => CardKind.IvIron,
        "iv-iron-caution" => CardKind.IvIronCaution,
        "ssri-caution" => CardKind.SsriCaution,
        "aggravating-drug-caution" => CardKind.AggravatingDrugCaution,
        _ => null,
    };

    internal static Analyte? ParseAnalyte(string? s) => s switch
    {
        "ferritin" => Analyte.Ferritin,
        "tsat" => Analyte.Tsat,
        "iron" => Analyte.Iron,
        "tibc" => Analyte.Tibc,
        "transferrin" => Analyte.Transferrin,
        "crp" => Analyte.Crp,
        "hemoglobin" => Analyte.Hemoglobin,
        _ => null,
    };

    internal static DrugClass? ParseDrugClass(string? s) => s switch
    {
        "ssri" => DrugClass.Ssri,
        "snri" => DrugClass.Snri,
        "mirtazapine" => DrugClass.Mirtazapine,
        "tca" => DrugClass.Tca,
        "sedating-antihistamine" => DrugClass.SedatingAntihistamine,
        "dopamine-antagonist" => DrugClass.DopamineAntagonist,
        "rls-treatment" => DrugClass.RlsTreatment,
        "oral-iron" => DrugClass.OralIron,
        "iv-iron" => DrugClass.IvIron,
        "alternative-antidepressant" => DrugClass.AlternativeAntidepressant,
        _ => null,
    };

    internal static ConditionKind? ParseConditionKind(string? s) => s switch
    {
        "rls" => ConditionKind.Rls,
        "anxiety" => ConditionKind.Anxiety,
        _ => null,
    };
}
