using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary><c>iron-studies</c>: RLS with no recent ferritin, TSAT or both; suggests ordering what is missing.</summary>
public sealed class IronStudiesCard(RlsKnowledge knowledge) : CardWriter(knowledge, CardKind.IronStudies)
{
    public Card Build(IronStudiesDue f, PatientSnapshot s, CardContext ctx)
    {
        var md = RentDetailBuilder();
        var both = f.Missing.Count > 1;
        var missing = both ? "ferritin or TSAT" : f.Missing[0] == Analyte.Ferritin ? "ferritin" : "TSAT";
        var present = f.Present is null ? "" : Labs(false, (f.Present.Analyte == Analyte.Ferritin ? "ferritin" : "TSAT", f.Present));
        var window = WindowText();
        md.Append(both
            ? T("lead.none", ("window", window))
            : T("lead.partial", ("present", Capitalise(present)), ("missing", missing), ("window", window)));
        md.Append(' ').Append(T("draw", ("instruction", f.Order.PatientInstruction ?? ""))).Append("\n\n");
        AppendBasis(md, s, f.Evidence);
        AppendCaveats(md, f.Evidence);
        var summary = both
            ? T("summary.none", ("window", window))
            : T("summary.partial", ("present", present), ("missing", missing), ("window", window));
        var card = NewCard(f, ctx, Indicator.Info, summary, md);
        card.Suggestions = [LabOrderSuggestion(ctx, f.Key, f.Order)];
        card.SelectionBehavior = SelectionBehavior.AtMostOne;
        card.OverrideReasons = OverrideReasons();
        return card;
    }

    /// <summary>The iron-studies suggestion a drug caution carries when iron studies are due.</summary>
    public Suggestion Suggestion(IronStudiesDue f, CardContext ctx, string key) => LabOrderSuggestion(ctx, key, f.Order);
}
