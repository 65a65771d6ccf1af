using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Rls.Cards;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;
using Xunit.Abstractions;
using static CdsHooks.Rls.Tests.Snapshots;

namespace CdsHooks.Rls.Tests;

/// <summary>
/// Issue 10, item 7: a generated test that tries to make the service suggest iron where it can harm. Every safety
/// marker alone, every pair of markers and all of them at once, crossed with the iron findings, the three hooks and
/// the iron drafts being ordered, run through the rules and the card builders in process.
/// <para>
/// Independent of the rules' code: which iron forms a marker rules out is stated here, from the issue and the
/// knowledge file's contraindication table (and checked against that table); what the service suggests is read
/// from the cards themselves: the MedicationRequests of <c>create</c> actions, recognised by the RxNorm code and text
/// of the knowledge file's products and by the iron ingredients it lists. Only the public pipeline is called
/// (<see cref="RlsRules.Evaluate"/>, <see cref="CardBuilder.Build"/>).
/// </para>
/// </summary>
public sealed class ContraindicationMatrixTests(ITestOutputHelper output)
{
    private const string HookInstance = "0b6f3f7e-5a43-4c39-9d0e-7e3c1b2f9a10";

    /// <summary>The iron forms a suggestion can be; a marker forbids a set of them.</summary>
    [Flags]
    private enum Forms
    {
        None = 0,
        Oral = 1,
        /// <summary>IV ferric carboxymaltose (product <c>ferric-carboxymaltose-iv</c>).</summary>
        Fcm = 2,
        /// <summary>Any other IV iron (iron sucrose, ferumoxytol ...).</summary>
        OtherIv = 4,
        Iv = Fcm | OtherIv,
        /// <summary>Oral ferrous sulfate drops for children (product <c>ferrous-sulfate-oral-pediatric</c>, no dose).</summary>
        PediatricOral = 8,
        AnyOral = Oral | PediatricOral,
        Any = AnyOral | Iv,
        /// <summary>The adult-dosed forms a child must not be given.</summary>
        AdultDosed = Oral | Iv,
    }

    // ---- the knowledge file, read as JSON (not through RlsKnowledge) --------------------------------------------------

    private static readonly Lazy<JsonObject> KnowledgeFile = new(() =>
    {
        using var stream = typeof(RlsKnowledge).Assembly.GetManifestResourceStream(RlsKnowledge.EmbeddedResourceName)!;
        return JsonNode.Parse(stream)!.AsObject();
    });

    private static JsonObject ContraindicationEntry(string id) => KnowledgeFile.Value["contraindications"]![id]!.AsObject();

    private static Forms ExcludedForms(string id)
    {
        var forms = Forms.None;
        foreach (var e in ContraindicationEntry(id)["excludes"]!.AsArray())
        {
            forms |= (string?)e switch
            {
                "any-iron" => Forms.Any,
                "iv-iron" => Forms.Iv,
                "oral-iron" => Forms.AnyOral,
                "ferric-carboxymaltose" => Forms.Fcm,
                var other => throw new InvalidOperationException($"contraindications.{id}: excludes '{other}' is unknown to this test"),
            };
        }
        return forms;
    }

    /// <summary><c>cautionOnDraft</c> of a contraindication: true unless the file says false.</summary>
    private static bool CautionOnDraft(string id) => ContraindicationEntry(id)["cautionOnDraft"] is not { } v || v.GetValue<bool>();

    private static bool CriticalInFile(string id) => (string?)ContraindicationEntry(id)["severity"] == "critical";

    private static string AreaName(string areaKey) => (string)KnowledgeFile.Value["dataAreas"]![areaKey]!["name"]!;

    private static (string Code, string Text) ProductInFile(string key)
    {
        var p = KnowledgeFile.Value["products"]![key]!;
        return ((string)p["rxnorm"]!["code"]!, (string)p["text"]!);
    }

    /// <summary>"**Already in progress:** " — what the iron-therapy card writes before a medication it treats as under way.</summary>
    private static string InProgressPrefix()
    {
        var template = (string)KnowledgeFile.Value["cards"]!["iron-therapy"]!["text"]!["inProgress"]!;
        return template[..template.IndexOf("{medication}", StringComparison.Ordinal)];
    }

