using System.Buffers;
using System.Globalization;
using System.Text;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// What every card builder shares: the knowledge file's wording (filled templates), the card frame (stable uuid,
/// summary under 140 characters, guideline source, explanation link), the basis and caveats the rules chose, the
/// "not suggested" lines, suggestions as complete draft orders, and Markdown escaping of EHR text. A builder words
/// one finding; it decides nothing clinical.
/// </summary>
public abstract class CardWriter(RlsKnowledge knowledge, CardKind kind)
{
    public const int MaxSummaryLength = 139;
    private const string SourceLabel = "RLS Iron CDS";
    private static readonly SearchValues<char> MarkdownSpecials = SearchValues.Create("\\*_`[]<>#|~\r\n");

    protected RlsKnowledge Knowledge => knowledge;

    protected CardText Text { get; } = knowledge.Cards[kind];

    protected ClinicalThresholds Thresholds => knowledge.Thresholds;

    /// <summary>This card kind's template <paramref name="name"/>, filled.</summary>
    protected string T(string name, params (string, string)[] values) => Template.Fill(Text[name], values);

    /// <summary>A template every card shares, filled.</summary>
    protected string Common(string name, params (string, string)[] values) => Template.Fill(knowledge.CommonText[name], values);

    protected Card NewCard(Finding f, CardContext ctx, Indicator indicator, string summary, StringBuilder detail, CardKind? kindOverride = null)
    {
        var cardKind = kindOverride ?? f.Kind;
        var text = kindOverride is { } k ? knowledge.Cards[k] : Text;
        if (detail.Length < 2 || detail[^1] != '\n' || detail[^2] != '\n') detail.Append('\n');
        detail.Append(Common("guideline", ("citation", text.Guideline.ShortCitation)));
        var links = new List<Link>(2);
        if (text.Guideline.Url is { } url) links.Add(new Link { Label = Short(text.Guideline.ShortCitation, 80), Url = url, Type = LinkType.Absolute });
        if (ctx.ExplainBaseUrl is { } explain)
        {
            links.Add(new Link { Label = Common("explainLink"), Url = $"{explain.TrimEnd('/')}/explain/{cardKind.Code()}", Type = LinkType.Absolute });
        }
        return new Card
        {
            Uuid = StableUuid.From(ctx.ServiceId, ctx.HookInstance, f.Key),
            Summary = Short(summary, MaxSummaryLength),
            Detail = ReleaseDetailBuilder(detail),
            Indicator = indicator,
            Source = new CardSource
            {
                Label = SourceLabel,
                Url = text.Guideline.Url,
                Topic = new Coding(ServiceCodeSystems.CardKind, cardKind.Code(), text.Display),
            },
            Links = links.Count == 0 ? null : links,
        };
    }

    protected List<Coding> OverrideReasons() => [.. Text.OverrideReasons];

    // ---- Basis and caveats -------------------------------------------------------------------------------------------

    protected void AppendBasis(StringBuilder md, PatientSnapshot s, Evidence evidence)
    {
        md.Append(Common("basis.heading", ("date", Date(s.Now)))).Append('\n');
        md.Append("- ").Append(Common("basis.rls", ("evidence", Md(s.Rls?.Description ?? "not recorded")))).Append('\n');
        foreach (var shown in evidence.Labs.Each())
        {
            md.Append("- ").Append(AnalyteName(shown.Lab.Analyte)).Append(": ").Append(LabLine(shown.Lab));
            if (shown.Old) md.Append(Common("basis.oldLab", ("window", WindowText())));
            md.Append('\n');
        }
        if (evidence.ShowAge)
        {
            var age = s.AgeYears is { } years
                ? Common(s.IsChild(Thresholds) ? "basis.ageChild" : "basis.age", ("age", years.ToString(CultureInfo.InvariantCulture)))
                : Common("basis.ageUnknown", ("why", Md(s.AgeUnknownWhy ?? "not recorded")));
            md.Append("- ").Append(age).Append('\n');
        }
        if (s.Pregnancy.State == PregnancyState.Pregnant)
        {
            md.Append("- ").Append(Common("basis.pregnancy", ("pregnancy", Md(s.Pregnancy.Evidence)))).Append('\n');
        }
        md.Append('\n');
    }

