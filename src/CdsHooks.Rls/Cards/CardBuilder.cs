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
/// Turns findings into CDS Hooks cards: summary under 140 characters, Markdown detail with the values,
/// units and dates used, the guideline as source, actionable suggestions (always with selectionBehavior),
/// override reasons for the cautions. Wording lives here; every number comes from the knowledge file.
/// </summary>
public sealed class CardBuilder(RlsKnowledge knowledge)
{
    public const int MaxSummaryLength = 139;
    private static readonly SearchValues<char> MarkdownSpecials = SearchValues.Create("\\*_`[]<>#|~\r\n");
    private const string SourceLabel = "RLS Iron CDS";

    public List<Card> Build(IReadOnlyList<Finding> findings, PatientSnapshot s, CardContext ctx)
    {
        var cards = new List<Card>(findings.Count);
        foreach (var f in findings)
        {
            cards.Add(f switch
            {
                IronStudiesDue d => IronStudies(d, s, ctx),
                IronTherapyIndicated d => IronTherapy(d, s, ctx),
                IvIronSuggested d => IvIron(d, s, ctx),
                IvIronNotIndicated d => IvIronCaution(d, s, ctx),
                AggravatingDrug d => DrugCaution(d, s, ctx),
                _ => throw new InvalidOperationException($"No card for finding {f.GetType().Name}."),
            });
        }
        // Most urgent first: critical, warning, info.
        cards.Sort((a, b) => b.Indicator.CompareTo(a.Indicator));
        return cards;
    }

    private Card IronStudies(IronStudiesDue f, PatientSnapshot s, CardContext ctx)
    {
        var md = RentDetailBuilder();
        md.Append("Iron deficiency in the brain drives RLS even without anaemia, and correcting iron is the first intervention. ");
        md.Append(CultureInfo.InvariantCulture, $"The AASM 2024 guideline asks for serum iron studies (ferritin and transferrin saturation) in every patient with clinically significant RLS. No ferritin or TSAT result from the last {WindowText()} was found.\n\n");
        md.Append("**Draw:** ").Append(knowledge.IronStudiesPatientInstruction).Append("\n\n");
        AppendBasis(md, s, [f.LastFerritin, f.LastTsat], showAge: true, labelOld: true);
        AppendCaveats(md, s, ironValuesShown: false);
        var card = NewCard(CardKind.IronStudies, f, ctx, Indicator.Info,
            $"RLS: no ferritin or TSAT in the last {WindowText()}. Order morning fasting iron studies.", md);
        card.Suggestions = [IronStudiesSuggestion(ctx, f.Key)];
        card.SelectionBehavior = SelectionBehavior.AtMostOne;
        return card;
    }

    private Card IronTherapy(IronTherapyIndicated f, PatientSnapshot s, CardContext ctx)
    {
        var t = knowledge.Thresholds;
        var low = new List<string>();
        if (f.Ferritin?.AtMost(t.FerritinIronTherapyMax) == true) low.Add($"ferritin {Value(f.Ferritin)}");
        if (f.Tsat?.Below(t.TsatIronTherapyBelow) == true) low.Add($"TSAT {Value(f.Tsat)}");
        var md = RentDetailBuilder();
        md.Append(CultureInfo.InvariantCulture,
            $"In RLS, iron supplementation is recommended when ferritin is ≤ {N(t.FerritinIronTherapyMax)} ng/mL or transferrin saturation is < {N(t.TsatIronTherapyBelow)} % (AASM 2024). ");
        md.Append("Iron therapy improves RLS severity (Cochrane 2019: −3.78 IRLS points vs placebo).\n\n");
        // IRLSSG 2018 limits initial IV iron to ferritin ≤ 100: above that (or with ferritin unknown) only oral iron is offered.
        var ivAppropriate = f.Ferritin?.AtMost(t.FerritinIvIronMax) == true;
        md.Append("**Options**\n");
        if (ivAppropriate)
        {
            md.Append("- **IV ferric carboxymaltose** 1000 mg once (or 750 mg twice, at least 7 days apart): AASM 2024 strong recommendation; works faster and also when oral iron fails. Check phosphate before a repeat course (symptomatic hypophosphatemia).\n");
        }
        md.Append("- **Oral ferrous sulfate** 325 mg (65 mg elemental iron) once daily or every other day, with vitamin C, on an empty stomach: AASM 2024 conditional recommendation; absorption is limited.\n");
        if (!ivAppropriate)
        {
            md.Append(CultureInfo.InvariantCulture, $"- IV iron is not offered: IRLSSG 2018 limits initial IV iron to ferritin ≤ {N(t.FerritinIvIronMax)} ng/mL{(f.Ferritin is null ? ", and no recent ferritin is available — order one" : "")}.\n");
        }
        md.Append('\n');
        if (f.IronInProgress is { } iron)
        {
            md.Append(CultureInfo.InvariantCulture, $"**Already in progress:** {Md(iron.Name)} ({OriginText(iron)}). Re-check ferritin and TSAT in about 3 months, or consider IV iron if oral iron has not raised ferritin.\n\n");
        }
        AppendBasis(md, s, [f.Ferritin, f.Tsat], showAge: true, labelOld: false);
        AppendCaveats(md, s, ironValuesShown: true);
        var card = NewCard(CardKind.IronTherapy, f, ctx, Indicator.Warning,
            $"RLS with low iron ({string.Join(", ", low)}): start iron therapy.", md);
        if (f.IronInProgress is null || f.IronInProgress.Origin != MedicationOrigin.Draft)
        {
            var suggestions = new List<Suggestion>(2);
            if (ivAppropriate) suggestions.Add(MedicationSuggestion(ctx, f.Key, "iv", "Order IV ferric carboxymaltose 1000 mg", IvIronRequest(ctx)));
            suggestions.Add(MedicationSuggestion(ctx, f.Key, "oral", "Order oral ferrous sulfate 325 mg every other day", OralIronRequest(ctx)));
            card.Suggestions = suggestions;
            card.SelectionBehavior = SelectionBehavior.AtMostOne;
        }
        return card;
    }