    /// <summary>What form of iron a suggested MedicationRequest is, from the knowledge file's codes and ingredient names; None when it is not iron.</summary>
    private sealed class SuggestionReader
    {
        private readonly Dictionary<string, Forms> _codes = new(StringComparer.Ordinal);
        private readonly List<(string Name, Forms Form)> _names = [];

        public SuggestionReader()
        {
            var doc = KnowledgeFile.Value;
            var (fcmCode, fcmText) = ProductInFile(SuggestionKeys.FerricCarboxymaltose);
            var (oralCode, oralText) = ProductInFile(SuggestionKeys.FerrousSulfate);
            var (dropsCode, dropsText) = ProductInFile(SuggestionKeys.FerrousSulfatePediatric);
            _codes[dropsCode] = Forms.PediatricOral;
            _names.Add((dropsText, Forms.PediatricOral));
            _codes[fcmCode] = Forms.Fcm;
            _codes[oralCode] = Forms.Oral;
            _names.Add((fcmText, Forms.Fcm));
            _names.Add((oralText, Forms.Oral));
            foreach (var drug in doc["drugs"]!.AsArray())
            {
                var form = FormOf((string?)drug!["class"], (string?)drug["ingredient"]);
                if (form == Forms.None) continue;
                _names.Add(((string)drug["ingredient"]!, form));
                foreach (var code in drug["rxnorm"]?.AsArray() ?? []) _codes.TryAdd((string)code!, form);
            }
            foreach (var pc in doc["productCodes"]!.AsArray())
            {
                var ingredient = (string?)pc!["ingredient"];
                var form = _names.Find(n => string.Equals(n.Name, ingredient, StringComparison.OrdinalIgnoreCase)).Form;
                if (form != Forms.None) _codes.TryAdd((string)pc["code"]!, form);
            }
        }

        private static Forms FormOf(string? cls, string? ingredient) => cls switch
        {
            "oral-iron" => Forms.Oral,
            "iv-iron" => string.Equals(ingredient, "ferric carboxymaltose", StringComparison.OrdinalIgnoreCase) ? Forms.Fcm : Forms.OtherIv,
            _ => Forms.None,
        };

        public Forms Read(MedicationRequest request)
        {
            var concept = request.MedicationCodeableConcept;
            var form = Forms.None;
            foreach (var coding in concept?.Coding ?? [])
            {
                if (coding.Code is { } code && _codes.TryGetValue(code, out var f)) form |= f;
            }
            // A suggested product's own code says which form it is (the drops are ferrous sulfate too, by name).
            if (form == Forms.PediatricOral) return form;
            var text = string.Join(" | ", new[] { concept?.Text }.Concat((concept?.Coding ?? []).Select(c => c.Display)).OfType<string>());
            foreach (var (name, f) in _names)
            {
                if (text.Contains(name, StringComparison.OrdinalIgnoreCase)) form |= f;
            }
            return form;
        }
    }

    // ---- the charts -------------------------------------------------------------------------------------------------

    /// <summary>A woman of 46 with RLS (could be pregnant), before markers, findings and drafts are applied.</summary>
    private sealed class Chart
    {
        public string? Ferritin { get; set; }
        public string? Tsat { get; set; }
        public LabResult? Phosphate { get; set; }
        public int? Age { get; set; } = 46;
        public PregnancyFact Pregnancy { get; set; } = PregnancyFact.None;
        public List<ConditionFact> Conditions { get; } = [];
        public List<MedicationFact> Medications { get; } = [];
        public List<AllergyFact> Allergies { get; } = [];
        public List<DataGap> Gaps { get; } = [];

        public PatientSnapshot Snapshot() => Of(Ferritin, Tsat, Age, labs: Phosphate is null ? [] : [Phosphate], gaps: Gaps, medications: Medications,
            conditions: Conditions, allergies: Allergies, pregnancy: Pregnancy, sex: Sex.Female);
    }

    /// <summary>
    /// A safety marker: what it adds to the chart and which iron forms it rules out (stated here, from issue 10 and the
    /// knowledge file). <see cref="Slot"/>: markers of one slot describe the same fact and are not paired.
    /// <see cref="Contraindication"/>: the knowledge file entry that words it (draft cautions and their severity come
    /// from there); <see cref="AreaKey"/>: the data area whose name a card must give when the marker is a data gap.
    /// </summary>
    private sealed record Marker(string Name, string Slot, Forms Forbids, Action<Chart> Apply, string? Contraindication = null, string? AreaKey = null)
    {
        public override string ToString() => Name;
    }

