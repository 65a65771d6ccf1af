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
        card.AboutDraftOrder = f.Medication.Origin == MedicationOrigin.Draft;

        var suggestions = new List<Suggestion>(2);
        if (f.Medication.Origin == MedicationOrigin.Draft && f.Medication.ResourceId is not null)
        {
            suggestions.Add(Remove(ctx, f.Key, f.Medication, $"Remove the {Short(f.Medication.Name, 60)} order", recommended: false));
        }
        if (f.IronStudies is { } due) suggestions.Add(ironStudies.Suggestion(due, ctx, f.Key));
        if (suggestions.Count > 0)
        {
            card.Suggestions = suggestions;
            card.SelectionBehavior = SelectionBehavior.Any;
        }
        card.OverrideReasons = OverrideReasons();
        return card;
    }
}