    private Card IvIron(IvIronSuggested f, PatientSnapshot s, CardContext ctx)
    {
        var t = knowledge.Thresholds;
        var md = RentDetailBuilder();
        md.Append(CultureInfo.InvariantCulture,
            $"Ferritin is between {N(t.FerritinIronTherapyMax)} and {N(t.FerritinIvIronMax)} ng/mL. At this level oral iron is unlikely to help RLS, but IV iron can (AASM 2024; IRLSSG 2018 limits initial IV iron to ferritin ≤ {N(t.FerritinIvIronMax)} and TSAT < {N(t.TsatIvIronBelow)} %).\n\n");
        md.Append("**Suggested:** IV ferric carboxymaltose 1000 mg once (or 750 mg twice, at least 7 days apart). Check phosphate before a repeat course (symptomatic hypophosphatemia).\n\n");
        if (f.OralIronOrder is { } oral)
        {
            md.Append(CultureInfo.InvariantCulture, $"**The oral iron being ordered ({Md(oral.Name)}) is unlikely to raise brain iron enough at this ferritin.** Consider IV iron instead.\n\n");
        }
        AppendBasis(md, s, [f.Ferritin, f.Tsat], showAge: true, labelOld: false);
        AppendCaveats(md, s, ironValuesShown: true);
        var summary = f.OralIronOrder is null
            ? $"RLS with ferritin {Value(f.Ferritin)}: consider IV ferric carboxymaltose; oral iron unlikely to help."
            : $"Ferritin {Value(f.Ferritin)}: oral iron unlikely to help RLS; consider IV ferric carboxymaltose instead.";
        var card = NewCard(CardKind.IvIron, f, ctx, Indicator.Info, summary, md);
        var ivRequest = IvIronRequest(ctx);
        var suggestions = new List<Suggestion>();
        if (f.OralIronOrder?.ResourceId is { } oralId)
        {
            suggestions.Add(new Suggestion
            {
                Label = "Replace the oral iron order with IV ferric carboxymaltose",
                Uuid = StableUuid.From(ctx.HookInstance, f.Key, "replace-oral"),
                IsRecommended = true,
                Actions =
                [
                    new CdsAction { Type = ActionType.Delete, Description = $"Remove the draft order for {f.OralIronOrder.Name}", ResourceId = oralId },
                    new CdsAction { Type = ActionType.Create, Description = "Order IV ferric carboxymaltose 1000 mg", Resource = ivRequest },
                ],
            });
        }
        else
        {
            suggestions.Add(MedicationSuggestion(ctx, f.Key, "iv", "Order IV ferric carboxymaltose 1000 mg", ivRequest));
        }
        card.Suggestions = suggestions;
        card.SelectionBehavior = SelectionBehavior.AtMostOne;
        return card;
    }

