using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Rules;

/// <summary>A clinical conclusion about one issue; each becomes exactly one card.</summary>
public abstract record Finding(CardKind Kind)
{
    /// <summary>Distinguishes two findings of one kind (two different drugs); part of the stable card uuid.</summary>
    public virtual string Key => Kind.Code();
}

/// <summary>RLS and no ferritin or TSAT within the window (AASM 2024 GPS 1).</summary>
public sealed record IronStudiesDue(LabResult? LastFerritin, LabResult? LastTsat) : Finding(CardKind.IronStudies);

/// <summary>Ferritin ≤ 75 ng/mL or TSAT &lt; 20 % (AASM 2024 GPS 1).</summary>
public sealed record IronTherapyIndicated(LabResult? Ferritin, LabResult? Tsat, MedicationFact? IronInProgress) : Finding(CardKind.IronTherapy);

/// <summary>75 &lt; ferritin ≤ 100 ng/mL and TSAT &lt; 45 %: IV iron, oral unlikely to help (AASM 2024; IRLSSG 2018).</summary>
public sealed record IvIronSuggested(LabResult Ferritin, LabResult? Tsat, MedicationFact? OralIronOrder) : Finding(CardKind.IvIron);

/// <summary>An IV iron order while ferritin &gt; 100 ng/mL or TSAT ≥ 45 % (IRLSSG 2018); critical at ferritin ≥ 300.</summary>
public sealed record IvIronNotIndicated(MedicationFact Order, LabResult? Ferritin, LabResult? Tsat, bool HardStop) : Finding(CardKind.IvIronCaution)
{
    public override string Key => $"{Kind.Code()}:{Order.ResourceId ?? Order.Name}";
}

/// <summary>A drug that can worsen RLS, ordered or taken by a patient with RLS (AASM 2024 GPS 2).</summary>
public sealed record AggravatingDrug(CardKind CardKind, MedicationFact Medication, DrugMatch Drug, bool IronStudiesDue, IReadOnlyList<LabResult> IronLabs)
    : Finding(CardKind)
{
    public override string Key => $"{Kind.Code()}:{Drug.Ingredient}";
}