    /// <summary>The caveats the rules chose, at most four lines (then "and N more").</summary>
    protected void AppendCaveats(StringBuilder md, Evidence evidence)
    {
        if (evidence.Caveats.Count == 0) return;
        const int MaxLines = 4;
        md.Append(Common("caveat.heading")).Append('\n');
        for (int i = 0; i < evidence.Caveats.Count && i < MaxLines; i++)
        {
            var c = evidence.Caveats[i];
            var line = c.Kind switch
            {
                CaveatKind.CrpRaised => Common("caveat.crp", ("crp", c.Detail!)),
                CaveatKind.AssayVariation => Common("caveat.assay"),
                CaveatKind.DerivedTsat => Common("caveat.derivedTsat"),
                CaveatKind.Skipped => Common("caveat.skipped", ("what", Md(c.Detail!))),
                _ => Common("caveat.unavailable", ("what", c.Detail!)),
            };
            md.Append("- ").Append(line).Append('\n');
        }
        if (evidence.Caveats.Count > MaxLines)
        {
            md.Append("- ").Append(Common("caveat.more", ("count", (evidence.Caveats.Count - MaxLines).ToString(CultureInfo.InvariantCulture)))).Append('\n');
        }
        md.Append('\n');
    }

    /// <summary>
    /// One line per option not suggested, with every reason; options kept back for the same reasons share a line
    /// ("IV ferric carboxymaltose and oral ferrous sulfate: iron overload recorded ...").
    /// </summary>
    protected void AppendNotSuggested(StringBuilder md, IReadOnlyList<IronOption> options)
    {
        var lines = new List<(List<string> Options, string Reasons)>();
        foreach (var option in options)
        {
            if (option.Offered) continue;
            var reasons = string.Join("; ", Reasons(option.Blocks));
            var same = lines.FindIndex(l => l.Reasons == reasons);
            if (same >= 0) lines[same].Options.Add(option.Product.ShortName);
            else lines.Add(([option.Product.ShortName], reasons));
        }
        if (lines.Count == 0) return;
        md.Append(Common("notSuggested.heading")).Append('\n');
        foreach (var (names, reasons) in lines)
        {
            md.Append("- ").Append(Common("notSuggested", ("option", Capitalise(string.Join(" and ", names))), ("reason", reasons))).Append('\n');
        }
        md.Append('\n');
    }

    /// <summary>Contraindications one by one, then the data that could not be read grouped by why ("A and B could not be read (why)").</summary>
    protected List<string> Reasons(IReadOnlyList<Block> blocks)
    {
        var reasons = new List<string>(blocks.Count);
        foreach (var b in blocks)
        {
            if (b.Contraindication is not null) reasons.Add(BlockText(b));
        }
        foreach (var group in blocks.Where(b => b.Contraindication is null).GroupBy(b => b.Why))
        {
            var areas = group.Select(b => Knowledge.DataAreaNames[b.NotChecked!.Value]).Distinct().ToList();
            var list = areas.Count == 1 ? areas[0] : string.Join(", ", areas.Take(areas.Count - 1)) + " and " + areas[^1];
            reasons.Add(Common("notChecked", ("area", list)) + (group.Key is null ? "" : $" ({Md(group.Key)})"));
        }
        return reasons;
    }

    protected string BlockText(Block b) => b.Contraindication is { } c
        ? Template.Fill(c.Text, ("detail", Md(b.Detail ?? "")))
        : Common("notChecked", ("area", knowledge.DataAreaNames[b.NotChecked!.Value])) + (b.Why is null ? "" : $" ({Md(b.Why)})");

    // ---- Suggestions ------------------------------------------------------------------------------------------------

    protected static Suggestion Remove(CardContext ctx, string key, MedicationFact order, string label, bool recommended) => new()
    {
        Label = label,
        Key = "remove",
        Uuid = StableUuid.From(ctx.HookInstance, key, "remove"),
        IsRecommended = recommended ? true : null,
        Actions = [new CdsAction { Type = ActionType.Delete, Description = $"Remove the draft order for {order.Name}", ResourceId = order.ResourceId }],
    };

