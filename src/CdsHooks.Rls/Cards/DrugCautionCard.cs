using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// <c>ssri-caution</c> and <c>aggravating-drug-caution</c> (one builder for each kind, worded by its own entry): a drug
/// that can worsen RLS, ordered or taken; the anxiety link, safer paths from the knowledge file, and iron studies when
/// they are due. Suggests removing a draft order.
/// </summary>
public sealed class DrugCautionCard(RlsKnowledge knowledge, CardKind kind, IronStudiesCard ironStudies) : CardWriter(knowledge, kind)
{
    public Card Build(AggravatingDrug f, PatientSnapshot s, CardContext ctx)
    {
        var classText = Knowledge.ClassDisplay(f.Drug.Class);
        var md = RentDetailBuilder();
        md.Append(T("lead", ("medication", Md(f.Medication.Name)), ("class", classText), ("origin", OriginText(f.Medication))));
        if (f.IronStudies is not null) md.Append(' ').Append(T("ironDue", ("window", WindowText())));
        md.Append("\n\n");
        if (s.Anxiety is { } anxiety) md.Append(T("anxiety", ("anxiety", Md(anxiety)))).Append("\n\n");
        var alternatives = Knowledge.AlternativesFor(f.Drug.Class);
        if (alternatives.Count > 0)
        {
            md.Append(T("safer", ("alternatives", ""))).Append('\n');
            foreach (var (text, _) in alternatives) md.Append("- ").Append(text).Append('\n');
            md.Append('\n');
        }
        AppendBasis(md, s, f.Evidence);
        AppendCaveats(md, f.Evidence);

        var summary = T("summary", ("drug", Capitalise(f.Drug.Ingredient)), ("class", classText),
            ("action", T(f.IronStudies is not null ? "action.checkIron" : "action.alternative")));
        var card = NewCard(f, ctx, Indicator.Warning, summary, md);
        EndDrugCard(card, ctx, f.Key, f.Medication, f.IronStudies is { } due ? ironStudies.Suggestion(due, ctx, f.Key) : null);
        return card;
    }
}
