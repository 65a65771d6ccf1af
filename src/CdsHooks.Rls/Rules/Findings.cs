using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Rules;

/// <summary>A clinical conclusion about one issue; each becomes exactly one card.</summary>
public abstract record Finding(CardKind Kind)
{
    /// <summary>Distinguishes two findings of one kind (two different drugs); part of the stable card uuid.</summary>
    public virtual string Key => Kind.Code();

    /// <summary>What the card shows as its basis and caveats: decided by the rules, worded by the card.</summary>
    public required Evidence Evidence { get; init; }
}

/// <summary>
/// Why an order is not suggested or is cautioned: a contraindication from the knowledge file (with the patient's
/// detail, e.g. "hereditary hemochromatosis (diagnosis)"), or data that guards it and could not be read.
/// </summary>
public sealed record Block(Contraindication? Contraindication, string? Detail, DataArea? NotChecked = null, string? Why = null)
{
    public bool Critical => Contraindication?.Critical == true;
}

/// <summary>An iron product considered for a patient and what, if anything, keeps it from being suggested.</summary>
public sealed record IronOption(Product Product, IReadOnlyList<Block> Blocks)
{
    public bool Offered => Blocks.Count == 0;
}

/// <summary>A lab result shown in a card's basis; <see cref="Old"/> when it is outside the recency window and not used.</summary>
public sealed record ShownLab(LabResult Lab, bool Old);

public enum CaveatKind
{
    CrpRaised,
    AssayVariation,
    DerivedTsat,
    Skipped,
    Unavailable,
}

public sealed record Caveat(CaveatKind Kind, string? Detail = null);

/// <summary>The data a card shows it used, and the caveats that apply to it.</summary>
public sealed record Evidence(IReadOnlyList<ShownLab> Labs, bool ShowAge, IReadOnlyList<Caveat> Caveats);

/// <summary>RLS and no recent ferritin, TSAT or both (AASM 2024 GPS 1): order what is missing.</summary>
public sealed record IronStudiesDue(IReadOnlyList<Analyte> Missing, LabResult? Present, LabOrder Order) : Finding(CardKind.IronStudies);

/// <summary>Ferritin ≤ 75 ng/mL or TSAT &lt; 20 % (AASM 2024 GPS 1): iron, by the options that are safe to suggest.</summary>
public sealed record IronTherapyIndicated(
    LabResult? Ferritin,
    LabResult? Tsat,
    IReadOnlyList<IronOption> Options,
    MedicationFact? InProgress,
    IReadOnlyList<LabOrder> Tests) : Finding(CardKind.IronTherapy)
{
    /// <summary>Special populations the card speaks to, decided by the rules.</summary>
    public IronContext Context { get; init; } = IronContext.None;
}

/// <summary>
/// What an iron card says about the patient beyond the labs: a child (pediatric threshold, oral first), a pregnancy,
/// dialysis (the guideline's ESRD pathway), iron-deficiency anaemia whose cause must be sought (men, post-menopausal
/// women), a TSAT drawn while taking iron.
/// </summary>
public sealed record IronContext(bool Child, bool Pregnant, bool Dialysis, LabResult? CauseHemoglobin, bool TsatWhileOnIron)
{
    public static IronContext None { get; } = new(false, false, false, null, false);
}

/// <summary>75 &lt; ferritin ≤ 100 ng/mL and TSAT &lt; 45 %: IV iron, oral unlikely to help (AASM 2024; IRLSSG 2018).</summary>
public sealed record IvIronSuggested(
    LabResult Ferritin,
    LabResult? Tsat,
    IReadOnlyList<IronOption> Options,
    MedicationFact? OralIronOrder,
    IReadOnlyList<LabOrder> Tests) : Finding(CardKind.IvIron)
{
    public IronContext Context { get; init; } = IronContext.None;
}

/// <summary>An IV iron order while ferritin &gt; 100 ng/mL or TSAT ≥ 45 % (IRLSSG 2018); critical at ferritin ≥ 300.</summary>
public sealed record IvIronNotIndicated(MedicationFact Order, LabResult? Ferritin, LabResult? Tsat, bool HardStop) : Finding(CardKind.IvIronCaution)
{
    public override string Key => $"{Kind.Code()}:{Order.ResourceId ?? Order.Name}";
}

/// <summary>A draft iron order that meets a contraindication of the knowledge file; critical when any reason is.</summary>
public sealed record IronOrderContraindicated(MedicationFact Order, IReadOnlyList<Block> Reasons, string? NotIndicatedBecause) : Finding(CardKind.IronContraindicated)
{
    public override string Key => $"{Kind.Code()}:{Order.ResourceId ?? Order.Name}";

    public bool Critical => Reasons.Any(r => r.Critical);
}

/// <summary>A drug that can worsen RLS, ordered or taken by a patient with RLS (AASM 2024 GPS 2).</summary>
public sealed record AggravatingDrug(CardKind CardKind, MedicationFact Medication, DrugMatch Drug, IronStudiesDue? IronStudies)
    : Finding(CardKind)
{
    public override string Key => $"{Kind.Code()}:{Drug.Ingredient}";
}

/// <summary>Data the RLS advice needs was read only in part, or a draft's drug could not be identified.</summary>
public sealed record DataIncomplete(IReadOnlyList<DataGap> Gaps, IReadOnlyList<MedicationFact> Unidentified) : Finding(CardKind.DataIncomplete);

/// <summary>The rules' answer: findings, or the data without which nothing useful can be said (a 412 for the EHR).</summary>
public sealed record Assessment(IReadOnlyList<Finding> Findings, IReadOnlyList<DataGap> Unresolved)
{
    public static Assessment None { get; } = new([], []);
}

/// <summary>
/// A dopamine agonist or levodopa ordered or taken for RLS (not with Parkinson disease): augmentation risk, the
/// alpha-2-delta ligands as first line, and iron as a modifiable risk (AASM 2024).
/// </summary>
public sealed record AugmentationRisk(MedicationFact Medication, DrugMatch Drug, IReadOnlyList<LabResult> LowIron, IronStudiesDue? IronStudies)
    : Finding(CardKind.AugmentationRisk)
{
    public override string Key => $"{Kind.Code()}:{Drug.Ingredient}";
}

/// <summary>
/// An iron course whose effect the latest iron studies cannot show yet (drawn before it, or too soon after an
/// infusion): re-test from <see cref="RetestFrom"/> instead of suggesting new iron; the order when it is due.
/// </summary>
public sealed record IronFollowUp(MedicationFact Course, Route Route, DateTimeOffset Start, DateTimeOffset RetestFrom, LabOrder? Order)
    : Finding(CardKind.IronFollowUp)
{
    public bool Due => Order is not null;
}

/// <summary>TSAT at or above the work-up limit, not while taking iron, no overload recorded: repeat and work up, no iron.</summary>
public sealed record IronOverloadWorkup(LabResult Tsat, LabOrder Repeat) : Finding(CardKind.IronOverloadWorkup);
