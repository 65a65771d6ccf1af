using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary><c>iron-overload-workup</c>: a high TSAT that nothing explains. No iron; repeat the iron studies; consider HFE testing.</summary>
public sealed class IronOverloadWorkupCard(RlsKnowledge knowledge) : CardWriter(knowledge, CardKind.IronOverloadWorkup)
{
    public Card Build(IronOverloadWorkup f, PatientSnapshot s, CardContext ctx)
    {
        var limit = N(Thresholds.TsatOverloadWorkupAtLeast);
        var md = RentDetailBuilder();
        md.Append(T("lead", ("tsat", Value(f.Tsat)), ("date", Date(f.Tsat.When)), ("limit", limit))).Append("\n\n");
        AppendBasis(md, s, f.Evidence);
        AppendCaveats(md, f.Evidence);
        var card = NewCard(f, ctx, Indicator.Info, T("summary", ("tsat", Value(f.Tsat)), ("limit", limit)), md);
        card.Suggestions = [LabOrderSuggestion(ctx, f.Key, f.Repeat)];
        card.SelectionBehavior = SelectionBehavior.AtMostOne;
        card.OverrideReasons = OverrideReasons();
        return card;
    }
}
