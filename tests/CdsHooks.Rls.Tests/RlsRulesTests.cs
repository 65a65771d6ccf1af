using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;
using static CdsHooks.Rls.Tests.Snapshots;

namespace CdsHooks.Rls.Tests;

public sealed class RlsRulesTests
{
    private static readonly RlsRules Rules = new(RlsKnowledge.Default);

    private static string Kinds(IReadOnlyList<Finding> findings) => string.Join(", ", findings.Select(f => f.Kind.Code()).Order(StringComparer.Ordinal));

    private static IReadOnlyList<Finding> Evaluate(PatientSnapshot s, HookKind hook = HookKind.PatientView) => Rules.Evaluate(s, hook).Findings;

    // ---- thresholds (AASM 2024 GPS 1; IRLSSG 2018) -----------------------------------------------------------------

    [Theory]
    // Ferritin alone.
    [InlineData("10", null, "iron-therapy")]
    [InlineData("75", null, "iron-therapy")]
    [InlineData("75.1", null, "iv-iron")]
    [InlineData("85", null, "iv-iron")]
    [InlineData("100", null, "iv-iron")]
    [InlineData("100.1", null, "iron-studies")] // TSAT missing: could be < 20
    [InlineData("299.9", null, "iron-studies")]
    [InlineData("300", null, "iron-studies")]
    // TSAT alone.
    [InlineData(null, "19.9", "iron-therapy")]
    [InlineData(null, "20", "iron-studies")] // ferritin missing
    [InlineData(null, "45", "iron-overload-workup")] // its repeat studies include the missing ferritin
    // Both.
    [InlineData("100.1", "30", "")]
    [InlineData("150", "19.9", "iron-therapy")]
    [InlineData("150", "20", "")]
    [InlineData("10", "50", "iron-overload-workup")] // TSAT >= 45: no supplementation, whatever the ferritin; a work-up instead
    [InlineData("10", "44.9", "iron-therapy")]
    [InlineData("85", "44.9", "iv-iron")]
    [InlineData("85", "45", "iron-overload-workup")]
    [InlineData("85", "19", "iv-iron")]
    [InlineData("299.9", "15", "iron-therapy")]
    [InlineData("300", "15", "")]
    [InlineData("320", "12", "")]
    // Comparators: only what the value certainly is counts.
    [InlineData("<10", null, "iron-therapy")]
    [InlineData("<=75", null, "iron-therapy")]
    [InlineData(">50", null, "iron-studies")]
    [InlineData(">50", "15", "iron-therapy")]
    [InlineData(">80", null, "iron-studies")]
    [InlineData("<90", null, "iron-studies")]
    [InlineData(">1500", "15", "")]
    [InlineData("60", ">50", "iron-overload-workup")]
    [InlineData("60", "<45", "iron-therapy")]
    [InlineData("85", ">40", "")]
    [InlineData("85", ">=45", "iron-overload-workup")]
    [InlineData("150", "<20", "iron-therapy")]
    [InlineData("150", "<=20", "")]
    // Nothing recent: iron studies instead.
    [InlineData(null, null, "iron-studies")]
    public void Evaluate_IronThresholds_AdultWithRls(string? ferritin, string? tsat, string expected)
    {
        Assert.Equal(expected, Kinds(Evaluate(Of(ferritin, tsat))));
    }

    [Theory]
    [InlineData(364, "iron-therapy")]
    [InlineData(365, "iron-therapy")]
    [InlineData(366, "iron-studies")]
    [InlineData(800, "iron-studies")]
    public void Evaluate_ResultAge_OlderThanTheWindowMeansIronStudies(int daysAgo, string expected)
    {
        Assert.Equal(expected, Kinds(Evaluate(Of(ferritin: "30", tsat: "15", labDaysAgo: daysAgo))));
    }

    [Fact]
    public void Evaluate_WindowOverride_ShortensTheWindow()
    {
        var rules = new RlsRules(RlsKnowledge.Load(windowOverrideDays: 180));

        Assert.Equal("iron-studies", Kinds(rules.Evaluate(Of(ferritin: "30", labDaysAgo: 200), HookKind.PatientView).Findings));
        Assert.Equal("iron-therapy", Kinds(rules.Evaluate(Of(ferritin: "30", labDaysAgo: 170), HookKind.PatientView).Findings));
    }

