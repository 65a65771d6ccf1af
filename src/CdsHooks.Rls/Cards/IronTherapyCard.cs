using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// <c>iron-therapy</c>: ferritin ≤ 75 ng/mL or TSAT &lt; 20 %. Suggests the iron orders the rules found safe (at most
/// one is taken), names every option not suggested and why, and the tests that would clear one (phosphate).
/// Information only, without orders, when nothing can be suggested.
/// </summary>
public sealed class IronTherapyCard(RlsKnowledge knowledge) : CardWriter(knowledge, CardKind.IronTherapy)
{
    public Card Build(IronTherapyIndicated f, PatientSnapshot s, CardContext ctx)
    {
        var t = Thresholds;
        var low = new List<(string, LabResult?)>(2);
        if (f.Ferritin?.AtMost(f.Context.Child ? t.PediatricFerritinBelow : t.FerritinIronTherapyMax) == true) low.Add(("ferritin", f.Ferritin));
        if (f.Tsat?.Below(t.TsatIronTherapyBelow) == true) low.Add(("TSAT", f.Tsat));
        var offered = f.Options.Where(o => o.Offered).ToList();

        var md = RentDetailBuilder();
        var c = f.Context;
        if (c.Child)
        {
            md.Append(Labs(true, [.. low])).Append(". ").Append(T("child", ("age", s.AgeYears?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"), ("ferritinBelow", N(t.PediatricFerritinBelow))));
        }
        else
        {
            md.Append(T("lead", ("labs", Labs(true, [.. low])), ("ferritinMax", N(t.FerritinIronTherapyMax)), ("tsatBelow", N(t.TsatIronTherapyBelow))));
        }
        if (offered.Count > 0)
        {
            md.Append(' ').Append(T("suggested", ("options", string.Join("; or ", offered.Select(o => o.Product.Recommendation)))));
        }
        md.Append("\n\n");
        if (f.InProgress is { } iron)
        {
            md.Append(T("inProgress", ("medication", Md(iron.Name)), ("origin", OriginText(iron)))).Append("\n\n");
        }
        if (c.Pregnant) md.Append(T("pregnancy", ("pregnancy", s.Pregnancy.Weeks))).Append("\n\n");
        if (c.Dialysis) md.Append(T("dialysis")).Append("\n\n");
        if (c.CauseHemoglobin is { } hb) md.Append(T("cause", ("labs", $"hemoglobin {Value(hb)}, ferritin {Value(f.Ferritin)}"))).Append("\n\n");
        if (c.TsatWhileOnIron) md.Append(T("tsatOnIron")).Append("\n\n");
        AppendNotSuggested(md, f.Options);
        AppendBasis(md, s, f.Evidence);
        AppendCaveats(md, f.Evidence);

        var labs = Labs(false, [.. low]);
        var orders = offered.Count > 0 || f.InProgress is not null;
        var card = NewCard(f, ctx, orders ? Indicator.Warning : Indicator.Info,
            orders ? T("summary", ("labs", labs)) : T("summary.noOrder", ("labs", labs)), md);
        SetSuggestions(card, [.. offered.Select(o => ProductSuggestion(ctx, f.Key, o.Product, [f.Ferritin, f.Tsat]))],
            f.Tests.Select(test => LabOrderSuggestion(ctx, f.Key, test, recommended: false)));
        card.OverrideReasons = OverrideReasons();
        return card;
    }
}