    private Card IvIronCaution(IvIronNotIndicated f, PatientSnapshot s, CardContext ctx)
    {
        var t = knowledge.Thresholds;
        var reasons = new List<string>();
        if (f.Ferritin?.Above(t.FerritinIvIronMax) == true) reasons.Add($"ferritin {Value(f.Ferritin)} (> {N(t.FerritinIvIronMax)})");
        if (f.Tsat?.AtLeast(t.TsatIvIronBelow) == true) reasons.Add($"TSAT {Value(f.Tsat)} (≥ {N(t.TsatIvIronBelow)} %)");
        var md = RentDetailBuilder();
        md.Append(CultureInfo.InvariantCulture, $"**{Md(f.Order.Name)}** is being ordered, but for RLS IV iron is indicated only when ferritin is ≤ {N(t.FerritinIvIronMax)} ng/mL and TSAT < {N(t.TsatIvIronBelow)} % (IRLSSG 2018). ");
        md.Append(f.HardStop
            ? string.Create(CultureInfo.InvariantCulture, $"With ferritin ≥ {N(t.FerritinHardStop)} ng/mL no iron of any kind should be given for RLS: it adds iron-overload risk without expected benefit.\n\n")
            : "Above these levels more iron is not expected to improve RLS and adds cost and the risk of hypophosphatemia and hypersensitivity.\n\n");
        md.Append("If the IV iron is for another indication (for example chronic kidney disease, heart failure or iron-deficiency anaemia with inflammation), override with that reason.\n\n");
        AppendBasis(md, s, [f.Ferritin, f.Tsat], showAge: false, labelOld: false);
        AppendCaveats(md, s, ironValuesShown: true);
        var summary = f.HardStop
            ? $"Stop: ferritin {Value(f.Ferritin)} (≥ {N(t.FerritinHardStop)}). No iron for RLS; IV iron order not indicated."
            : $"IV iron not indicated for RLS: {string.Join(", ", reasons)}.";
        var card = NewCard(CardKind.IvIronCaution, f, ctx, f.HardStop ? Indicator.Critical : Indicator.Warning, summary, md);
        card.AboutDraftOrder = true;
        if (f.Order.ResourceId is { } id)
        {
            card.Suggestions =
            [
                new Suggestion
                {
                    Label = $"Remove the IV iron order ({Short(f.Order.Name, 60)})",
                    Uuid = StableUuid.From(ctx.HookInstance, f.Key, "remove"),
                    IsRecommended = true,
                    Actions = [new CdsAction { Type = ActionType.Delete, Description = $"Remove the draft order for {f.Order.Name}", ResourceId = id }],
                },
            ];
            card.SelectionBehavior = SelectionBehavior.AtMostOne;
        }
        card.OverrideReasons =
        [
            Reason("other-indication", "IV iron is for another indication (CKD, heart failure, anaemia)"),
            Reason("inflammation", "Ferritin raised by inflammation; iron deficiency confirmed otherwise"),
            Reason("specialist-advice", "Given on sleep or hematology specialist advice"),
        ];
        return card;
    }