    [Fact]
    public void Evaluate_OldLowFerritinAndRecentNormalTsat_OnlyTheFerritinIsDue()
    {
        var due = Assert.IsType<IronStudiesDue>(Assert.Single(Evaluate(Of(tsat: "30", labs: [Lab(Analyte.Ferritin, "20", daysAgo: 500)]))));

        Assert.Equal([Analyte.Ferritin], due.Missing);
        Assert.Equal(SuggestionKeys.Ferritin, due.Order.Key);
        Assert.Equal(30m, due.Present!.Value);
    }

    [Theory]
    [InlineData("150", null, "tsat", SuggestionKeys.IronPanel)]
    [InlineData(null, "30", "ferritin", SuggestionKeys.Ferritin)]
    [InlineData(null, null, "ferritin,tsat", SuggestionKeys.IronStudies)]
    public void Evaluate_OnlyOneOfFerritinAndTsatRecent_SuggestsTheMissingOne(string? ferritin, string? tsat, string missing, string order)
    {
        var due = Assert.IsType<IronStudiesDue>(Assert.Single(Evaluate(Of(ferritin, tsat))));

        Assert.Equal(missing, string.Join(",", due.Missing.Select(CardKinds.FileName)));
        Assert.Equal(order, due.Order.Key);
    }

    [Fact]
    public void Evaluate_LowTsatWithoutFerritin_IronTherapyCarriesTheFerritinTest()
    {
        var therapy = Assert.IsType<IronTherapyIndicated>(Assert.Single(Evaluate(Of(tsat: "15"))));

        Assert.Equal([SuggestionKeys.Ferritin], therapy.Tests.Select(t => t.Key));
    }

    [Fact]
    public void Evaluate_NoLabsButIronStudiesAlreadyOrdered_NoCard()
    {
        Assert.Empty(Evaluate(Of(ironStudiesOrdered: true)));
    }

    [Fact]
    public void Evaluate_IronStudiesDue_ShowsTheLastValuesEvenIfOld()
    {
        var due = Assert.IsType<IronStudiesDue>(Assert.Single(Evaluate(Of(ferritin: "40", labDaysAgo: 500))));

        var shown = Assert.Single(due.Evidence.Labs);
        Assert.Equal(40m, shown.Lab.Value);
        Assert.True(shown.Old);
    }

    // ---- who the adult rules apply to ------------------------------------------------------------------------------

    [Theory]
    [InlineData(10, "iron-therapy")] // the pediatric card (ferritin 20 < 50)
    [InlineData(17, "iron-therapy")]
    [InlineData(18, "iron-therapy")]
    [InlineData(80, "iron-therapy")]
    [InlineData(null, "iron-therapy")]
    public void Evaluate_Age_AdultThresholdsOnlyForAdultsOrUnknownAge(int? age, string expected)
    {
        Assert.Equal(expected, Kinds(Evaluate(Of(ferritin: "20", tsat: "10", age: age))));
    }

    [Fact]
    public void Evaluate_ChildWithSsri_GetsTheCautionAndThePediatricIronCard()
    {
        var s = Of(ferritin: "20", tsat: "15", age: 10, medications: [Med("sertraline", DrugClass.Ssri, MedicationOrigin.Statement)]);

        var findings = Evaluate(s);

        Assert.Equal("iron-therapy, ssri-caution", Kinds(findings));
        var iron = Assert.Single(findings.OfType<IronTherapyIndicated>());
        Assert.True(iron.Context.Child);
        Assert.Equal([SuggestionKeys.FerrousSulfatePediatric], iron.Options.Select(o => o.Product.Key));
    }

    [Theory]
    [InlineData("49.9", "iron-therapy")]
    [InlineData("50", "")]
    [InlineData("85", "")] // no IV range for children
    [InlineData("<50", "iron-therapy")]
    public void Evaluate_Child_PediatricFerritinThresholdOnly(string ferritin, string expected)
    {
        Assert.Equal(expected, Kinds(Evaluate(Of(ferritin, "30", age: 9))));
    }

    [Fact]
    public void Evaluate_ChildWithoutLabs_StillGetsIronStudies()
    {
        Assert.Equal("iron-studies", Kinds(Evaluate(Of(age: 10))));
    }