    private static Marker GapMarker(DataArea area, string key, Forms forbids, bool partial) =>
        new($"{key} {(partial ? "partly" : "not")} read", "gap:" + key, forbids,
            c => c.Gaps.Add(Snapshots.Gap(area, partial, partial ? "a later page failed (503)" : "the FHIR server failed (503)")), AreaKey: key);

    private static readonly Marker[] Markers =
    [
        new("iron overload", "overload", Forms.Any, c => c.Conditions.Add(Condition(ConditionKind.IronOverload, "Hereditary hemochromatosis")), ContraindicationIds.IronOverload),
        new("iron chelator taken", "chelator", Forms.Any,
            c => c.Medications.Add(Med("deferasirox", DrugClass.IronChelator, MedicationOrigin.Statement, id: "MedicationStatement/deferasirox", name: "deferasirox 360 MG Oral Tablet")),
            ContraindicationIds.IronOverload),
        new("pregnant, 13 weeks", "pregnancy", Forms.Iv, c => c.Pregnancy = new(PregnancyState.Pregnant, 13, 13.9m, "13 weeks (gestational age)"), ContraindicationIds.FirstTrimester),
        new("pregnant, trimester unknown", "pregnancy", Forms.Iv, c => c.Pregnancy = new(PregnancyState.Pregnant, null, null, "pregnancy on the problem list"), ContraindicationIds.TrimesterUnknown),
        new("pregnant, 12-16 weeks", "pregnancy", Forms.Iv, c => c.Pregnancy = new(PregnancyState.Pregnant, 12, 16, "12 to 16 weeks (estimated delivery date)"), ContraindicationIds.TrimesterUnknown),
        // The RLS pregnancy figures are unverified: only oral iron is suggested in pregnancy (knowledge file status).
        new("pregnant, 14 weeks", "pregnancy", Forms.Iv, c => c.Pregnancy = new(PregnancyState.Pregnant, 14, 15, "14 weeks (gestational age)"), ContraindicationIds.LaterPregnancy),
        new("pregnancy status unknown", "pregnancy", Forms.Iv, c => c.Pregnancy = new(PregnancyState.Unknown, null, null, "pregnancy status unknown (82810-3)"), AreaKey: "pregnancy"),
        new("serious IV iron reaction", "iv-allergy-serious", Forms.Iv, c => c.Allergies.Add(new AllergyFact(IronForm.Iv, true, "anaphylaxis to iron sucrose")),
            ContraindicationIds.SeriousIvIronHypersensitivity),
        new("IV iron allergy", "iv-allergy", Forms.Iv, c => c.Allergies.Add(new AllergyFact(IronForm.Iv, false, "rash with ferumoxytol")), ContraindicationIds.IvIronHypersensitivity),
        new("oral iron allergy", "oral-allergy", Forms.AnyOral, c => c.Allergies.Add(new AllergyFact(IronForm.Oral, false, "ferrous sulfate intolerance")),
            ContraindicationIds.OralIronHypersensitivity),
        new("low phosphate", "phosphate", Forms.Fcm, c => c.Phosphate = Lab(Analyte.Phosphate, "2.4", daysAgo: 10), ContraindicationIds.Hypophosphatemia),
        new("no recent phosphate", "phosphate", Forms.Fcm, c => c.Phosphate = Lab(Analyte.Phosphate, "3.4", daysAgo: 200), ContraindicationIds.PhosphateNotMeasured),
        new("IV iron given 3 weeks ago", "recent-iv-given", Forms.Iv,
            c => c.Medications.Add(Med("ferric carboxymaltose", DrugClass.IvIron, MedicationOrigin.Administration, id: "MedicationAdministration/fcm-given",
                name: "ferric carboxymaltose 750 MG infusion (given)", daysAgo: 21)),
            ContraindicationIds.RecentIvIron),
        new("IV iron ordered 84 days ago", "recent-iv-ordered", Forms.Iv,
            c => c.Medications.Add(Med("iron sucrose", DrugClass.IvIron, MedicationOrigin.PastOrder, id: "MedicationRequest/iron-sucrose-done",
                name: "iron sucrose 200 MG (completed order)", daysAgo: 84)),
            ContraindicationIds.RecentIvIron),
        new("dialysis", "dialysis", Forms.Fcm, c => c.Conditions.Add(Condition(ConditionKind.Dialysis, "Dependence on renal dialysis")), ContraindicationIds.Dialysis),
        new("oral iron taken", "oral-taken", Forms.AnyOral,
            c => c.Medications.Add(Med("ferrous sulfate", DrugClass.OralIron, MedicationOrigin.Statement, id: "MedicationStatement/fe", name: "ferrous sulfate 325 MG (taking)")),
            ContraindicationIds.OralIronInProgress),
        new("IV iron ordered", "iv-ordered", Forms.Iv,
            c => c.Medications.Add(Med("ferric carboxymaltose", DrugClass.IvIron, MedicationOrigin.ActiveOrder, id: "MedicationRequest/fcm-active",
                name: "ferric carboxymaltose 750 MG (active order)")),
            ContraindicationIds.IvIronInProgress),
        new("age unknown", "age", Forms.Any, c => c.Age = null, ContraindicationIds.AgeUnknown),
        // A child gets no adult-dosed iron; the pediatric drops (no dose) are the child's form.
        new("child of 17", "age", Forms.AdultDosed, c => c.Age = 17, ContraindicationIds.Child),
        // The default patient is an adult (46): never the pediatric drops. A marker of its own so every contraindication
        // of the file has one; it changes nothing in the chart.
        new("adult", "age", Forms.PediatricOral, _ => { }, ContraindicationIds.AdultPediatricForm),
        new("ferritin 300", "ferritin", Forms.Any, c => c.Ferritin = "300", ContraindicationIds.FerritinHardStop),
        // Not a contraindication entry: the threshold tsatIvIronBelowPercent ("at or above it no iron card is given and
        // an IV iron order gets a caution").
        new("TSAT 45", "tsat", Forms.Any, c => c.Tsat = "45"),
        GapMarker(DataArea.Conditions, "conditions", Forms.Any, partial: false),
        GapMarker(DataArea.Conditions, "conditions", Forms.Any, partial: true),
        GapMarker(DataArea.Medications, "medications", Forms.Any, partial: false),
        GapMarker(DataArea.Medications, "medications", Forms.Any, partial: true),
        GapMarker(DataArea.Allergies, "allergies", Forms.Any, partial: false),
        GapMarker(DataArea.Allergies, "allergies", Forms.Any, partial: true),
        GapMarker(DataArea.IronHistory, "iron-history", Forms.Iv, partial: false),
        GapMarker(DataArea.IronHistory, "iron-history", Forms.Iv, partial: true),
        GapMarker(DataArea.Pregnancy, "pregnancy", Forms.Iv, partial: false),
        GapMarker(DataArea.Pregnancy, "pregnancy", Forms.Iv, partial: true),
        GapMarker(DataArea.Phosphate, "phosphate", Forms.Fcm, partial: false),
        GapMarker(DataArea.Phosphate, "phosphate", Forms.Fcm, partial: true),
    ];

