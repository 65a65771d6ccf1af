using System.Collections.Frozen;

namespace CdsHooks.Rls.Knowledge;

/// <summary>
/// The wording each card kind takes from the knowledge file (<c>cards.&lt;kind&gt;.text</c>, and <c>cards.common.text</c>
/// for phrases every card shares): the template names and the <c>{placeholders}</c> each may use. The file is
/// checked against this at start-up, so a missing template, a misspelt name or a placeholder the builder does not
/// fill stops the service with a message naming it.
/// </summary>
public static class CardTextSlots
{
    public const string Common = "common";

    /// <summary>The two drug cautions are worded alike, each from its own entry.</summary>
    private static readonly FrozenDictionary<string, string[]> DrugCaution = Slots(
        ("summary", ["drug", "class", "action"]),
        ("action.checkIron", []),
        ("action.alternative", []),
        ("lead", ["medication", "class", "origin"]),
        ("anxiety", ["anxiety"]),
        ("safer", ["alternatives"]),
        ("ironDue", ["window"]));

    public static FrozenDictionary<string, FrozenDictionary<string, string[]>> Required { get; } = new Dictionary<string, FrozenDictionary<string, string[]>>
    {
        [Common] = Slots(
            ("basis.heading", ["date"]),
            ("basis.rls", ["evidence"]),
            ("basis.age", ["age"]),
            ("basis.ageChild", ["age"]),
            ("basis.ageUnknown", ["why"]),
            ("basis.pregnancy", ["pregnancy"]),
            ("basis.oldLab", ["window"]),
            ("caveat.heading", []),
            ("caveat.crp", ["crp"]),
            ("caveat.assay", []),
            ("caveat.derivedTsat", []),
            ("caveat.skipped", ["what"]),
            ("caveat.unavailable", ["what"]),
            ("caveat.more", ["count"]),
            ("notSuggested.heading", []),
            ("notSuggested", ["option", "reason"]),
            ("notChecked", ["area"]),
            ("noDoseWithoutAge", []),
            ("explainLink", []),
            ("guideline", ["citation"]),
            ("origin.draft", []),
            ("origin.activeOrder", []),
            ("origin.statement", [])),
        [CardKind.IronStudies.Code()] = Slots(
            ("summary.none", ["window"]),
            ("summary.partial", ["present", "missing", "window"]),
            ("lead.none", ["window"]),
            ("lead.partial", ["present", "missing", "window"]),
            ("draw", ["instruction"])),
        [CardKind.IronTherapy.Code()] = Slots(
            ("summary", ["labs"]),
            ("summary.noOrder", ["labs"]),
            ("lead", ["labs", "ferritinMax", "tsatBelow"]),
            ("suggested", ["options"]),
            ("inProgress", ["medication", "origin"]),
            ("child", ["age", "ferritinBelow"]),
            ("pregnancy", ["pregnancy"]),
            ("dialysis", []),
            ("cause", ["labs"]),
            ("tsatOnIron", [])),
        [CardKind.IvIron.Code()] = Slots(
            ("summary", ["ferritin"]),
            ("summary.oralOrder", ["ferritin"]),
            ("summary.noOrder", ["ferritin"]),
            ("lead", ["ferritin", "ferritinLow", "ferritinHigh"]),
            ("suggested", ["options"]),
            ("oralOrder", ["medication"]),
            ("pregnancy", ["pregnancy"]),
            ("dialysis", [])),
        [CardKind.IvIronCaution.Code()] = Slots(
            ("summary", ["reasons"]),
            ("summary.hardStop", ["ferritin", "hardStop"]),
            ("lead", ["medication", "ferritinMax", "tsatBelow"]),
            ("hardStop", ["hardStop"]),
            ("otherIndication", [])),
        [CardKind.IronContraindicated.Code()] = Slots(
            ("summary", ["medication", "reason"]),
            ("summary.notChecked", ["medication", "what"]),
            ("lead", ["medication"]),
            ("override", [])),
        [CardKind.SsriCaution.Code()] = DrugCaution,
        [CardKind.AggravatingDrugCaution.Code()] = DrugCaution,
        [CardKind.AugmentationRisk.Code()] = Slots(
            ("summary", ["drug"]),
            ("summary.lowIron", ["drug", "labs"]),
            ("lead", ["medication", "class", "origin"]),
            ("iron", ["labs"]),
            ("ironDue", ["window"])),
        [CardKind.IronFollowUp.Code()] = Slots(
            ("summary", ["course", "start", "retest"]),
            ("summary.due", ["course", "start"]),
            ("lead", ["course", "origin", "start", "labs", "retest"])),
        [CardKind.IronOverloadWorkup.Code()] = Slots(
            ("summary", ["tsat", "limit"]),
            ("lead", ["tsat", "date", "limit"])),
        [CardKind.DataIncomplete.Code()] = Slots(
            ("summary", ["what"]),
            ("lead", []),
            ("partial", ["what", "reason"]),
            ("missing", ["what", "reason"]),
            ("draft", ["order", "reason"]),
            ("medication", ["order", "reason"]),
            ("consequence", []),
            ("noIronOrders", [])),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static FrozenDictionary<string, string[]> Slots(params (string Name, string[] Placeholders)[] slots) =>
        slots.ToFrozenDictionary(s => s.Name, s => s.Placeholders, StringComparer.Ordinal);

    /// <summary>The <c>{names}</c> a template uses; an unclosed brace is reported as the name "{".</summary>
    public static IEnumerable<string> Placeholders(string template)
    {
        int i = 0;
        while ((i = template.IndexOf('{', i)) >= 0)
        {
            var end = template.IndexOf('}', i + 1);
            if (end < 0)
            {
                yield return "{";
                yield break;
            }
            yield return template[(i + 1)..end];
            i = end + 1;
        }
    }
}