    private Card DrugCaution(AggravatingDrug f, PatientSnapshot s, CardContext ctx)
    {
        var drugName = Capitalise(f.Drug.Ingredient);
        var classText = knowledge.ClassDisplay(f.Drug.Class);
        var isSerotonergic = f.Kind == CardKind.SsriCaution;
        var md = RentDetailBuilder();
        md.Append(CultureInfo.InvariantCulture, $"**{Md(f.Medication.Name)}** ({classText}; {OriginText(f.Medication)}) can start or worsen restless legs syndrome. ");
        if (isSerotonergic)
        {
            md.Append("Serotonergic antidepressants worsen RLS in about 5–10 % of patients, usually within days (mirtazapine up to 28 %; Rottach 2008). ");
            md.Append("The AASM 2024 guideline asks to address serotonergic, antihistaminergic and antidopaminergic medications before adding RLS treatment.\n\n");
        }
        else
        {
            md.Append("Sedating antihistamines and dopamine antagonists are among the exacerbating factors the AASM 2024 guideline asks to address first.\n\n");
        }

        if (s.Anxiety is { } anxiety && isSerotonergic)
        {
            md.Append(CultureInfo.InvariantCulture, $"**Anxiety ({Md(anxiety)}):** if this antidepressant is for anxiety, note that untreated iron deficiency (poor sleep, fatigue, cognitive effects) can itself feed anxiety, so correcting iron comes first. ");
            md.Append("If an antidepressant is still needed, choose it with RLS in mind and monitor RLS symptoms in the first weeks. ");
            md.Append("Pregabalin and gabapentin are strongly recommended RLS treatments (AASM 2024) and pregabalin also has anxiolytic evidence: worth discussing, not prescribed by this service.\n\n");
        }
        else if (s.Anxiety is { } anxietyOther)
        {
            md.Append(CultureInfo.InvariantCulture, $"**Anxiety ({Md(anxietyOther)}):** untreated iron deficiency can itself feed anxiety through poor sleep and fatigue; correcting iron comes first.\n\n");
        }

        md.Append("**Safer paths**\n");
        if (isSerotonergic)
        {
            md.Append("- Bupropion may reduce RLS symptoms in the short term and is the antidepressant least likely to worsen RLS (Kolla 2018); it is not an anxiolytic.\n");
            md.Append("- Trazodone did not worsen periodic limb movements (Kolla 2018).\n");
            md.Append("- Non-drug treatment of anxiety or depression (for example CBT) avoids the interaction.\n");
            md.Append("- If the drug is continued: monitor RLS symptoms, give it in the morning, and correct iron.\n");
        }
        else if (f.Drug.Class == DrugClass.SedatingAntihistamine)
        {
            md.Append("- For allergy: a non-sedating antihistamine (loratadine, fexofenadine) is less likely to worsen RLS.\n");
            md.Append("- For sleep: treat the RLS and iron deficiency that disturb the sleep rather than adding a sedating antihistamine.\n");
        }
        else
        {
            md.Append("- For nausea: an antiemetic without central dopamine blockade (for example ondansetron; domperidone where available).\n");
            md.Append("- If an antipsychotic is needed, weigh RLS risk in the choice and monitor RLS symptoms.\n");
        }
        md.Append('\n');

        AppendBasis(md, s, f.IronLabs, showAge: false, labelOld: true);
        if (f.IronStudiesDue)
        {
            md.Append(CultureInfo.InvariantCulture, $"No ferritin or TSAT from the last {WindowText()}: iron studies are suggested below. **Draw:** {knowledge.IronStudiesPatientInstruction}\n\n");
        }
        // A ferritin skipped for its unit is why "no ferritin" may be said here: the clinician must see it.
        AppendCaveats(md, s, ironValuesShown: false);
        md.Append(CultureInfo.InvariantCulture, $"Recognised by {Md(f.Drug.Evidence)}.\n");

        var summary = $"{drugName} ({classText}) may worsen RLS: {(f.IronStudiesDue ? "check iron first" : "consider an alternative")} and monitor RLS.";
        var card = NewCard(f.Kind, f, ctx, Indicator.Warning, summary, md);
        card.AboutDraftOrder = f.Medication.Origin == MedicationOrigin.Draft;

        var suggestions = new List<Suggestion>();
        if (f.Medication.Origin == MedicationOrigin.Draft && f.Medication.ResourceId is { } id)
        {
            suggestions.Add(new Suggestion
            {
                Label = $"Remove the {Short(f.Medication.Name, 60)} order",
                Uuid = StableUuid.From(ctx.HookInstance, f.Key, "remove"),
                Actions = [new CdsAction { Type = ActionType.Delete, Description = $"Remove the draft order for {f.Medication.Name}", ResourceId = id }],
            });
        }
        if (f.IronStudiesDue) suggestions.Add(IronStudiesSuggestion(ctx, f.Key));
        if (suggestions.Count > 0)
        {
            card.Suggestions = suggestions;
            card.SelectionBehavior = SelectionBehavior.Any;
        }
        card.OverrideReasons =
        [
            Reason("benefit-outweighs-risk", "Benefit outweighs RLS risk; RLS will be monitored"),
            Reason("tolerated-before", "Patient has taken this drug before without RLS worsening"),
            Reason("rls-not-active", "RLS not currently active or diagnosis doubtful"),
            Reason("iron-addressed", "Iron status already being addressed"),
        ];
        return card;
    }