    /// <summary>The contraindications a draft caution must be critical for (issue 10: overload, anaphylaxis history, first-trimester IV).</summary>
    private static readonly string[] CriticalByIssue =
        [ContraindicationIds.IronOverload, ContraindicationIds.SeriousIvIronHypersensitivity, ContraindicationIds.FirstTrimester];

    private sealed record IronFinding(string Name, string? Ferritin, string? Tsat, bool NormalPhosphate)
    {
        public override string ToString() => Name + (NormalPhosphate ? ", phosphate 3.4 (10 days)" : ", no phosphate");
    }

    /// <summary>The iron findings; with and without a normal recent phosphate where ferric carboxymaltose can be considered (ferritin ≤ 100).</summary>
    private static readonly IronFinding[] Findings =
    [
        new("ferritin 30, TSAT 15", "30", "15", NormalPhosphate: true),
        new("ferritin 30, TSAT 15", "30", "15", NormalPhosphate: false),
        new("ferritin 85, TSAT 25", "85", "25", NormalPhosphate: true),
        new("ferritin 85, TSAT 25", "85", "25", NormalPhosphate: false),
        new("TSAT 15 only", null, "15", NormalPhosphate: true),
        new("ferritin 150, TSAT 15", "150", "15", NormalPhosphate: true),
        new("no recent iron studies", null, null, NormalPhosphate: true),
    ];

    private sealed record Draft(string Name, MedicationFact Fact, Forms Form);