    [Fact]
    public void Evaluate_ChildOrderingIvIronAtHardStop_GetsTheCautionThatAppliesAtAnyAge()
    {
        var s = Of(ferritin: "350", tsat: "30", age: 12, medications: [Med("ferric carboxymaltose", DrugClass.IvIron)]);

        var caution = Assert.IsType<IvIronNotIndicated>(Assert.Single(Evaluate(s, HookKind.OrderSign)));
        Assert.True(caution.HardStop);
    }

    [Theory]
    [InlineData(HookKind.PatientView)]
    [InlineData(HookKind.OrderSelect)]
    [InlineData(HookKind.OrderSign)]
    public void Evaluate_NoRls_NoFindingsWhateverTheData(HookKind hook)
    {
        var s = Of(ferritin: "10", tsat: "5", rls: false, medications:
        [
            Med("sertraline", DrugClass.Ssri),
            Med("diphenhydramine", DrugClass.SedatingAntihistamine, MedicationOrigin.Statement),
            Med("ferric carboxymaltose", DrugClass.IvIron),
        ]);

        Assert.Empty(Evaluate(s, hook));
    }

    // ---- hook scoping ----------------------------------------------------------------------------------------------

    private static PatientSnapshot FourSsris() => Of(ferritin: "150", tsat: "30", medications:
    [
        Med("sertraline", DrugClass.Ssri, selected: true),
        Med("fluoxetine", DrugClass.Ssri, selected: false),
        Med("paroxetine", DrugClass.Ssri, MedicationOrigin.Statement),
        Med("citalopram", DrugClass.Ssri, MedicationOrigin.ActiveOrder, id: "MedicationRequest/o1"),
    ]);

    [Theory]
    [InlineData(HookKind.OrderSelect, "sertraline")]
    [InlineData(HookKind.OrderSign, "fluoxetine, sertraline")]
    [InlineData(HookKind.PatientView, "citalopram, paroxetine")]
    public void Evaluate_HookKind_ScopesWhichMedicationsAreCommentedOn(HookKind hook, string expected)
    {
        var drugs = Evaluate(FourSsris(), hook).Cast<AggravatingDrug>().Select(f => f.Drug.Ingredient).Order(StringComparer.Ordinal);

        Assert.Equal(expected, string.Join(", ", drugs));
    }

    [Fact]
    public void Evaluate_OrderSelectNothingRelevantSelected_NoPatientLevelIronCard()
    {
        // The iron card concerns the patient, not the order: it belongs to patient-view.
        var s = Of(ferritin: "30", tsat: "15", medications: [Med("sertraline", DrugClass.Ssri, selected: false)]);

        Assert.Empty(Evaluate(s, HookKind.OrderSelect));
        Assert.Equal("iron-therapy", Kinds(Evaluate(s, HookKind.PatientView)));
    }

    [Theory]
    [InlineData("sertraline", DrugClass.Ssri, "iron-therapy, ssri-caution")] // a caution that depends on iron status
    [InlineData("ferrous sulfate", DrugClass.OralIron, "iron-therapy")] // an iron product
    [InlineData("ropinirole", DrugClass.DopamineAgonist, "augmentation-risk, iron-therapy")]
    [InlineData("amoxicillin", DrugClass.AlternativeAntidepressant, "")] // unrelated
    public void Evaluate_OrderHooks_IronCardOnlyWithARelatedOrder(string ingredient, DrugClass cls, string expected)
    {
        var s = Of(ferritin: "30", tsat: "15", phosphate: "3.4", medications: [Med(ingredient, cls)]);

        Assert.Equal(expected, Kinds(Evaluate(s, HookKind.OrderSelect)));
        Assert.Equal(expected, Kinds(Evaluate(s, HookKind.OrderSign)));
    }

