using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// <c>data-incomplete</c>: the needed data was read only in part, or a draft's drug could not be identified. An info
/// card with what could not be checked and why, so a partial answer never reads as "nothing to worry about".
/// </summary>
public sealed class DataIncompleteCard(RlsKnowledge knowledge) : CardWriter(knowledge, CardKind.DataIncomplete)
{
    public Card Build(DataIncomplete f, PatientSnapshot s, CardContext ctx)
    {
        var md = RentDetailBuilder();
        md.Append(T("lead")).Append('\n');
        var what = new List<string>();
        foreach (var gap in f.Gaps)
        {
            var area = Knowledge.DataAreaNames[gap.Area];
            what.Add(area);
            md.Append("- ").Append(T(gap.Partial ? "partial" : "missing", ("what", Capitalise(area)), ("reason", Md(gap.Why)))).Append('\n');
        }
        foreach (var med in f.Unidentified)
        {
            var id = med.ResourceId ?? med.Name;
            var draft = med.Origin == MedicationOrigin.Draft;
            what.Add(draft ? $"the drug of draft order {id}" : $"the drug of {id}");
            md.Append("- ").Append(T(draft ? "draft" : "medication", ("order", Md(id)), ("reason", Md(med.Unidentified!)))).Append('\n');
        }
        md.Append('\n').Append(T("consequence"));
        // Iron orders are kept back only when what is missing could hide an overload, a chelator or iron already taken.
        if (f.Gaps.Any(g => g.Area is DataArea.Conditions or DataArea.Medications) || f.Unidentified.Any(m => m.Origin != MedicationOrigin.Draft))
        {
            md.Append(' ').Append(T("noIronOrders"));
        }
        md.Append('\n');
        var card = NewCard(f, ctx, Indicator.Info, T("summary", ("what", string.Join(", ", what.Distinct()))), md);
        card.AboutMissingData = true;
        card.OverrideReasons = OverrideReasons();
        return card;
    }
}