    /// <summary>
    /// How every card about a drug ends: a caution on the draft order when the drug is being ordered (shown whenever the
    /// order is), the removal of that draft and, when due, <paramref name="ironStudies"/> as suggestions, and the card
    /// kind's override reasons.
    /// </summary>
    protected void EndDrugCard(Card card, CardContext ctx, string key, MedicationFact medication, Suggestion? ironStudies)
    {
        var draft = medication.Origin == MedicationOrigin.Draft;
        card.AboutDraftOrder = draft;
        var suggestions = new List<Suggestion>(2);
        if (draft && medication.ResourceId is not null)
        {
            suggestions.Add(Remove(ctx, key, medication, $"Remove the {Short(medication.Name, 60)} order", recommended: false));
        }
        if (ironStudies is not null) suggestions.Add(ironStudies);
        if (suggestions.Count > 0)
        {
            card.Suggestions = suggestions;
            card.SelectionBehavior = SelectionBehavior.Any;
        }
        card.OverrideReasons = OverrideReasons();
    }

    /// <summary>A lab order: one draft ServiceRequest per code, for the RLS diagnosis.</summary>
    protected Suggestion LabOrderSuggestion(CardContext ctx, string key, LabOrder order, bool recommended = true) => new()
    {
        Label = order.Label,
        Key = order.Key,
        Uuid = StableUuid.From(ctx.HookInstance, key, order.Key),
        IsRecommended = recommended ? true : null,
        Actions = [.. order.Codes.Select(code => new CdsAction
        {
            Type = ActionType.Create,
            Description = $"Order {code.Display ?? code.Code}",
            Resource = new ServiceRequest
            {
                Status = "draft",
                Intent = "order",
                Category = [new CodeableConcept { Coding = [new Coding(FhirSystems.Snomed, "108252007", "Laboratory procedure")] }],
                Code = new CodeableConcept { Coding = [code], Text = code.Display },
                Subject = new Reference("Patient/" + ctx.PatientId),
                Encounter = ctx.EncounterId is null ? null : new Reference("Encounter/" + ctx.EncounterId),
                ReasonCode = [RlsReason()],
                PatientInstruction = order.PatientInstruction,
                Note = order.Note is null ? null : [new Annotation { Text = order.Note }],
            },
        })],
    };

    /// <summary>
    /// A medication order complete enough for an EHR to file as a draft: RxNorm code (where one is verified) and text,
    /// status, intent, subject, encounter, dosage text, and the reason: RLS and the results the finding rests on.
    /// </summary>
    protected Suggestion ProductSuggestion(CardContext ctx, string key, Product product, IEnumerable<LabResult?> basis, bool recommended = false) => new()
    {
        Label = product.Label,
        Key = product.Key,
        Uuid = StableUuid.From(ctx.HookInstance, key, product.Key),
        IsRecommended = recommended ? true : null,
        Actions = [new CdsAction { Type = ActionType.Create, Description = product.Label, Resource = MedicationDraft(ctx, product, basis) }],
    };

    protected MedicationRequest MedicationDraft(CardContext ctx, Product product, IEnumerable<LabResult?> basis)
    {
        var reasons = new List<Reference>(2);
        foreach (var lab in basis)
        {
            if (lab?.SourceId is { } id) reasons.Add(new Reference(id) { Display = $"{AnalyteName(lab.Analyte)} {Value(lab)} on {Date(lab.When)}" });
        }
        return new MedicationRequest
        {
            Status = "draft",
            Intent = "order",
            MedicationCodeableConcept = new CodeableConcept { Coding = product.Rxnorm is null ? null : [product.Rxnorm], Text = product.Text },
            Subject = new Reference("Patient/" + ctx.PatientId),
            Encounter = ctx.EncounterId is null ? null : new Reference("Encounter/" + ctx.EncounterId),
            DosageInstruction = [new Dosage { Text = product.Dosage }],
            ReasonCode = [RlsReason()],
            ReasonReference = reasons.Count == 0 ? null : reasons,
            Note = [new Annotation { Text = product.Recommendation }],
        };
    }

    /// <summary>
    /// Sets a card's suggestions: at most one iron order (the options offered), and tests beside it as separate
    /// choices (selectionBehavior any when there are tests, at-most-one otherwise).
    /// </summary>
    protected static void SetSuggestions(Card card, List<Suggestion> orders, IEnumerable<Suggestion> tests)
    {
        var hasTests = false;
        foreach (var test in tests)
        {
            orders.Add(test);
            hasTests = true;
        }
        if (orders.Count == 0) return;
        card.Suggestions = orders;
        card.SelectionBehavior = hasTests ? SelectionBehavior.Any : SelectionBehavior.AtMostOne;
    }

    private CodeableConcept RlsReason() => new() { Coding = [.. knowledge.RlsConditionCodes.Take(1)], Text = "Restless legs syndrome" };

