using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// <c>iron-contraindicated</c>: a draft iron order that meets a contraindication of the knowledge file (iron
/// overload, first-trimester IV iron, hypersensitivity, hypophosphatemia with ferric carboxymaltose, a recent IV
/// course, iron already taken). Critical where it can do serious harm; suggests removing the order.
/// </summary>
public sealed class IronContraindicatedCard(RlsKnowledge knowledge) : CardWriter(knowledge, CardKind.IronContraindicated)
{
    public Card Build(IronOrderContraindicated f, PatientSnapshot s, CardContext ctx)
    {
        // Most serious first: the summary names the first.
        var reasons = Reasons([.. f.Reasons.OrderByDescending(r => r.Critical)]);
        if (f.NotIndicatedBecause is { } labs) reasons.Add(Knowledge.Cards[CardKind.IvIronCaution].Display + $" ({labs})");
        var md = RentDetailBuilder();
        md.Append(T("lead", ("medication", Md(f.Order.Name)))).Append('\n');
        foreach (var r in reasons) md.Append("- ").Append(r).Append('\n');
        md.Append('\n').Append(T("override")).Append("\n\n");
        AppendBasis(md, s, f.Evidence);
        AppendCaveats(md, f.Evidence);
        var first = f.Reasons.OrderByDescending(r => r.Critical).ThenByDescending(r => r.Contraindication is not null).First();
        var medication = Capitalise(Short(f.Order.Name, 60));
        var summary = first.Contraindication is { } c
            ? T("summary", ("medication", medication), ("reason", c.Summary))
            : T("summary.notChecked", ("medication", medication), ("what", string.Join(", ", f.Reasons.Where(r => r.NotChecked is not null).Select(r => Knowledge.DataAreaNames[r.NotChecked!.Value]).Distinct())));
        var card = NewCard(f, ctx, f.Critical ? Indicator.Critical : Indicator.Warning, summary, md);
        card.AboutDraftOrder = true;
        if (f.Order.ResourceId is not null)
        {
            card.Suggestions = [Remove(ctx, f.Key, f.Order, $"Remove the order ({Short(f.Order.Name, 60)})", recommended: true)];
            card.SelectionBehavior = SelectionBehavior.AtMostOne;
        }
        card.OverrideReasons = OverrideReasons();
        return card;
    }
}