    private Card NewCard(CardKind kind, Finding f, CardContext ctx, Indicator indicator, string summary, StringBuilder detail)
    {
        var guideline = knowledge.GuidelineFor(kind);
        detail.Append(CultureInfo.InvariantCulture, $"\n*Guideline:* {guideline.Citation}");
        return new Card
        {
            Uuid = StableUuid.From(ctx.ServiceId, ctx.HookInstance, f.Key),
            Summary = Short(summary, MaxSummaryLength),
            Detail = ReleaseDetailBuilder(detail),
            Indicator = indicator,
            Source = new CardSource
            {
                Label = SourceLabel,
                Url = guideline.Url,
                Topic = new Coding(ServiceCodeSystems.CardKind, kind.Code(), kind.Display()),
            },
            Links = guideline.Url is null ? null : [new Link { Label = ShortCitation(guideline), Url = guideline.Url, Type = LinkType.Absolute }],
        };
    }

    private void AppendBasis(StringBuilder md, PatientSnapshot s, IEnumerable<LabResult?> ironLabs, bool showAge, bool labelOld)
    {
        var since = s.Now.AddDays(-knowledge.Thresholds.IronStudiesWindowDays);
        md.Append(CultureInfo.InvariantCulture, $"**Based on** (as of {s.Now:yyyy-MM-dd}):\n");
        md.Append(CultureInfo.InvariantCulture, $"- RLS: {Md(s.Rls?.Description ?? "not recorded")}\n");
        var shown = new HashSet<Analyte>();
        foreach (var lab in ironLabs)
        {
            if (lab is null || !shown.Add(lab.Analyte)) continue;
            md.Append(CultureInfo.InvariantCulture, $"- {AnalyteName(lab.Analyte)}: {LabLine(lab)}");
            if (labelOld && lab.When < since) md.Append(" — older than the window, not used");
            md.Append('\n');
        }
        foreach (var extra in new[] { Analyte.Ferritin, Analyte.Tsat, Analyte.Crp, Analyte.Hemoglobin })
        {
            if (shown.Contains(extra) || s.Lab(extra) is not { } lab) continue;
            if (extra is Analyte.Ferritin or Analyte.Tsat && lab.When < since) continue;
            md.Append(CultureInfo.InvariantCulture, $"- {AnalyteName(extra)}: {LabLine(lab)}\n");
        }
        if (showAge)
        {
            md.Append(s.AgeYears is { } age
                ? string.Create(CultureInfo.InvariantCulture, $"- Age: {age} years (adult thresholds)\n")
                : "- Age: unknown — adult thresholds assumed; they do not apply to children\n");
        }
        md.Append('\n');
    }

    private void AppendCaveats(StringBuilder md, PatientSnapshot s, bool ironValuesShown)
    {
        var notes = new List<string>();
        var t = knowledge.Thresholds;
        if (s.Lab(Analyte.Crp) is { } crp && crp.Above(t.CrpRaisedAbove) && crp.When >= s.Now.AddDays(-t.IronStudiesWindowDays))
        {
            notes.Add($"CRP is raised ({Value(crp)}): ferritin is an acute-phase reactant, so a normal ferritin does not exclude iron deficiency — rely on TSAT.");
        }
        if (ironValuesShown)
        {
            notes.Add("Ferritin assays differ between manufacturers, and biotin supplements interfere with ferritin immunoassays.");
        }
        if (s.Lab(Analyte.Tsat) is { Derived: true }) notes.Add("TSAT was calculated from serum iron and TIBC drawn the same day.");
        foreach (var skipped in s.Skipped) notes.Add($"Not used: {skipped}.");
        foreach (var missing in s.Unavailable) notes.Add($"Not available from the EHR: {missing}.");
        if (notes.Count == 0) return;
        md.Append("**Caveats**\n");
        foreach (var n in notes) md.Append("- ").Append(Md(n)).Append('\n');
        md.Append('\n');
    }