    private static Draft DraftOf(string kind, bool selected) => kind switch
    {
        "oral" => new($"oral ferrous sulfate{(selected ? "" : ", not selected")}",
            Med("ferrous sulfate", DrugClass.OralIron, selected: selected, id: "oral-draft", name: "ferrous sulfate 325 MG Oral Tablet (draft)"), Forms.Oral),
        "fcm" => new($"IV ferric carboxymaltose{(selected ? "" : ", not selected")}",
            Med("ferric carboxymaltose", DrugClass.IvIron, selected: selected, id: "fcm-draft", name: "ferric carboxymaltose 1000 MG injection (draft)"), Forms.Fcm),
        _ => new($"IV iron sucrose{(selected ? "" : ", not selected")}",
            Med("iron sucrose", DrugClass.IvIron, selected: selected, id: "iron-sucrose-draft", name: "iron sucrose 200 MG injection (draft)"), Forms.OtherIv),
    };

    /// <summary>A hook with the iron draft it carries (none at patient-view, which has no draft orders; order-sign also without one).</summary>
    private sealed record Call(HookKind Hook, Draft? Draft)
    {
        /// <summary>The hook comments on the draft: every draft at order-sign, the selected ones at order-select.</summary>
        public bool DraftInScope => Draft is not null && (Hook == HookKind.OrderSign || Draft.Fact.IsSelected);

        public override string ToString() => $"{Hook}, draft: {Draft?.Name ?? "none"}";
    }

    private static readonly Call[] Calls =
    [
        new(HookKind.PatientView, null),
        new(HookKind.OrderSelect, DraftOf("oral", true)),
        new(HookKind.OrderSelect, DraftOf("fcm", true)),
        new(HookKind.OrderSelect, DraftOf("sucrose", true)),
        new(HookKind.OrderSelect, DraftOf("oral", false)),
        new(HookKind.OrderSelect, DraftOf("fcm", false)),
        new(HookKind.OrderSign, null),
        new(HookKind.OrderSign, DraftOf("oral", true)),
        new(HookKind.OrderSign, DraftOf("fcm", true)),
        new(HookKind.OrderSign, DraftOf("sucrose", true)),
    ];

    /// <summary>No marker, every marker, every pair of markers of different slots, and one marker of each slot at once (the first of each, and the last).</summary>
    private static List<Marker[]> Combinations()
    {
        var combinations = new List<Marker[]> { Array.Empty<Marker>() };
        combinations.AddRange(Markers.Select(m => new[] { m }));
        for (int i = 0; i < Markers.Length; i++)
        {
            for (int j = i + 1; j < Markers.Length; j++)
            {
                if (Markers[i].Slot != Markers[j].Slot) combinations.Add([Markers[i], Markers[j]]);
            }
        }
        combinations.Add([.. Markers.GroupBy(m => m.Slot).Select(g => g.First())]);
        combinations.Add([.. Markers.GroupBy(m => m.Slot).Select(g => g.Last())]);
        return combinations;
    }

    private static PatientSnapshot Snapshot(IReadOnlyList<Marker> markers, IronFinding finding, Call call)
    {
        var chart = new Chart
        {
            Ferritin = finding.Ferritin,
            Tsat = finding.Tsat,
            Phosphate = finding.NormalPhosphate ? Lab(Analyte.Phosphate, "3.4", daysAgo: 10) : null,
        };
        foreach (var m in markers) m.Apply(chart);
        if (call.Draft is { } draft) chart.Medications.Add(draft.Fact);
        return chart.Snapshot();
    }

    private static readonly RlsRules Rules = new(RlsKnowledge.Default);
    private static readonly CardBuilder Builder = new(RlsKnowledge.Default);

    private static List<Card> Cards(PatientSnapshot s, HookKind hook)
    {
        var assessment = Rules.Evaluate(s, hook);
        Assert.Empty(assessment.Unresolved); // RLS is recorded: the rules answer with cards, never a 412
        var ctx = new CardContext("rls-iron-" + CardKinds.FileName(hook), HookInstance, hook, s.PatientId, "e1", "Practitioner/1");
        return Builder.Build(assessment.Findings, s, ctx);
    }

    private static string Topic(Card card) => card.Source.Topic?.Code ?? "";

    private static bool IsDraftCaution(Card card) => Topic(card) is "iron-contraindicated" or "iv-iron-caution";

