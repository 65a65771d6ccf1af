using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// <c>iron-follow-up</c>: an iron course the latest iron studies cannot show yet. Re-test from the date the rules
/// set instead of starting new iron; the iron studies order once it is due.
/// </summary>
public sealed class IronFollowUpCard(RlsKnowledge knowledge) : CardWriter(knowledge, CardKind.IronFollowUp)
{
    public Card Build(IronFollowUp f, PatientSnapshot s, CardContext ctx)
    {
        var course = Md(f.Course.Name);
        var start = Date(f.Start);
        var labs = string.Join(", ", f.Evidence.Labs.Where(l => l.Lab.Analyte is Analyte.Ferritin or Analyte.Tsat).Select(l => $"{InlineName(l.Lab.Analyte)} {Value(l.Lab)} on {Date(l.Lab.When)}"));
        var md = RentDetailBuilder();
        md.Append(T("lead", ("course", course), ("origin", f.Route == Route.Iv ? "given" : "taken since"), ("start", start),
            ("labs", labs.Length == 0 ? "none recent" : labs), ("retest", f.Due ? $"now (due since {Date(f.RetestFrom)})" : Date(f.RetestFrom)))).Append("\n\n");
        AppendBasis(md, s, f.Evidence);
        AppendCaveats(md, f.Evidence);
        var summary = f.Due
            ? T("summary.due", ("course", Short(f.Course.Name, 40)), ("start", start))
            : T("summary", ("course", Short(f.Course.Name, 40)), ("start", start), ("retest", Date(f.RetestFrom)));
        var card = NewCard(f, ctx, Indicator.Info, summary, md);
        if (f.Order is { } order)
        {
            card.Suggestions = [LabOrderSuggestion(ctx, f.Key, order)];
            card.SelectionBehavior = SelectionBehavior.AtMostOne;
        }
        card.OverrideReasons = OverrideReasons();
        return card;
    }
}