    private Suggestion IronStudiesSuggestion(CardContext ctx, string key)
    {
        var actions = new List<CdsAction>();
        foreach (var code in knowledge.IronStudiesOrderCodes)
        {
            actions.Add(new CdsAction
            {
                Type = ActionType.Create,
                Description = $"Order {code.Display ?? code.Code} (morning, fasting)",
                Resource = new ServiceRequest
                {
                    Status = "draft",
                    Intent = "order",
                    Category = [new CodeableConcept { Coding = [new Coding(FhirSystems.Snomed, "108252007", "Laboratory procedure")] }],
                    Code = new CodeableConcept { Coding = [code], Text = code.Display },
                    Subject = new Reference("Patient/" + ctx.PatientId),
                    Encounter = ctx.EncounterId is null ? null : new Reference("Encounter/" + ctx.EncounterId),
                    ReasonCode = [new CodeableConcept { Coding = [.. knowledge.RlsConditionCodes.Take(1)], Text = "Restless legs syndrome" }],
                    PatientInstruction = knowledge.IronStudiesPatientInstruction,
                    Note = [new Annotation { Text = "RLS iron studies (AASM 2024): ferritin and transferrin saturation, morning fasting draw, no iron for 24 h." }],
                },
            });
        }
        return new Suggestion
        {
            Label = "Order ferritin and iron/TIBC panel (morning, fasting)",
            Uuid = StableUuid.From(ctx.HookInstance, key, "iron-studies"),
            IsRecommended = true,
            Actions = actions,
        };
    }

    private static Suggestion MedicationSuggestion(CardContext ctx, string key, string variant, string label, MedicationRequest request) => new()
    {
        Label = label,
        Uuid = StableUuid.From(ctx.HookInstance, key, variant),
        Actions = [new CdsAction { Type = ActionType.Create, Description = label, Resource = request }],
    };

    // Medication suggestions carry text, not codes: the product RXCUIs are not verified yet (see the knowledge file).
    private static MedicationRequest IvIronRequest(CardContext ctx) => MedicationDraft(ctx,
        "ferric carboxymaltose 1000 MG IV infusion",
        "1000 mg IV once (or 750 mg IV twice, at least 7 days apart). Check serum phosphate before any repeat course.",
        "RLS with ferritin in the IV-iron range (AASM 2024; IRLSSG 2018)");

    private static MedicationRequest OralIronRequest(CardContext ctx) => MedicationDraft(ctx,
        "ferrous sulfate 325 MG Oral Tablet",
        "325 mg (65 mg elemental iron) by mouth every other day with vitamin C, on an empty stomach.",
        "RLS with low iron (AASM 2024)");

    private static MedicationRequest MedicationDraft(CardContext ctx, string medication, string dosage, string note) => new()
    {
        Status = "draft",
        Intent = "order",
        MedicationCodeableConcept = new CodeableConcept { Text = medication },
        Subject = new Reference("Patient/" + ctx.PatientId),
        DosageInstruction = [new Dosage { Text = dosage }],
        Note = [new Annotation { Text = note }],
    };

    private static Coding Reason(string code, string display) => new(ServiceCodeSystems.OverrideReason, code, display);

    private string WindowText()
    {
        var days = knowledge.Thresholds.IronStudiesWindowDays;
        return days % 365 == 0 ? (days == 365 ? "12 months" : $"{days / 365 * 12} months")
            : days % 30 == 0 ? $"{days / 30} months" : $"{days} days";
    }

    private static string OriginText(MedicationFact m) => m.Origin switch
    {
        MedicationOrigin.Draft => "being ordered",
        MedicationOrigin.ActiveOrder => "active order",
        _ => "active medication",
    };

    private static string AnalyteName(Analyte a) => a switch
    {
        Analyte.Ferritin => "Ferritin",
        Analyte.Tsat => "Transferrin saturation (TSAT)",
        Analyte.Iron => "Serum iron",
        Analyte.Tibc => "TIBC",
        Analyte.Transferrin => "Transferrin",
        Analyte.Crp => "CRP",
        Analyte.Hemoglobin => "Hemoglobin",
        _ => a.ToString(),
    };

    private static string LabLine(LabResult lab)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{Value(lab)} on {lab.When:yyyy-MM-dd}");
        return lab.ReportedAs is null ? line : $"{line} (reported as {lab.ReportedAs})";
    }

    private static string Value(LabResult? lab) => lab is null ? "unknown"
        : string.Create(CultureInfo.InvariantCulture, $"{lab.Comparator}{N(lab.Value)} {lab.Unit}");

    private static string N(decimal d) => d.ToString("0.##", CultureInfo.InvariantCulture);

    private static string ShortCitation(Guideline g) => g.Key switch
    {
        "aasm2024" => "AASM 2024 RLS guideline (J Clin Sleep Med)",
        "irlssg2018" => "IRLSSG 2018 iron treatment guideline (Sleep Med)",
        _ => Short(g.Citation, 80),
    };

    private static string Capitalise(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

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

    private static StringBuilder RentDetailBuilder()
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
    private static string Md(string text)
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