    // ---- Wording helpers --------------------------------------------------------------------------------------------

    protected string WindowText() => Days(Thresholds.IronStudiesWindowDays);

    protected static string Days(int days) => days % 365 == 0 ? (days == 365 ? "12 months" : $"{days / 365 * 12} months")
        : days % 30 == 0 ? $"{days / 30} months" : $"{days} days";

    protected string OriginText(MedicationFact m) => Common(m.Origin switch
    {
        MedicationOrigin.Draft => "origin.draft",
        MedicationOrigin.ActiveOrder => "origin.activeOrder",
        _ => "origin.statement",
    });

    protected static string AnalyteName(Analyte a) => a switch
    {
        Analyte.Ferritin => "Ferritin",
        Analyte.Tsat => "TSAT",
        Analyte.Iron => "Serum iron",
        Analyte.Tibc => "TIBC",
        Analyte.Transferrin => "Transferrin",
        Analyte.Crp => "CRP",
        Analyte.Hemoglobin => "Hemoglobin",
        Analyte.Phosphate => "Phosphate",
        Analyte.Egfr => "eGFR",
        _ => a.ToString(),
    };

    /// <summary>The analyte's name inside a sentence ("ferritin", "TSAT").</summary>
    protected static string InlineName(Analyte a) => a is Analyte.Tsat or Analyte.Tibc or Analyte.Crp or Analyte.Egfr ? AnalyteName(a) : AnalyteName(a).ToLowerInvariant();

    protected static string LabLine(LabResult lab)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{Value(lab)} on {lab.When:yyyy-MM-dd}");
        return lab.ReportedAs is null ? line : $"{line} (reported as {lab.ReportedAs})";
    }

    /// <summary>"ferritin 32 ng/mL, TSAT 18 %": the named values, in Markdown bold when <paramref name="bold"/>.</summary>
    protected static string Labs(bool bold, params (string Name, LabResult? Lab)[] labs)
    {
        var parts = new List<string>(labs.Length);
        foreach (var (name, lab) in labs)
        {
            if (lab is null) continue;
            parts.Add(bold ? $"**{name} {Value(lab)}** ({Date(lab.When)})" : $"{name} {Value(lab)}");
        }
        var text = string.Join(", ", parts);
        return bold && text.Length > 2 ? "**" + Capitalise(text[2..]) : text;
    }

    protected static string Value(LabResult? lab) => lab is null ? "unknown"
        : string.Create(CultureInfo.InvariantCulture, $"{lab.Comparator}{N(lab.Value)} {lab.Unit}");

    protected static string N(decimal d) => d.ToString("0.##", CultureInfo.InvariantCulture);

    protected static string Date(DateTimeOffset when) => when.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    protected static string Capitalise(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    /// <summary>Shortens to <paramref name="max"/> characters on a word boundary, with an ellipsis.</summary>
    public static string Short(string s, int max)
    {
        if (s.Length <= max) return s;
        var cut = s.LastIndexOf(' ', max - 1);
        return string.Concat(s.AsSpan(0, cut > max / 2 ? cut : max - 1), "…");
    }

    /// <summary>
    /// A card's Markdown detail runs to a few KB: one builder per thread is reused rather than growing a new one
    /// chunk by chunk for every card. Rented and released around each card, so nested use gets its own.
    /// </summary>
    [ThreadStatic]
    private static StringBuilder? t_detailBuilder;

    protected static StringBuilder RentDetailBuilder()
    {
        var sb = t_detailBuilder ?? new StringBuilder(4096);
        t_detailBuilder = null;
        return sb.Clear();
    }

    private static string ReleaseDetailBuilder(StringBuilder sb)
    {
        var text = sb.ToString();
        if (sb.Capacity <= 32 * 1024) t_detailBuilder = sb;
        return text;
    }

    /// <summary>EHR text shown in Markdown: neutralise characters that would change the formatting.</summary>
    protected static string Md(string text)
    {
        if (text.AsSpan().IndexOfAny(MarkdownSpecials) < 0) return text; // the common case: nothing to escape
        var sb = new StringBuilder(text.Length + 8);
        foreach (var ch in text)
        {
            if (ch is '\\' or '*' or '_' or '`' or '[' or ']' or '<' or '>' or '#' or '|' or '~') sb.Append('\\');
            sb.Append(ch is '\r' or '\n' ? ' ' : ch);
        }
        return sb.ToString();
    }
}
