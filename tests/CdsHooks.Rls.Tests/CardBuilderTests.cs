using System.Text.Json;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Rls.Cards;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;
using static CdsHooks.Rls.Tests.Snapshots;

namespace CdsHooks.Rls.Tests;

public sealed class CardBuilderTests
{
    private const string HookInstance = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea";

    private static readonly string LongName = "sertraline hydrochloride 50 MG Oral Tablet " + string.Concat(Enumerable.Repeat("[extended description from the pharmacy system] ", 12));

    private static CardContext Context(HookKind hook, string hookInstance = HookInstance) =>
        new("rls-iron-" + hook switch { HookKind.OrderSelect => "order-select", HookKind.OrderSign => "order-sign", _ => "patient-view" },
            hookInstance, hook, "p1", "e1", "Practitioner/1");

    private static List<Card> Cards(PatientSnapshot s, HookKind hook = HookKind.OrderSign, string hookInstance = HookInstance, RlsKnowledge? knowledge = null)
    {
        knowledge ??= RlsKnowledge.Default;
        var findings = new RlsRules(knowledge).Evaluate(s, hook).Findings;
        return new CardBuilder(knowledge).Build(findings, s, Context(hook, hookInstance));
    }

    private static Card Only(PatientSnapshot s, HookKind hook = HookKind.OrderSign) => Assert.Single(Cards(s, hook));

    private static string Topic(Card card) => card.Source.Topic!.Code!;

