using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Rules;

/// <summary>
/// The RLS iron and medication rules. Pure: a snapshot in, findings out, thresholds from the knowledge file.
/// order-select comments only on the selected orders (plus patient-level iron findings); order-sign on all
/// draft orders; patient-view on active medications.
/// </summary>
public sealed class RlsRules(RlsKnowledge knowledge)
{
    public IReadOnlyList<Finding> Evaluate(PatientSnapshot s, HookKind hook)
    {
        // Patients without RLS get no RLS cards.
        if (s.Rls is null) return [];

        var t = knowledge.Thresholds;
        var since = s.Now.AddDays(-t.IronStudiesWindowDays);
        var ferritin = Recent(s.Lab(Analyte.Ferritin), since);
        var tsat = Recent(s.Lab(Analyte.Tsat), since);
        var inScope = s.Medications.Where(m => InScope(m, hook)).ToList();
        var findings = new List<Finding>();

        var ironStudiesDue = ferritin is null && tsat is null && !s.IronStudiesAlreadyOrdered;
        var ironLabs = new[] { s.Lab(Analyte.Ferritin), s.Lab(Analyte.Tsat) }.OfType<LabResult>().ToList();

        // Medication cautions: one card per drug, however many orders or statements carry it.
        var cautions = new Dictionary<string, AggravatingDrug>(StringComparer.OrdinalIgnoreCase);
        foreach (var med in inScope)
        {
            foreach (var drug in med.Drugs)
            {
                if (knowledge.CardFor(drug.Class) is not { } kind) continue;
                var finding = new AggravatingDrug(kind, med, drug, ironStudiesDue, ironLabs);
                // The first carrier of a drug wins. Drafts and active medications never share a scope (order hooks
                // look at drafts only, patient-view at active ones), so there is no draft to prefer over a statement.
                cautions.TryAdd(finding.Key, finding);
            }
        }
        findings.AddRange(cautions.Values);

        // The caution cards carry the iron-studies suggestion themselves; a second card would duplicate it.
        if (ironStudiesDue && cautions.Count == 0) findings.Add(new IronStudiesDue(s.Lab(Analyte.Ferritin), s.Lab(Analyte.Tsat)));

        // Adult thresholds only (IRLSSG 2018: children differ). Unknown age is treated as adult and said so in the card.
        if (s.AgeYears is { } age && age < t.AdultAgeYears) return findings;

        var hardStop = ferritin?.AtLeast(t.FerritinHardStop) == true;
        var ivIron = ferritin is not null
            && ferritin.Above(t.FerritinIronTherapyMax) && ferritin.AtMost(t.FerritinIvIronMax)
            && (tsat is null || tsat.Below(t.TsatIvIronBelow));
        // A TSAT at or above the IV-iron limit means iron is not deficient enough to supplement, whatever the
        // ferritin (IRLSSG 2018: iron helps RLS with TSAT < 45 %); an IV iron order then gets the caution alone.
        var saturated = tsat?.AtLeast(t.TsatIvIronBelow) == true;
        var ironTherapy = !ivIron && !hardStop && !saturated
            && (ferritin?.AtMost(t.FerritinIronTherapyMax) == true || tsat?.Below(t.TsatIronTherapyBelow) == true);

        var ironOrders = inScope.Where(m => m.Origin == MedicationOrigin.Draft && (m.Has(DrugClass.OralIron) || m.Has(DrugClass.IvIron))).ToList();
        if (ivIron)
        {
            findings.Add(new IvIronSuggested(ferritin!, tsat, ironOrders.FirstOrDefault(m => m.Has(DrugClass.OralIron) && !m.Has(DrugClass.IvIron))));
        }
        else if (ironTherapy)
        {
            var inProgress = ironOrders.FirstOrDefault()
                ?? s.Medications.FirstOrDefault(m => m.Origin != MedicationOrigin.Draft && (m.Has(DrugClass.OralIron) || m.Has(DrugClass.IvIron)));
            findings.Add(new IronTherapyIndicated(ferritin, tsat, inProgress));
        }

        foreach (var order in ironOrders.Where(m => m.Has(DrugClass.IvIron)))
        {
            if (ferritin?.Above(t.FerritinIvIronMax) == true || tsat?.AtLeast(t.TsatIvIronBelow) == true)
            {
                findings.Add(new IvIronNotIndicated(order, ferritin, tsat, hardStop));
            }
        }

        return findings;
    }

    private static LabResult? Recent(LabResult? lab, DateTimeOffset since) => lab is not null && lab.When >= since ? lab : null;

    private static bool InScope(MedicationFact m, HookKind hook) => hook switch
    {
        HookKind.OrderSelect => m.Origin == MedicationOrigin.Draft && m.IsSelected,
        HookKind.OrderSign => m.Origin == MedicationOrigin.Draft,
        _ => m.Origin != MedicationOrigin.Draft,
    };
}