    [Theory]
    [InlineData(DrugClass.Ssri, "ssri-caution")]
    [InlineData(DrugClass.Snri, "ssri-caution")]
    [InlineData(DrugClass.Mirtazapine, "ssri-caution")]
    [InlineData(DrugClass.Tca, "ssri-caution")]
    [InlineData(DrugClass.SedatingAntihistamine, "aggravating-drug-caution")]
    [InlineData(DrugClass.DopamineAntagonist, "aggravating-drug-caution")]
    [InlineData(DrugClass.AlternativeAntidepressant, "")]
    [InlineData(DrugClass.DopamineAgonist, "augmentation-risk")]
    [InlineData(DrugClass.Levodopa, "augmentation-risk")]
    [InlineData(DrugClass.Alpha2DeltaLigand, "")]
    [InlineData(DrugClass.OralIron, "")]
    public void Evaluate_DrugClass_DecidesTheCautionCard(DrugClass cls, string expected)
    {
        var s = Of(ferritin: "150", tsat: "30", medications: [Med("some drug", cls)]);

        Assert.Equal(expected, Kinds(Evaluate(s, HookKind.OrderSign)));
    }

    // ---- one card per drug -----------------------------------------------------------------------------------------

    [Fact]
    public void Evaluate_SameDrugAsActiveOrderAndStatement_OneFinding()
    {
        var s = Of(ferritin: "150", tsat: "30", medications:
        [
            Med("sertraline", DrugClass.Ssri, MedicationOrigin.Statement, name: "Zoloft 50 mg"),
            Med("sertraline", DrugClass.Ssri, MedicationOrigin.ActiveOrder, id: "MedicationRequest/o1", name: "sertraline 50 MG Oral Tablet"),
        ]);

        var finding = Assert.IsType<AggravatingDrug>(Assert.Single(Evaluate(s)));
        Assert.Equal("Zoloft 50 mg", finding.Medication.Name);
    }

    [Fact]
    public void Evaluate_SameDrugInTwoDrafts_OneFinding()
    {
        var s = Of(ferritin: "150", tsat: "30", medications:
        [
            Med("sertraline", DrugClass.Ssri, id: "d1"),
            Med("Sertraline", DrugClass.Ssri, id: "d2"),
        ]);

        Assert.Single(Evaluate(s, HookKind.OrderSign));
    }

    [Fact]
    public void Evaluate_CombinationProduct_OneFindingPerIngredient()
    {
        var symbyax = new MedicationFact("olanzapine 6 MG / fluoxetine 25 MG Oral Capsule [Symbyax]",
            [new DrugMatch("olanzapine", DrugClass.DopamineAntagonist, "test"), new DrugMatch("fluoxetine", DrugClass.Ssri, "test")],
            MedicationOrigin.Draft, "MedicationRequest/d1", IsSelected: true);

        var findings = Evaluate(Of(ferritin: "150", tsat: "30", medications: [symbyax]), HookKind.OrderSelect);

        Assert.Equal("aggravating-drug-caution, ssri-caution", Kinds(findings));
        Assert.Equal(2, findings.Select(f => f.Key).Distinct().Count());
    }

    [Fact]
    public void Evaluate_TwoDifferentSsris_TwoFindingsWithDistinctKeys()
    {
        var s = Of(ferritin: "150", tsat: "30", medications: [Med("sertraline", DrugClass.Ssri), Med("fluoxetine", DrugClass.Ssri)]);

        var keys = Evaluate(s, HookKind.OrderSign).Select(f => f.Key).Order(StringComparer.Ordinal);

        Assert.Equal(["ssri-caution:fluoxetine", "ssri-caution:sertraline"], keys);
    }

    // ---- iron studies folded into the cautions ---------------------------------------------------------------------

    [Fact]
    public void Evaluate_CautionWithoutRecentLabs_CarriesIronStudiesInsteadOfASecondCard()
    {
        var s = Of(medications: [Med("sertraline", DrugClass.Ssri)]);

        var caution = Assert.IsType<AggravatingDrug>(Assert.Single(Evaluate(s, HookKind.OrderSelect)));

        Assert.NotNull(caution.IronStudies);
    }

    [Fact]
    public void Evaluate_CautionWithRecentLabs_NoIronStudies()
    {
        var s = Of(ferritin: "150", tsat: "30", medications: [Med("sertraline", DrugClass.Ssri)]);

        var caution = Assert.IsType<AggravatingDrug>(Assert.Single(Evaluate(s, HookKind.OrderSelect)));

        Assert.Null(caution.IronStudies);
        Assert.Equal([Analyte.Ferritin, Analyte.Tsat], caution.Evidence.Labs.Select(l => l.Lab.Analyte));
    }

