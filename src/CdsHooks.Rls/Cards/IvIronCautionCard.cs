using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary><c>iv-iron-caution</c>: an IV iron order while ferritin &gt; 100 ng/mL or TSAT ≥ 45 %; critical at the hard stop.</summary>
public sealed class IvIronCautionCard(RlsKnowledge knowledge) : CardWriter(knowledge, CardKind.IvIronCaution)
{
    public Card Build(IvIronNotIndicated f, PatientSnapshot s, CardContext ctx)
    {
        var t = Thresholds;
        var reasons = new List<string>();
        if (f.Ferritin?.Above(t.FerritinIvIronMax) == true) reasons.Add($"ferritin {Value(f.Ferritin)} (> {N(t.FerritinIvIronMax)})");
        if (f.Tsat?.AtLeast(t.TsatIvIronBelow) == true) reasons.Add($"TSAT {Value(f.Tsat)} (≥ {N(t.TsatIvIronBelow)} %)");
        var md = RentDetailBuilder();
        md.Append(T("lead", ("medication", Md(f.Order.Name)), ("ferritinMax", N(t.FerritinIvIronMax)), ("tsatBelow", N(t.TsatIvIronBelow))));
        if (f.HardStop) md.Append(' ').Append(T("hardStop", ("hardStop", N(t.FerritinHardStop))));
        md.Append(' ').Append(T("otherIndication")).Append("\n\n");
        AppendBasis(md, s, f.Evidence);
        AppendCaveats(md, f.Evidence);
        var summary = f.HardStop
            ? T("summary.hardStop", ("ferritin", Value(f.Ferritin)), ("hardStop", N(t.FerritinHardStop)))
            : T("summary", ("reasons", string.Join(", ", reasons)));
        var card = NewCard(f, ctx, f.HardStop ? Indicator.Critical : Indicator.Warning, summary, md);
        card.AboutDraftOrder = true;
        if (f.Order.ResourceId is not null)
        {
            card.Suggestions = [Remove(ctx, f.Key, f.Order, $"Remove the IV iron order ({Short(f.Order.Name, 60)})", recommended: true)];
            card.SelectionBehavior = SelectionBehavior.AtMostOne;
        }
        card.OverrideReasons = OverrideReasons();
        return card;
    }
}
