using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// <c>augmentation-risk</c>: a dopamine agonist or levodopa ordered or taken for RLS. Augmentation, the alpha-2-delta
/// ligands as first line (AASM 2024), and iron as a modifiable risk. Suggests removing a draft order and the iron
/// studies when they are due; it prescribes nothing.
/// </summary>
public sealed class AugmentationCard(RlsKnowledge knowledge, IronStudiesCard ironStudies) : CardWriter(knowledge, CardKind.AugmentationRisk)
{
    public Card Build(AugmentationRisk f, PatientSnapshot s, CardContext ctx)
    {
        var md = RentDetailBuilder();
        md.Append(T("lead", ("medication", Md(f.Medication.Name)), ("class", Knowledge.ClassDisplay(f.Drug.Class)), ("origin", OriginText(f.Medication))));
        var low = string.Join(", ", f.LowIron.Select(l => $"{InlineName(l.Analyte)} {Value(l)}"));
        if (f.LowIron.Count > 0) md.Append(' ').Append(T("iron", ("labs", low)));
        else if (f.IronStudies is not null) md.Append(' ').Append(T("ironDue", ("window", WindowText())));
        md.Append("\n\n");
        AppendBasis(md, s, f.Evidence);
        AppendCaveats(md, f.Evidence);

        var drug = Capitalise(f.Drug.Ingredient);
        var summary = f.LowIron.Count > 0 ? T("summary.lowIron", ("drug", drug), ("labs", low)) : T("summary", ("drug", drug));
        var card = NewCard(f, ctx, f.Medication.Origin == MedicationOrigin.Draft ? Indicator.Warning : Indicator.Info, summary, md);
        EndDrugCard(card, ctx, f.Key, f.Medication, f.IronStudies is { } due ? ironStudies.Suggestion(due, ctx, f.Key) : null);
        return card;
    }
}