    [Fact]
    public void Evaluate_CautionWithLabsAlreadyOrdered_NoIronStudies()
    {
        var s = Of(ironStudiesOrdered: true, medications: [Med("sertraline", DrugClass.Ssri)]);

        Assert.Null(Assert.IsType<AggravatingDrug>(Assert.Single(Evaluate(s, HookKind.OrderSelect))).IronStudies);
    }

    [Fact]
    public void Evaluate_NonAggravatingDraftWithoutLabs_NoIronStudiesAtOrderSelect()
    {
        var s = Of(medications: [new MedicationFact("amoxicillin 500 MG Oral Capsule", [new DrugMatch("amoxicillin", DrugClass.AlternativeAntidepressant, "test")], MedicationOrigin.Draft, "MedicationRequest/d1", true)]);

        Assert.Empty(Evaluate(s, HookKind.OrderSelect));
        Assert.Equal("iron-studies", Kinds(Evaluate(s, HookKind.PatientView)));
    }

    [Fact]
    public void Evaluate_CautionAndLowIron_BothCards()
    {
        var s = Of(ferritin: "32", tsat: "18", medications: [Med("sertraline", DrugClass.Ssri)]);

        Assert.Equal("iron-therapy, ssri-caution", Kinds(Evaluate(s, HookKind.OrderSelect)));
    }

    // ---- iron orders -----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("180", null, false)]
    [InlineData("100.1", null, false)]
    [InlineData("299", "30", false)]
    [InlineData("300", null, true)]
    [InlineData("350", "25", true)]
    [InlineData("90", "45", false)]
    [InlineData("60", "52", false)]
    [InlineData(">1500", null, true)]
    [InlineData(">100", null, false)]
    public void Evaluate_IvIronOrderAboveLimits_CautionCriticalFromHardStop(string ferritin, string? tsat, bool hardStop)
    {
        var s = Of(ferritin, tsat, medications: [Med("ferric carboxymaltose", DrugClass.IvIron, id: "fcm")]);

        var caution = Assert.Single(Evaluate(s, HookKind.OrderSign).OfType<IvIronNotIndicated>());

        Assert.Equal(hardStop, caution.HardStop);
        Assert.Equal("MedicationRequest/fcm", caution.Order.ResourceId);
    }

    [Theory]
    [InlineData("100", null)]
    [InlineData("90", "44")]
    [InlineData("50", "30")]
    [InlineData("<90", null)]
    [InlineData(null, null)]
    public void Evaluate_IvIronOrderWithinLimits_NoCaution(string? ferritin, string? tsat)
    {
        var s = Of(ferritin, tsat, medications: [Med("ferric carboxymaltose", DrugClass.IvIron)]);

        Assert.Empty(Evaluate(s, HookKind.OrderSign).OfType<IvIronNotIndicated>());
    }

    [Fact]
    public void Evaluate_IvIronOrderOnOrderSelectNotSelected_NoCaution()
    {
        var s = Of("180", "30", medications: [Med("iron sucrose", DrugClass.IvIron, selected: false)]);

        Assert.Empty(Evaluate(s, HookKind.OrderSelect));
    }

    [Fact]
    public void Evaluate_ActiveIvIronOnPatientView_NoCaution()
    {
        // The caution is about an order being placed; an iron infusion already given is history.
        var s = Of("180", "30", medications: [Med("iron sucrose", DrugClass.IvIron, MedicationOrigin.Statement)]);

        Assert.Empty(Evaluate(s));
    }

    [Fact]
    public void Evaluate_LowFerritinButTsatAt45WithIvIronOrder_OnlyTheCaution()
    {
        // Saturated transferrin: no supplementation card beside the caution that says IV iron is not indicated.
        var s = Of("60", "48", medications: [Med("ferric carboxymaltose", DrugClass.IvIron)]);

        Assert.Equal("iv-iron-caution", Kinds(Evaluate(s, HookKind.OrderSign)));
    }

    [Fact]
    public void Evaluate_TwoIvIronOrders_OneCautionEach()
    {
        var s = Of("180", "30", medications: [Med("iron sucrose", DrugClass.IvIron, id: "a"), Med("ferumoxytol", DrugClass.IvIron, id: "b")]);

        var keys = Evaluate(s, HookKind.OrderSign).Select(f => f.Key).Order(StringComparer.Ordinal);

        Assert.Equal(["iv-iron-caution:MedicationRequest/a", "iv-iron-caution:MedicationRequest/b"], keys);
    }

