using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// <c>iv-iron</c>: 75 &lt; ferritin ≤ 100 ng/mL, where oral iron is unlikely to help RLS and IV iron can. Suggests
/// IV ferric carboxymaltose when the rules found it safe (replacing an oral iron draft), otherwise says why not.
/// </summary>
public sealed class IvIronCard(RlsKnowledge knowledge) : CardWriter(knowledge, CardKind.IvIron)
{
    public Card Build(IvIronSuggested f, PatientSnapshot s, CardContext ctx)
    {
        var t = Thresholds;
        var offered = f.Options.Where(o => o.Offered).ToList();
        var ferritin = Value(f.Ferritin);
        var md = RentDetailBuilder();
        md.Append(T("lead", ("ferritin", $"**{ferritin}** ({Date(f.Ferritin.When)})"), ("ferritinLow", N(t.FerritinIronTherapyMax)), ("ferritinHigh", N(t.FerritinIvIronMax))));
        if (offered.Count > 0) md.Append(' ').Append(T("suggested", ("options", string.Join("; or ", offered.Select(o => o.Product.Recommendation)))));
        md.Append("\n\n");
        if (f.OralIronOrder is { } oral) md.Append(T("oralOrder", ("medication", Md(oral.Name)))).Append("\n\n");
        if (f.Context.Pregnant) md.Append(T("pregnancy", ("pregnancy", s.Pregnancy.Weeks))).Append("\n\n");
        if (f.Context.Dialysis) md.Append(T("dialysis")).Append("\n\n");
        AppendNotSuggested(md, f.Options);
        AppendBasis(md, s, f.Evidence);
        AppendCaveats(md, f.Evidence);

        var summary = offered.Count == 0 ? T("summary.noOrder", ("ferritin", ferritin))
            : f.OralIronOrder is null ? T("summary", ("ferritin", ferritin))
            : T("summary.oralOrder", ("ferritin", ferritin));
        var card = NewCard(f, ctx, Indicator.Info, summary, md);
        var suggestions = new List<Suggestion>(2);
        foreach (var option in offered)
        {
            if (f.OralIronOrder?.ResourceId is { } oralId)
            {
                suggestions.Add(new Suggestion
                {
                    Label = $"Replace the oral iron order with {option.Product.ShortName}",
                    Key = "replace-oral-with-" + option.Product.Key,
                    Uuid = StableUuid.From(ctx.HookInstance, f.Key, "replace-oral"),
                    IsRecommended = true,
                    Actions =
                    [
                        new CdsAction { Type = ActionType.Delete, Description = $"Remove the draft order for {f.OralIronOrder.Name}", ResourceId = oralId },
                        new CdsAction { Type = ActionType.Create, Description = option.Product.Label, Resource = MedicationDraft(ctx, option.Product, [f.Ferritin, f.Tsat]) },
                    ],
                });
            }
            else
            {
                suggestions.Add(ProductSuggestion(ctx, f.Key, option.Product, [f.Ferritin, f.Tsat]));
            }
        }
        SetSuggestions(card, suggestions, f.Tests.Select(test => LabOrderSuggestion(ctx, f.Key, test, recommended: false)));
        card.OverrideReasons = OverrideReasons();
        return card;
    }
}