    private static bool Deletes(Card card, string resourceId) =>
        (card.Suggestions ?? []).Any(s => (s.Actions ?? []).Any(a => a.Type == ActionType.Delete && a.ResourceId == resourceId));

    /// <summary>Every iron order the cards suggest: card, suggestion label, form.</summary>
    private static List<(Card Card, string Label, Forms Form)> IronSuggestions(List<Card> cards, SuggestionReader reader)
    {
        var found = new List<(Card, string, Forms)>();
        foreach (var card in cards)
        {
            foreach (var suggestion in card.Suggestions ?? [])
            {
                foreach (var action in suggestion.Actions ?? [])
                {
                    if (action.Type == ActionType.Create && action.Resource is MedicationRequest request) found.Add((card, suggestion.Label, reader.Read(request)));
                }
            }
        }
        return found;
    }

    // ---- the matrix -------------------------------------------------------------------------------------------------

    /// <summary>
    /// For every case: (1) no suggested iron order is of a form a marker rules out, nor a duplicate of iron being
    /// ordered (a draft not cautioned for removal) — and every suggested MedicationRequest is recognisably iron;
    /// (2) a draft the hook comments on, whose own form a marker rules out and the knowledge file marks as a draft
    /// caution, gets an iron-contraindicated (or iv-iron-caution) card with a delete action on it — critical where the
    /// file says critical — and no card treats it as iron "already in progress"; (3) when a data gap withholds an
    /// order that the same chart without the gap is suggested, the card names the data area that could not be read.
    /// </summary>
    [Theory]
    [InlineData(40460)]
    public void Cards_EveryMarkerPairFindingHookAndDraft_NeverSuggestContraindicatedIron(int cases)
    {
        var reader = new SuggestionReader();
        var inProgress = InProgressPrefix();
        var draftCaution = Markers.ToDictionary(m => m, m => (Forms: DraftCautionForms(m), Critical: m.Contraindication is { } id && CriticalInFile(id)));
        var combinations = Combinations();
        var violations = new List<string>();
        var byKind = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var combinationsByKind = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var baselines = new Dictionary<(string, IronFinding, Call), List<Card>>();
        int run = 0, suggested = 0, cautioned = 0, gapsNamed = 0;
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;

        void Violation(string kind, Marker[] markers, IronFinding finding, Call call, string what)
        {
            byKind[kind] = byKind.GetValueOrDefault(kind) + 1;
            var names = markers.Length == 0 ? "none" : string.Join(" + ", markers.Select(m => m.Name));
            if (!combinationsByKind.TryGetValue(kind, out var set)) combinationsByKind[kind] = set = new(StringComparer.Ordinal);
            set.Add(names);
            if (violations.Count < 60) violations.Add($"[{kind}] markers: {names}; {finding}; {call}: {what}");
        }

        List<Card> Baseline(Marker[] markers, IronFinding finding, Call call)
        {
            var key = (string.Join("+", markers.Select(m => m.Name)), finding, call);
            if (markers.Length <= 1 && baselines.TryGetValue(key, out var known)) return known;
            var cards = Cards(Snapshot(markers, finding, call), call.Hook);
            if (markers.Length <= 1) baselines[key] = cards;
            return cards;
        }

        foreach (var markers in combinations)
        {
            foreach (var finding in Findings)
            {
                foreach (var call in Calls)
                {
                    run++;
                    var cards = Baseline(markers, finding, call);
                    var draft = call.Draft;
                    var draftCautions = draft is null ? [] : cards.Where(c => IsDraftCaution(c) && Deletes(c, draft.Fact.ResourceId!)).ToList();

                    // (1) Nothing forbidden is suggested. A draft not cautioned for removal is iron being ordered: its form is a duplicate.
                    var duplicate = draft is not null && draftCautions.Count == 0 ? (draft.Form == Forms.Oral ? Forms.AnyOral : Forms.Iv) : Forms.None;
                    foreach (var (card, label, form) in IronSuggestions(cards, reader))
                    {
                        suggested++;
                        if (form == Forms.None)
                        {
                            Violation("unrecognised order", markers, finding, call, $"card {Topic(card)} suggests '{label}', not an iron product of the knowledge file");
                            continue;
                        }
                        var why = markers.Where(m => (m.Forbids & form) != 0).Select(m => m.Name).ToList();
                        if ((duplicate & form) != 0) why.Add($"duplicate of the draft {draft!.Name}");
                        if (why.Count > 0)
                        {
                            Violation("contraindicated suggestion", markers, finding, call,
                                $"card {Topic(card)} ({card.Indicator}, \"{card.Summary}\") suggests '{label}' ({form}) although: {string.Join(", ", why)}");
                        }
                    }

                    // (2) A contraindicated draft the hook comments on is cautioned, with a delete action; never endorsed.
                    if (call.DraftInScope)
                    {
                        var reasons = markers.Where(m => (draftCaution[m].Forms & draft!.Form) != 0).ToList();
                        if (reasons.Count > 0)
                        {
                            cautioned++;
                            if (draftCautions.Count == 0)
                            {
                                Violation("draft not cautioned", markers, finding, call,
                                    $"no iron-contraindicated / iv-iron-caution card deletes {draft!.Fact.ResourceId} although: {string.Join(", ", reasons.Select(m => m.Name))}; cards: {Describe(cards)}");
                            }
                            else if (reasons.Where(m => draftCaution[m].Critical).ToList() is { Count: > 0 } critical
                                && !draftCautions.Any(c => c.Indicator == Indicator.Critical))
                            {
                                var what = $"{Topic(draftCautions[0])} card for {draft!.Fact.ResourceId} is {draftCautions[0].Indicator} (\"{draftCautions[0].Summary}\") although critical in the knowledge file: {string.Join(", ", critical.Select(m => m.Name))}";
                                Violation("caution not critical", markers, finding, call, what);
                            }
                            foreach (var card in cards.Where(c => !IsDraftCaution(c) && (c.Detail ?? "").Contains(inProgress + draft!.Fact.Name, StringComparison.Ordinal)))
                            {
                                Violation("draft endorsed", markers, finding, call,
                                    $"card {Topic(card)} (\"{card.Summary}\") has the contraindicated draft as iron already in progress ({string.Join(", ", reasons.Select(m => m.Name))})");
                            }
                        }
                    }

                    // (3) An order withheld because data could not be read: the card says which data.
                    foreach (var gap in markers.Where(m => m.AreaKey is not null))
                    {
                        var without = Baseline([.. markers.Where(m => m != gap)], finding, call);
                        foreach (var before in without.Where(c => Topic(c) is "iron-therapy" or "iv-iron"))
                        {
                            var lost = IronSuggestions([before], reader).Aggregate(Forms.None, (f, x) => f | x.Form);
                            var after = cards.FirstOrDefault(c => Topic(c) == Topic(before));
                            lost &= ~(after is null ? Forms.None : IronSuggestions([after], reader).Aggregate(Forms.None, (f, x) => f | x.Form));
                            if (lost == Forms.None) continue;
                            gapsNamed++;
                            var area = AreaName(gap.AreaKey!);
                            if (after is null || !(after.Detail ?? "").Contains(area, StringComparison.OrdinalIgnoreCase))
                            {
                                Violation("gap not named", markers, finding, call,
                                    $"{lost} withheld because of '{gap.Name}', but {(after is null ? $"no {Topic(before)} card is left" : $"the {Topic(after)} card does not name \"{area}\"")}");
                            }
                        }
                    }
                }
            }
        }
        clock.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{run} cases ({combinations.Count} marker combinations x {Findings.Length} iron findings x {Calls.Length} hook/draft calls) in {clock.ElapsedMilliseconds} ms ({cpu.TotalMilliseconds:0} ms CPU in the test process): " +
            $"{suggested} iron suggestions checked, {cautioned} contraindicated drafts, {gapsNamed} orders withheld for a data gap"));
        foreach (var (kind, count) in byKind)
        {
            output.WriteLine($"{kind}: {count} case(s), marker combinations: {string.Join("; ", combinationsByKind[kind])}");
        }
        foreach (var v in violations) output.WriteLine(v);

        Assert.Equal(cases, run);
        Assert.True(violations.Count == 0, $"{byKind.Values.Sum()} violation(s): {string.Join("; ", byKind.Select(k => $"{k.Key} {k.Value}"))}\n{string.Join("\n", violations.Take(20))}");
    }

    /// <summary>
    /// The draft forms <paramref name="m"/> must caution: those a contraindication of the knowledge file excludes when it is a
    /// caution on a draft; IV orders for the TSAT threshold.
    /// </summary>
    private static Forms DraftCautionForms(Marker m) => m.Contraindication is { } id
        ? (CautionOnDraft(id) ? ExcludedForms(id) : Forms.None)
        : m.Slot == "tsat" ? Forms.Iv : Forms.None;

    private static string Describe(List<Card> cards) =>
        cards.Count == 0 ? "none" : string.Join(", ", cards.Select(c => $"{Topic(c)} {c.Indicator} \"{c.Summary}\""));

    [Fact]
    public void IronContraindicatedCard_IvDraftAtFerritin300WithAWarningContraindication_StaysCritical()
    {
        var draft = Med("ferric carboxymaltose", DrugClass.IvIron, id: "fcm-draft");
        var given = Med("iron sucrose", DrugClass.IvIron, MedicationOrigin.Administration, id: "MedicationAdministration/iron-sucrose", daysAgo: 21);
        var alone = Of("300", "15", phosphate: "3.4", sex: Sex.Female, medications: [draft]);
        var withRecentIv = Of("300", "15", phosphate: "3.4", sex: Sex.Female, medications: [draft, given]);

        Assert.Equal(Indicator.Critical, Assert.Single(Cards(alone, HookKind.OrderSign), c => Deletes(c, "MedicationRequest/fcm-draft")).Indicator);
        Assert.Equal(Indicator.Critical, Assert.Single(Cards(withRecentIv, HookKind.OrderSign), c => Deletes(c, "MedicationRequest/fcm-draft")).Indicator);
    }

    // ---- the table this test states, against the knowledge file ------------------------------------------------------

    [Fact]
    public void Markers_StatedForms_MatchTheKnowledgeFileContraindications()
    {
        var mismatches = new StringBuilder();
        foreach (var m in Markers.Where(m => m.Contraindication is not null))
        {
            var excludes = m.Contraindication switch
            {
                // Enforced per product by age: an adult-dosed product for a child, the pediatric one for an adult.
                ContraindicationIds.Child => ExcludedForms(m.Contraindication) & Forms.AdultDosed,
                ContraindicationIds.AdultPediatricForm => ExcludedForms(m.Contraindication) & Forms.PediatricOral,
                _ => ExcludedForms(m.Contraindication!),
            };
            if (excludes != m.Forbids) mismatches.Append(CultureInfo.InvariantCulture, $"{m.Name}: stated {m.Forbids}, {m.Contraindication} excludes {excludes}\n");
        }
        Assert.True(mismatches.Length == 0, mismatches.ToString());
    }

    [Fact]
    public void Markers_EveryContraindicationOfTheKnowledgeFile_HasAMarker()
    {
        var covered = Markers.Select(m => m.Contraindication).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var inFile = KnowledgeFile.Value["contraindications"]!.AsObject().Select(p => p.Key).ToList();

        var missing = inFile.Where(id => !covered.Contains(id)).ToList();
        Assert.True(missing.Count == 0, "no marker for: " + string.Join(", ", missing));
    }

    [Fact]
    public void Markers_IssueCriticalContraindications_AreCriticalAndCautionDrafts()
    {
        foreach (var id in CriticalByIssue)
        {
            Assert.True(CriticalInFile(id), $"{id} should be critical (issue 10)");
            Assert.True(CautionOnDraft(id), $"{id} should caution a draft (issue 10)");
        }
    }

    [Fact]
    public void SuggestionReader_KnowledgeFileProducts_AreReadAsTheirForms()
    {
        var reader = new SuggestionReader();
        MedicationRequest Request(string key)
        {
            var (code, text) = ProductInFile(key);
            return new MedicationRequest { MedicationCodeableConcept = new CodeableConcept { Coding = [new Coding("http://www.nlm.nih.gov/research/umls/rxnorm", code)], Text = text } };
        }

        Assert.Equal(Forms.Fcm, reader.Read(Request(SuggestionKeys.FerricCarboxymaltose)));
        Assert.Equal(Forms.Oral, reader.Read(Request(SuggestionKeys.FerrousSulfate)));
        Assert.Equal(Forms.OtherIv, reader.Read(new MedicationRequest { MedicationCodeableConcept = new CodeableConcept { Text = "Iron sucrose 200 mg IV" } }));
        Assert.Equal(Forms.None, reader.Read(new MedicationRequest { MedicationCodeableConcept = new CodeableConcept { Text = "bupropion 150 MG" } }));
    }
}