    [Fact]
    public void Evaluate_IvIronRangeWithOralIronDraft_CarriesTheOralOrder()
    {
        var oral = Med("ferrous sulfate", DrugClass.OralIron, id: "fe");
        var finding = Assert.IsType<IvIronSuggested>(Assert.Single(Evaluate(Of("85", "25", medications: [oral]), HookKind.OrderSelect)));

        Assert.Same(oral, finding.OralIronOrder);
        Assert.Equal(85m, finding.Ferritin.Value);
    }

    [Fact]
    public void Evaluate_IvIronRangeWithAnIvIronDraftAgainstNothing_NoIvIronCard()
    {
        // The order is what the card would suggest: nothing to add.
        Assert.Empty(Evaluate(Of("85", "25", medications: [Med("iron sucrose", DrugClass.IvIron)]), HookKind.OrderSign));
    }

    [Fact]
    public void Evaluate_IvIronRangeWithUnselectedOralDraft_NotCarried()
    {
        var finding = Assert.IsType<IvIronSuggested>(Assert.Single(Evaluate(Of("85", "25", medications: [Med("ferrous sulfate", DrugClass.OralIron, selected: false)]), HookKind.PatientView)));

        Assert.Null(finding.OralIronOrder);
    }

    [Theory]
    [InlineData(MedicationOrigin.Draft, HookKind.OrderSign)]
    [InlineData(MedicationOrigin.Statement, HookKind.PatientView)]
    [InlineData(MedicationOrigin.ActiveOrder, HookKind.PatientView)]
    public void Evaluate_LowIronWithIronAlreadyInProgress_CarriesIt(MedicationOrigin origin, HookKind hook)
    {
        var iron = Med("ferrous sulfate", DrugClass.OralIron, origin, id: origin == MedicationOrigin.Draft ? "fe" : "MedicationStatement/fe");

        var finding = Assert.IsType<IronTherapyIndicated>(Assert.Single(Evaluate(Of("30", medications: [iron]), hook)));

        Assert.Same(iron, finding.InProgress);
    }

    [Fact]
    public void Evaluate_LowIronWithoutIron_NothingInProgress()
    {
        var finding = Assert.IsType<IronTherapyIndicated>(Assert.Single(Evaluate(Of("30", "15"))));

        Assert.Null(finding.InProgress);
        Assert.Equal(30m, finding.Ferritin!.Value);
        Assert.Equal(15m, finding.Tsat!.Value);
    }

    // ---- fixtures end to end (record -> snapshot -> findings) -------------------------------------------------------

    [Theory]
    [InlineData("order-select-zoloft-text-low-iron.json", HookKind.OrderSelect, "iron-therapy, ssri-caution")]
    [InlineData("order-select-sertraline-not-selected.json", HookKind.OrderSelect, "")]
    [InlineData("order-sign-fcm-ferritin-350.json", HookKind.OrderSign, "iv-iron-caution")]
    [InlineData("order-select-ferrous-sulfate-ferritin-85.json", HookKind.OrderSelect, "iv-iron")]
    [InlineData("patient-view-ferritin-75-boundary.json", HookKind.PatientView, "iron-therapy")]
    [InlineData("patient-view-ferritin-100-boundary.json", HookKind.PatientView, "iv-iron")]
    [InlineData("patient-view-ferritin-320-low-tsat.json", HookKind.PatientView, "")]
    [InlineData("patient-view-child-low-iron.json", HookKind.PatientView, "iron-therapy")]
    [InlineData("patient-view-rls-resolved.json", HookKind.PatientView, "")]
    [InlineData("patient-view-bupropion-trazodone.json", HookKind.PatientView, "")]
    public void Evaluate_Fixture_ExpectedFindings(string file, HookKind hook, string expected)
    {
        var snapshot = new SnapshotBuilder(RlsKnowledge.Default).Build(Records.FromFixture(file).Record, Records.Now);

        Assert.Equal(expected, Kinds(Evaluate(snapshot, hook)));
    }
}