    /// <summary>One scenario per card kind and variant, with short or very long medication names.</summary>
    private static (PatientSnapshot Snapshot, HookKind Hook) Scenario(string name, bool longNames = false)
    {
        string N(string normal) => longNames ? normal + " " + LongName : normal;
        MedicationFact Drug(string ingredient, DrugClass cls, MedicationOrigin origin = MedicationOrigin.Draft, string? id = null) =>
            Med(longNames && origin == MedicationOrigin.Draft ? ingredient + " " + LongName : ingredient, cls, origin, id: id ?? ingredient.Replace(' ', '-'), name: N(ingredient + " 50 MG Oral Tablet"));
        return name switch
        {
            "iron-studies" => (Of(), HookKind.PatientView),
            "iron-therapy" => (Of("30", "15", phosphate: "3.4"), HookKind.PatientView),
            "iron-therapy with oral iron being ordered" => (Of("30", "15", medications: [Drug("ferrous sulfate", DrugClass.OralIron)]), HookKind.OrderSign),
            "iron-therapy with oral iron taken" => (Of("30", "15", phosphate: "3.4", medications: [Drug("ferrous sulfate", DrugClass.OralIron, MedicationOrigin.Statement, "MedicationStatement/fe")]), HookKind.PatientView),
            "iv-iron" => (Of("85", "25", phosphate: "3.4"), HookKind.PatientView),
            "iv-iron replacing oral iron" => (Of("85", "25", phosphate: "3.4", medications: [Drug("ferrous sulfate", DrugClass.OralIron)]), HookKind.OrderSign),
            "iv-iron-caution" => (Of("180", "30", medications: [Drug("ferric carboxymaltose", DrugClass.IvIron)]), HookKind.OrderSign),
            "iv-iron-caution at hard stop" => (Of("350", "30", medications: [Drug("ferric carboxymaltose", DrugClass.IvIron)]), HookKind.OrderSign),
            "iv-iron-caution for TSAT" => (Of("90", "52", medications: [Drug("iron sucrose", DrugClass.IvIron)]), HookKind.OrderSign),
            "ssri-caution with iron studies" => (Of(anxiety: "Generalized anxiety disorder", medications: [Drug("sertraline", DrugClass.Ssri)]), HookKind.OrderSelect),
            "ssri-caution with labs" => (Of("150", "30", medications: [Drug("sertraline", DrugClass.Ssri)]), HookKind.OrderSign),
            "ssri-caution for an active medication" => (Of("150", "30", medications: [Drug("paroxetine", DrugClass.Ssri, MedicationOrigin.Statement, "MedicationStatement/px")]), HookKind.PatientView),
            "aggravating-drug-caution antihistamine" => (Of("150", "30", medications: [Drug("diphenhydramine", DrugClass.SedatingAntihistamine)]), HookKind.OrderSign),
            "aggravating-drug-caution dopamine antagonist" => (Of(medications: [Drug("metoclopramide", DrugClass.DopamineAntagonist)]), HookKind.OrderSign),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name),
        };
    }

    private static readonly string[] ScenarioList =
    [
        "iron-studies", "iron-therapy", "iron-therapy with oral iron being ordered", "iron-therapy with oral iron taken", "iv-iron",
        "iv-iron replacing oral iron", "iv-iron-caution", "iv-iron-caution at hard stop", "iv-iron-caution for TSAT",
        "ssri-caution with iron studies", "ssri-caution with labs", "ssri-caution for an active medication",
        "aggravating-drug-caution antihistamine", "aggravating-drug-caution dopamine antagonist",
    ];

    public static TheoryData<string> ScenarioNames() => [.. ScenarioList];

    public static TheoryData<string, bool> Scenarios()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in ScenarioList)
        {
            data.Add(name, false);
            data.Add(name, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Build_EveryCardKind_SummaryUnder140AndTopicMatches(string scenario, bool longNames)
    {
        var (s, hook) = Scenario(scenario, longNames);

        var card = Assert.Single(Cards(s, hook));

        Assert.InRange(card.Summary.Length, 1, 139);
        Assert.Equal(scenario.Split(' ')[0], Topic(card));
        Assert.Equal(ServiceCodeSystems.CardKind, card.Source.Topic!.System);
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Build_EveryCardKind_ConformsToCdsHooks(string scenario, bool longNames)
    {
        var (s, hook) = Scenario(scenario, longNames);

        var card = Assert.Single(Cards(s, hook));

        Assert.True(Guid.TryParse(card.Uuid, out _));
        Assert.False(string.IsNullOrWhiteSpace(card.Detail));
        Assert.StartsWith("https://", card.Source.Url);
        Assert.Equal(card.Source.Url, Assert.Single(card.Links!).Url);
        Assert.Equal(LinkType.Absolute, card.Links![0].Type);
        if (card.Suggestions is not null)
        {
            Assert.NotEmpty(card.Suggestions);
            Assert.NotNull(card.SelectionBehavior);
            foreach (var suggestion in card.Suggestions)
            {
                Assert.True(Guid.TryParse(suggestion.Uuid, out _));
                Assert.False(string.IsNullOrWhiteSpace(suggestion.Label));
                Assert.NotEmpty(suggestion.Actions!);
                foreach (var action in suggestion.Actions!)
                {
                    Assert.False(string.IsNullOrWhiteSpace(action.Description));
                    if (action.Type == ActionType.Delete) Assert.Matches("^MedicationRequest/[A-Za-z0-9\\-.]+$", action.ResourceId!);
                    else Assert.NotNull(action.Resource);
                }
            }
        }
        else
        {
            Assert.Null(card.SelectionBehavior);
        }
        foreach (var reason in card.OverrideReasons ?? [])
        {
            Assert.Equal(ServiceCodeSystems.OverrideReason, reason.System);
            Assert.False(string.IsNullOrWhiteSpace(reason.Display));
        }

        // On the wire: no null, no empty list or object anywhere.
        var json = JsonSerializer.Serialize(new CdsResponse { Cards = [card] }, CdsJson.ResponseInfo);
        Assert.DoesNotContain("null", json);
        Assert.DoesNotContain("[]", json);
        Assert.DoesNotContain("{}", json);
    }

    [Theory]
    [InlineData("iron-studies", Indicator.Info, "at-most-one")]
    [InlineData("iron-therapy", Indicator.Warning, "at-most-one")]
    [InlineData("iron-therapy with oral iron being ordered", Indicator.Warning, null)]
    [InlineData("iron-therapy with oral iron taken", Indicator.Warning, "at-most-one")]
    [InlineData("iv-iron", Indicator.Info, "at-most-one")]
    [InlineData("iv-iron replacing oral iron", Indicator.Info, "at-most-one")]
    [InlineData("iv-iron-caution", Indicator.Warning, "at-most-one")]
    [InlineData("iv-iron-caution at hard stop", Indicator.Critical, "at-most-one")]
    [InlineData("ssri-caution with iron studies", Indicator.Warning, "any")]
    [InlineData("ssri-caution with labs", Indicator.Warning, "any")]
    [InlineData("ssri-caution for an active medication", Indicator.Warning, null)]
    [InlineData("aggravating-drug-caution antihistamine", Indicator.Warning, "any")]
    public void Build_Scenario_IndicatorAndSelectionBehavior(string scenario, Indicator indicator, string? behavior)
    {
        var (s, hook) = Scenario(scenario);

        var card = Only(s, hook);

        Assert.Equal(indicator, card.Indicator);
        Assert.Equal(behavior, card.SelectionBehavior switch { SelectionBehavior.AtMostOne => "at-most-one", SelectionBehavior.Any => "any", _ => null });
    }

    [Fact]
    public void Build_SeveralCards_MostUrgentFirst()
    {
        var s = Of("350", "30", medications: [Med("ferric carboxymaltose", DrugClass.IvIron), Med("sertraline", DrugClass.Ssri)]);

        var indicators = Cards(s).Select(c => c.Indicator).ToList();

        Assert.Equal([Indicator.Critical, Indicator.Warning], indicators);
    }

    [Fact]
    public void Build_UnknownFinding_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => new CardBuilder(RlsKnowledge.Default).Build([new UnheardOfFinding(true)], Of(), Context(HookKind.PatientView)));
    }

    private sealed record UnheardOfFinding() : Finding(CardKind.IronStudies)
    {
        [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
        public UnheardOfFinding(bool _ = true) : this() => Evidence = new Evidence([], false, []);
    }

    // ---- suggestions -----------------------------------------------------------------------------------------------

    [Fact]
    public void IronStudies_Suggestion_OrdersFerritinAndIronPanelForThisPatient()
    {
        var suggestion = Assert.Single(Only(Of(), HookKind.PatientView).Suggestions!);

        Assert.True(suggestion.IsRecommended);
        var orders = suggestion.Actions!.Select(a => Assert.IsType<ServiceRequest>(a.Resource)).ToList();
        Assert.Equal(["2276-4", "50190-8"], orders.Select(o => Assert.Single(o.Code!.Coding!).Code));
        Assert.All(orders, o =>
        {
            Assert.Equal("draft", o.Status);
            Assert.Equal("order", o.Intent);
            Assert.Equal(FhirSystems.Loinc, o.Code!.Coding![0].System);
            Assert.Equal("Patient/p1", o.Subject!.ReferenceValue);
            Assert.Equal("Encounter/e1", o.Encounter!.ReferenceValue);
            Assert.Equal(RlsKnowledge.Default.LabOrders[SuggestionKeys.IronStudies].PatientInstruction, o.PatientInstruction);
            Assert.True(Assert.Single(o.ReasonCode!).Has(FhirSystems.Snomed, "32914008"));
        });
    }

    [Fact]
    public void IronStudies_SuggestionResource_RoundTripsThroughJson()
    {
        var card = Only(Of(), HookKind.PatientView);
        var json = JsonSerializer.Serialize(new CdsResponse { Cards = [card] }, CdsJson.ResponseInfo);

        var copy = JsonSerializer.Deserialize(json, CdsJson.ResponseInfo)!;

        var order = Assert.IsType<ServiceRequest>(copy.Cards[0].Suggestions![0].Actions![0].Resource);
        Assert.True(order.Code!.Has(FhirSystems.Loinc, "2276-4"));
        Assert.Equal("Patient/p1", order.Subject!.ReferenceValue);
        Assert.Equal(RlsKnowledge.Default.LabOrders[SuggestionKeys.IronStudies].PatientInstruction, order.PatientInstruction);
        Assert.Equal(json, JsonSerializer.Serialize(copy, CdsJson.ResponseInfo));
        Assert.Contains("\"resource\":{\"resourceType\":\"ServiceRequest\",", json);
    }

    [Fact]
    public void IronTherapy_Suggestions_IvOrOralAtMostOne()
    {
        var card = Only(Of("30", "15", phosphate: "3.4"), HookKind.PatientView);

        Assert.Equal(SelectionBehavior.AtMostOne, card.SelectionBehavior);
        var drugs = card.Suggestions!.Select(s => Assert.IsType<MedicationRequest>(Assert.Single(s.Actions!).Resource).MedicationCodeableConcept!).ToList();
        Assert.Equal(["2552400", "310325"], drugs.Select(d => Assert.Single(d.Coding!).Code));
        Assert.All(drugs, d => Assert.Equal(FhirSystems.RxNorm, d.Coding![0].System));
        Assert.Equal(["ferric carboxymaltose 1000 mg IV (20 mL vial, 50 mg/mL)", "ferrous sulfate 325 MG Oral Tablet"], drugs.Select(d => d.Text));
    }

    [Fact]
    public void IronTherapy_MedicationSuggestion_IsACompleteDraftOrder()
    {
        var card = Only(Of("30", "15", phosphate: "3.4"), HookKind.PatientView);

        foreach (var suggestion in card.Suggestions!)
        {
            var order = Assert.IsType<MedicationRequest>(Assert.Single(suggestion.Actions!).Resource);
            Assert.Equal("draft", order.Status);
            Assert.Equal("order", order.Intent);
            Assert.Equal("Patient/p1", order.Subject!.ReferenceValue);
            Assert.Equal("Encounter/e1", order.Encounter!.ReferenceValue);
            Assert.False(string.IsNullOrWhiteSpace(Assert.Single(order.DosageInstruction!).Text));
            Assert.True(Assert.Single(order.ReasonCode!).Has(FhirSystems.Snomed, "32914008"));
            Assert.Equal(["Observation/ferritin-30", "Observation/tsat-30"], order.ReasonReference!.Select(r => r.ReferenceValue));
        }
    }

    [Fact]
    public void IronTherapy_NoRecentPhosphate_OralOnlyAndThePhosphateTest()
    {
        var card = Only(Of("30", "15"), HookKind.PatientView);

        Assert.Equal(SelectionBehavior.Any, card.SelectionBehavior);
        Assert.Equal(["Order oral ferrous sulfate 325 mg every other day", "Order serum phosphate (before IV ferric carboxymaltose)"], card.Suggestions!.Select(s => s.Label));
        Assert.Contains("IV ferric carboxymaltose: no phosphate result", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void IvIron_WithOralIronDraft_SuggestsReplacingIt()
    {
        var card = Only(Scenario("iv-iron replacing oral iron").Snapshot);

        var suggestion = Assert.Single(card.Suggestions!);
        Assert.Equal([ActionType.Delete, ActionType.Create], suggestion.Actions!.Select(a => a.Type));
        Assert.Equal("MedicationRequest/ferrous-sulfate", suggestion.Actions![0].ResourceId);
        Assert.Contains("oral iron unlikely to help", card.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void IvIronCaution_HardStop_CriticalWithRemoveSuggestionAndOverrideReasons()
    {
        var card = Only(Scenario("iv-iron-caution at hard stop").Snapshot);

        Assert.Equal(Indicator.Critical, card.Indicator);
        Assert.StartsWith("Stop: ferritin 350 ng/mL (≥ 300)", card.Summary, StringComparison.Ordinal);
        var action = Assert.Single(Assert.Single(card.Suggestions!).Actions!);
        Assert.Equal(ActionType.Delete, action.Type);
        Assert.Equal("MedicationRequest/ferric-carboxymaltose", action.ResourceId);
        Assert.Equal(["other-indication", "inflammation", "specialist-advice"], card.OverrideReasons!.Select(r => r.Code));
    }

    [Fact]
    public void IvIronCaution_HighTsat_SaysWhy()
    {
        var card = Only(Scenario("iv-iron-caution for TSAT").Snapshot);

        Assert.Equal("IV iron not indicated for RLS: TSAT 52 % (≥ 45 %).", card.Summary);
    }

    [Fact]
    public void SsriCaution_DraftWithoutLabs_RemoveAndIronStudiesAny()
    {
        var card = Only(Scenario("ssri-caution with iron studies").Snapshot, HookKind.OrderSelect);

        Assert.Equal(SelectionBehavior.Any, card.SelectionBehavior);
        Assert.Equal([ActionType.Delete, ActionType.Create, ActionType.Create], card.Suggestions!.SelectMany(s => s.Actions!).Select(a => a.Type));
        Assert.Equal("Sertraline (SSRI) may worsen RLS: check iron first and monitor RLS.", card.Summary);
        Assert.Equal(["benefit-outweighs-risk", "tolerated-before", "rls-not-active", "iron-addressed"], card.OverrideReasons!.Select(r => r.Code));
    }

    [Fact]
    public void SsriCaution_ActiveMedication_NoSuggestionsButOverrideReasons()
    {
        var card = Only(Scenario("ssri-caution for an active medication").Snapshot, HookKind.PatientView);

        Assert.Null(card.Suggestions);
        Assert.NotEmpty(card.OverrideReasons!);
        Assert.Contains("(SSRI; active medication)", card.Detail, StringComparison.Ordinal);
    }

    // ---- uuids -----------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("a", "b", "c")]
    [InlineData("rls-iron-order-select", HookInstance, "ssri-caution:sertraline")]
    [InlineData("", "", "")]
    [InlineData("ünïcödé", "日本語", "🙂")]
    public void StableUuid_SameParts_SameValidVersion8Uuid(string a, string b, string c)
    {
        var uuid = StableUuid.From(a, b, c);

        Assert.Equal(uuid, StableUuid.From(a, b, c));
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", uuid);
        var guid = Guid.Parse(uuid);
        Assert.Equal(8, guid.Version);
        Assert.Equal(0b10, guid.Variant >> 2); // RFC 9562 variant: 10xx
    }

    [Theory]
    [InlineData("svc", "hook-1", "iron-studies", "svc", "hook-2", "iron-studies")]
    [InlineData("svc", "hook-1", "ssri-caution:sertraline", "svc", "hook-1", "ssri-caution:fluoxetine")]
    [InlineData("rls-iron-order-select", "h", "k", "rls-iron-order-sign", "h", "k")]
    [InlineData("ab", "c", "d", "a", "bc", "d")]
    [InlineData("a", "b", "c", "A", "b", "c")]
    public void StableUuid_DifferentParts_DifferentUuid(string a1, string b1, string c1, string a2, string b2, string c2)
    {
        Assert.NotEqual(StableUuid.From(a1, b1, c1), StableUuid.From(a2, b2, c2));
    }

    [Fact]
    public void Build_SameCallTwice_IdenticalCards()
    {
        var (s, hook) = Scenario("ssri-caution with iron studies");

        var first = JsonSerializer.Serialize(new CdsResponse { Cards = Cards(s, hook) }, CdsJson.ResponseInfo);
        var second = JsonSerializer.Serialize(new CdsResponse { Cards = Cards(s, hook) }, CdsJson.ResponseInfo);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Build_DifferentHookInstance_DifferentCardAndSuggestionUuids()
    {
        var (s, hook) = Scenario("ssri-caution with iron studies");

        var first = Only(s, hook);
        var second = Assert.Single(Cards(s, hook, hookInstance: "0b5a4c1e-9f1d-4d84-8b1a-3a3c9b6f0c2d"));

        Assert.NotEqual(first.Uuid, second.Uuid);
        Assert.Empty(first.Suggestions!.Select(x => x.Uuid).Intersect(second.Suggestions!.Select(x => x.Uuid)));
    }

    [Fact]
    public void Build_ManyCards_EveryCardAndSuggestionUuidDistinct()
    {
        var s = Of(medications:
        [
            Med("sertraline", DrugClass.Ssri), Med("fluoxetine", DrugClass.Ssri), Med("diphenhydramine", DrugClass.SedatingAntihistamine),
            Med("metoclopramide", DrugClass.DopamineAntagonist), Med("ferric carboxymaltose", DrugClass.IvIron),
        ]);

        var cards = Cards(s);
        var uuids = cards.Select(c => c.Uuid!).Concat(cards.SelectMany(c => c.Suggestions ?? []).Select(x => x.Uuid!)).ToList();

        Assert.Equal(4, cards.Count);
        Assert.Equal(uuids.Count, uuids.Distinct().Count());
    }

    // ---- detail text -----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("Zoloft *50* mg", @"Zoloft \*50\* mg")]
    [InlineData("sertraline_50_mg", @"sertraline\_50\_mg")]
    [InlineData("[click](https://evil.example)", @"\[click\](https://evil.example)")]
    [InlineData("<img src=x onerror=alert(1)>", @"\<img src=x onerror=alert(1)\>")]
    [InlineData("# heading | table | `code`", @"\# heading \| table \| \`code\`")]
    [InlineData("line one\nline two\r\nthree", "line one line two  three")]
    [InlineData(@"back\slash \*still escaped", @"back\\slash \\\*still escaped")]
    [InlineData("~~struck~~", @"\~\~struck\~\~")]
    public void Detail_EhrText_MarkdownCharactersEscaped(string name, string expected)
    {
        var s = Of("150", "30", medications: [Med("sertraline", DrugClass.Ssri, name: name)]);

        var detail = Only(s).Detail!;

        Assert.Contains($"**{expected}** (SSRI; being ordered)", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Detail_DrugEvidenceFromEhrCode_Escaped()
    {
        var med = new MedicationFact("Antidepressant", [new DrugMatch("N06AB*9*", DrugClass.Ssri, "ATC N06AB*9*")], MedicationOrigin.Draft, "MedicationRequest/d1", true);

        var detail = Only(Of("150", "30", medications: [med])).Detail!;

        // How the drug was recognised is not clinician text (issue: no implementation wording in the card).
        Assert.DoesNotContain("Recognised", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("N06AB", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Detail_AnxietyAndRlsDescriptions_Escaped()
    {
        var s = Of("150", "30", anxiety: "GAD *severe*", medications: [Med("sertraline", DrugClass.Ssri)]);

        var detail = Only(s).Detail!;

        Assert.Contains(@"**Anxiety (GAD \*severe\*):**", detail, StringComparison.Ordinal);
        Assert.Contains("correct iron first", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Detail_AnxietyWithNonSerotonergicDrug_ShortAnxietyNote()
    {
        var s = Of("150", "30", anxiety: "Panic disorder", medications: [Med("hydroxyzine", DrugClass.SedatingAntihistamine)]);

        var detail = Only(s).Detail!;

        Assert.Contains("**Anxiety (Panic disorder):** untreated iron deficiency", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Pregabalin", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Detail_IronTherapy_ListsValuesUnitsDatesAndAge()
    {
        var detail = Only(Of("30", "15"), HookKind.PatientView).Detail!;

        var date = Records.DaysAgo(30)[..10];
        Assert.Contains($"- Ferritin: 30 ng/mL on {date}", detail, StringComparison.Ordinal);
        Assert.Contains($"- TSAT: 15 % on {date}", detail, StringComparison.Ordinal);
        Assert.Contains("- Age: 46 years", detail, StringComparison.Ordinal);
        Assert.Contains("biotin", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Detail_UnknownAge_SaysWhyAndSuggestsNoDose()
    {
        var card = Only(Of("30", "15", age: null, phosphate: "3.4"), HookKind.PatientView);

        Assert.Contains("Age: unknown (no birth date recorded)", card.Detail, StringComparison.Ordinal);
        Assert.Contains("age not known (no birth date recorded): no dose can be suggested", card.Detail, StringComparison.Ordinal);
        Assert.Null(card.Suggestions);
        Assert.Equal(Indicator.Info, card.Indicator);
    }

    [Fact]
    public void Detail_ReportedInOtherUnit_ShowsWhatWasReported()
    {
        var ferritin = Lab(Analyte.Ferritin, "89") with { ReportedAs = "200 pmol/L" };

        var detail = Only(Of(labs: [ferritin]), HookKind.PatientView).Detail!;

        Assert.Contains("89 ng/mL on", detail, StringComparison.Ordinal);
        Assert.Contains("(reported as 200 pmol/L)", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Detail_IronStudiesWithOldResults_LabelsThemOld()
    {
        var detail = Only(Of("40", labDaysAgo: 500), HookKind.PatientView).Detail!;

        Assert.Contains("40 ng/mL on", detail, StringComparison.Ordinal);
        Assert.Contains("older than 12 months, not used", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Detail_DerivedTsat_Explained()
    {
        var tsat = Lab(Analyte.Tsat, "15") with { Derived = true, ReportedAs = "calculated from iron 60 ug/dL / TIBC 400 ug/dL" };

        var detail = Only(Of(labs: [tsat]), HookKind.PatientView).Detail!;

        Assert.Contains("TSAT calculated from serum iron and TIBC drawn the same day", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("12", 30, true)]
    [InlineData("5.1", 30, true)]
    [InlineData("5", 30, false)]
    [InlineData("3", 30, false)]
    [InlineData("<10", 30, false)]
    [InlineData(">5", 30, true)]
    [InlineData("12", 400, false)]
    public void Detail_CrpAboveThreshold_CaveatOnFerritin(string crp, int crpDaysAgo, bool caveat)
    {
        foreach (var scenario in new[] { "iron-therapy", "iv-iron", "iron-studies", "iv-iron-caution" })
        {
            var (s, hook) = Scenario(scenario);
            var withCrp = Of(
                s.Lab(Analyte.Ferritin) is { } f ? f.Comparator + f.Value : null,
                s.Lab(Analyte.Tsat) is { } t ? t.Comparator + t.Value : null,
                labs: [Lab(Analyte.Crp, crp, crpDaysAgo)],
                medications: [.. s.Medications]);

            var detail = Only(withCrp, hook).Detail!;

            Assert.True(caveat == detail.Contains("CRP is raised", StringComparison.Ordinal), $"{scenario}: CRP {crp}");
        }
    }

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public void Detail_SkippedResultsAndUnavailableData_ListedOnEveryCard(string scenario)
    {
        var (s, hook) = Scenario(scenario);
        var withGaps = Of(
            s.Lab(Analyte.Ferritin) is { } f ? f.Comparator + f.Value : null,
            s.Lab(Analyte.Tsat) is { } t ? t.Comparator + t.Value : null,
            anxiety: s.Anxiety,
            skipped: ["ferritin (2276-4) 2026-10-11: unit 'U/mL' cannot be read as ng/mL, value 45 not used"],
            gaps: [Gap(DataArea.CrpHemoglobin)],
            medications: [.. s.Medications]);

        var detail = Only(withGaps, hook).Detail!;

        Assert.Contains("Not used: ferritin (2276-4) 2026-10-11: unit 'U/mL' cannot be read as ng/mL, value 45 not used.", detail, StringComparison.Ordinal);
        Assert.Contains("Not available from the EHR: CRP and hemoglobin results.", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "12 months")]
    [InlineData(180, "6 months")]
    [InlineData(90, "3 months")]
    [InlineData(730, "24 months")]
    [InlineData(100, "100 days")]
    public void IronStudies_Summary_NamesTheWindow(int? windowDays, string expected)
    {
        var card = Assert.Single(Cards(Of(), HookKind.PatientView, knowledge: RlsKnowledge.Load(windowOverrideDays: windowDays)));

        Assert.Equal($"RLS: no ferritin or TSAT in the last {expected}. Order morning iron studies.", card.Summary);
    }

    // ---- shortening ------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("short", 10, "short")]
    [InlineData("exactly ten", 11, "exactly ten")]
    [InlineData("the quick brown fox jumps", 15, "the quick…")]
    [InlineData("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…")]
    [InlineData("a bcdefghijklmnopqrstuvwxyz", 10, "a bcdefgh…")]
    public void Short_LongText_CutOnAWordBoundaryWithinTheLimit(string text, int max, string expected)
    {
        var shortened = CardWriter.Short(text, max);

        Assert.Equal(expected, shortened);
        Assert.True(shortened.Length <= max);
    }
}
