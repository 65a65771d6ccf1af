using CdsHooks.Fhir;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;
using static CdsHooks.Rls.Tests.Records;

namespace CdsHooks.Rls.Tests;

/// <summary>Real-world medication codings and strings, and the drugs (ingredient:class) the classifier must find in them.</summary>
public sealed class MedicationClassifierTests
{
    private static readonly MedicationClassifier Classifier = new(RlsKnowledge.Default);

    private static string Describe(IReadOnlyList<DrugMatch> matches) =>
        string.Join(", ", matches.Select(m => $"{m.Ingredient}:{m.Class}").Order(StringComparer.Ordinal));

    [Theory]
    // RxNorm ingredient codes.
    [InlineData("36437", "sertraline:Ssri")]
    [InlineData("321988", "escitalopram:Ssri")]
    [InlineData("2556", "citalopram:Ssri")]
    [InlineData("4493", "fluoxetine:Ssri")]
    [InlineData("32937", "paroxetine:Ssri")]
    [InlineData("39786", "venlafaxine:Snri")]
    [InlineData("72625", "duloxetine:Snri")]
    [InlineData("15996", "mirtazapine:Mirtazapine")]
    [InlineData("704", "amitriptyline:Tca")]
    [InlineData("6915", "metoclopramide:DopamineAntagonist")]
    [InlineData("5093", "haloperidol:DopamineAntagonist")]
    [InlineData("3498", "diphenhydramine:SedatingAntihistamine")]
    [InlineData("42347", "bupropion:AlternativeAntidepressant")]
    [InlineData("24947", "ferrous sulfate:OralIron")]
    // Product codes the file lists (Injectafer).
    [InlineData("1435169", "ferric carboxymaltose:IvIron")]
    [InlineData("1435174", "ferric carboxymaltose:IvIron")]
    // Unknown codes without text: nothing.
    [InlineData("312940", "")]
    [InlineData("161", "")]
    public void Classify_RxNormCode_FindsIngredient(string rxcui, string expected)
    {
        Assert.Equal(expected, Describe(Classifier.Classify(Code(FhirSystems.RxNorm, rxcui), null)));
    }

    [Theory]
    // RxNorm clinical and branded drug names (SCD/SBD), as displays or free text.
    [InlineData("sertraline 50 MG Oral Tablet", "sertraline:Ssri")]
    [InlineData("Zoloft 100 MG Oral Tablet", "sertraline:Ssri")]
    [InlineData("ZOLOFT 50MG TAB", "sertraline:Ssri")]
    [InlineData("sertraline (ZOLOFT) 50 MG tablet", "sertraline:Ssri")]
    [InlineData("escitalopram oxalate 10 MG Oral Tablet [Lexapro]", "escitalopram:Ssri")]
    [InlineData("citalopram 20 MG Oral Tablet", "citalopram:Ssri")]
    [InlineData("Celexa 20 mg", "citalopram:Ssri")]
    [InlineData("Prozac 20 MG Oral Capsule", "fluoxetine:Ssri")]
    [InlineData("PARoxetine HCl 20 mg tablet", "paroxetine:Ssri")]
    [InlineData("Paxil CR 25 MG", "paroxetine:Ssri")]
    [InlineData("Trintellix 10 MG Oral Tablet", "vortioxetine:Ssri")]
    [InlineData("venlafaxine 75 MG Extended Release Oral Capsule", "venlafaxine:Snri")]
    [InlineData("desvenlafaxine 50 MG 24HR Extended Release Oral Tablet", "desvenlafaxine:Snri")]
    [InlineData("Pristiq 50 mg", "desvenlafaxine:Snri")]
    [InlineData("DULoxetine 60 MG Delayed Release Oral Capsule", "duloxetine:Snri")]
    [InlineData("Remeron 15 mg tablet", "mirtazapine:Mirtazapine")]
    [InlineData("RemeronSolTab 15 MG Disintegrating Oral Tablet", "mirtazapine:Mirtazapine")]
    [InlineData("amitriptyline HCl 25 MG Oral Tablet", "amitriptyline:Tca")]
    [InlineData("diphenhydrAMINE HCl 25 mg capsule", "diphenhydramine:SedatingAntihistamine")]
    [InlineData("Benadryl Allergy 25 MG Oral Tablet", "diphenhydramine:SedatingAntihistamine")]
    [InlineData("Chlor-Trimeton 4 mg", "chlorpheniramine:SedatingAntihistamine")]
    [InlineData("chlorpheniramine maleate 4 MG Oral Tablet", "chlorpheniramine:SedatingAntihistamine")]
    [InlineData("doxylamine succinate 25 MG Oral Tablet", "doxylamine:SedatingAntihistamine")]
    [InlineData("hydrOXYzine pamoate 25 mg capsule", "hydroxyzine:SedatingAntihistamine")]
    [InlineData("promethazine 25 MG Oral Tablet", "promethazine:SedatingAntihistamine")]
    [InlineData("metoclopramide 10 MG Oral Tablet", "metoclopramide:DopamineAntagonist")]
    [InlineData("Reglan 10 mg", "metoclopramide:DopamineAntagonist")]
    [InlineData("QUEtiapine 25 MG Oral Tablet", "quetiapine:DopamineAntagonist")]
    [InlineData("Seroquel XR 300 mg", "quetiapine:DopamineAntagonist")]
    [InlineData("prochlorperazine maleate 10 MG Oral Tablet", "prochlorperazine:DopamineAntagonist")]
    [InlineData("ropinirole 0.25 MG Oral Tablet", "ropinirole:DopamineAgonist")]
    [InlineData("Mirapex 0.125 mg", "pramipexole:DopamineAgonist")]
    [InlineData("Neupro 1 MG/24HR Transdermal System", "rotigotine:DopamineAgonist")]
    // IV and oral iron.
    [InlineData("ferric carboxymaltose 750 MG in 15 ML Injection", "ferric carboxymaltose:IvIron")]
    [InlineData("Injectafer", "ferric carboxymaltose:IvIron")]
    [InlineData("15 ML Injectafer 50 MG/ML Injection", "ferric carboxymaltose:IvIron")]
    [InlineData("iron sucrose", "iron sucrose:IvIron")]
    [InlineData("Venofer 20 MG/ML Injectable Solution", "iron sucrose:IvIron")]
    [InlineData("ferumoxytol 510 MG in 17 ML Injection", "ferumoxytol:IvIron")]
    [InlineData("Monoferric 1000 MG", "ferric derisomaltose:IvIron")]
    [InlineData("ferrous sulfate 325 MG Oral Tablet", "ferrous sulfate:OralIron")]
    [InlineData("Ferrous Sulphate 200mg tablets", "ferrous sulfate:OralIron")]
    [InlineData("Slow Fe 142 MG Extended Release Oral Tablet", "ferrous sulfate:OralIron")]
    [InlineData("ferrous gluconate 324 MG Oral Tablet", "ferrous gluconate:OralIron")]
    // Word boundaries: one ingredient is not another that contains it.
    [InlineData("escitalopram 10 MG Oral Tablet", "escitalopram:Ssri")]
    [InlineData("desvenlafaxine succinate 100 MG", "desvenlafaxine:Snri")]
    [InlineData("nortriptyline 25 MG Oral Capsule", "nortriptyline:Tca")]
    [InlineData("desipramine 25 MG", "desipramine:Tca")]
    [InlineData("imipramine 25 MG", "imipramine:Tca")]
    [InlineData("clomipramine 25 MG", "clomipramine:Tca")]
    [InlineData("gabapentin 300 MG Oral Capsule", "gabapentin:Alpha2DeltaLigand")]
    [InlineData("gabapentin enacarbil 600 MG Extended Release Oral Tablet [Horizant]", "gabapentin enacarbil:Alpha2DeltaLigand")]
    [InlineData("Horizant 600 mg", "gabapentin enacarbil:Alpha2DeltaLigand")]
    [InlineData("iron 65 MG Oral Tablet", "")]
    [InlineData("sucrose", "")]
    [InlineData("fluoxetineXR", "")]
    // Non-aggravators: nothing, or the alternative antidepressant.
    [InlineData("trazodone 50 MG Oral Tablet", "trazodone:AlternativeAntidepressant")]
    [InlineData("buPROPion HCl 150 MG 12HR Extended Release Oral Tablet", "bupropion:AlternativeAntidepressant")]
    [InlineData("Wellbutrin XL 300 mg", "bupropion:AlternativeAntidepressant")]
    [InlineData("loratadine 10 MG Oral Tablet", "")]
    [InlineData("fexofenadine 180 MG Oral Tablet", "")]
    [InlineData("acetaminophen 500 MG Oral Tablet", "")]
    [InlineData("amoxicillin 500 MG Oral Capsule", "")]
    [InlineData("ondansetron 4 MG Disintegrating Oral Tablet", "")]
    [InlineData("tramadol HCl 50 MG Oral Tablet", "")]
    [InlineData("pregabalin 75 MG Oral Capsule", "pregabalin:Alpha2DeltaLigand")]
    [InlineData("lithium carbonate 300 MG Oral Capsule", "")]
    // Combination products: every ingredient.
    [InlineData("olanzapine 6 MG / fluoxetine 25 MG Oral Capsule [Symbyax]", "fluoxetine:Ssri, olanzapine:DopamineAntagonist")]
    [InlineData("perphenazine 2 MG / amitriptyline 25 MG Oral Tablet", "amitriptyline:Tca, perphenazine:DopamineAntagonist")]
    [InlineData("Tylenol PM (acetaminophen / diphenhydrAMINE)", "diphenhydramine:SedatingAntihistamine")]
    [InlineData("", "")]
    public void Classify_ProductText_FindsWholeWordIngredientsAndBrands(string text, string expected)
    {
        // The same string as free text and as the display of an unknown product code.
        Assert.Equal(expected, Describe(Classifier.Classify(Text(text), null)));
        Assert.Equal(expected, Describe(Classifier.Classify(Code(FhirSystems.RxNorm, "999999", text), null)));
    }

    [Theory]
    [InlineData("N06AB06", null, "sertraline:Ssri")]
    [InlineData("N06AB06", "sertraline", "sertraline:Ssri")]
    [InlineData("N06AB04", null, "citalopram:Ssri")]
    [InlineData("N06AX16", null, "venlafaxine:Snri")]
    [InlineData("N06AX11", "mirtazapine", "mirtazapine:Mirtazapine")]
    [InlineData("A03FA01", null, "metoclopramide:DopamineAntagonist")]
    [InlineData("N06AX12", null, "bupropion:AlternativeAntidepressant")]
    // Class prefixes: the class, named by the display when there is one.
    [InlineData("N06AB02", null, "N06AB02:Ssri")]
    [InlineData("N06AA09", "amitriptyline", "amitriptyline:Tca")]
    [InlineData("N05AH03", null, "N05AH03:DopamineAntagonist")]
    [InlineData("N05AH03", "olanzapine", "olanzapine:DopamineAntagonist")]
    [InlineData("N05AX08", "risperidone", "risperidone:DopamineAntagonist")]
    [InlineData("B03AC", null, "B03AC:IvIron")]
    [InlineData("B03AC01", "ferric oxide polymaltose complexes", "ferric oxide polymaltose complexes:IvIron")]
    [InlineData("B03AA07", "ferrous sulfate", "ferrous sulfate:OralIron")]
    // Lithium is under N05A but is not a dopamine antagonist.
    [InlineData("N05AN01", null, "")]
    [InlineData("N05AN01", "lithium", "")]
    // Not in any listed class.
    [InlineData("N06AX05", "trazodone", "trazodone:AlternativeAntidepressant")]
    [InlineData("R06AX13", "loratadine", "")]
    [InlineData("N02BE01", "paracetamol", "")]
    public void Classify_AtcCode_FindsDrugOrClass(string atc, string? display, string expected)
    {
        Assert.Equal(expected, Describe(Classifier.Classify(Code(FhirSystems.Atc, atc, display), null)));
    }

    [Fact]
    public void Classify_AtcCodeInAnotherSystem_IsNotReadAsAtc()
    {
        Assert.Empty(Classifier.Classify(Code("http://example.org/local-codes", "N06AB02"), null));
    }

    [Fact]
    public void Classify_MedicationIngredientCodeableConcept_FindsIngredient()
    {
        var medication = Medication("m1", Text("Generic 50 mg tablet"), Code(FhirSystems.RxNorm, "36437", "sertraline"));

        var match = Assert.Single(Classifier.Classify(null, medication));

        Assert.Equal("sertraline", match.Ingredient);
        Assert.Equal("RxNorm 36437", match.Evidence);
    }

    [Fact]
    public void Classify_MedicationIngredientItemReferenceDisplay_FindsIngredient()
    {
        var medication = new Medication
        {
            Code = Text("Compounded capsule"),
            Ingredient = [new MedicationIngredient { ItemReference = new Reference("Substance/s1") { Display = "fluoxetine hydrochloride" } }],
        };

        Assert.Equal("fluoxetine:Ssri", Describe(Classifier.Classify(null, medication)));
    }

    [Fact]
    public void Classify_MedicationWithTwoIngredients_FindsBoth()
    {
        var medication = Medication("m1", Text("Symbyax 6/25"), Text("olanzapine"), Code(FhirSystems.RxNorm, "4493", "fluoxetine"));

        Assert.Equal("fluoxetine:Ssri, olanzapine:DopamineAntagonist", Describe(Classifier.Classify(null, medication)));
    }

    [Fact]
    public void Classify_SameDrugByCodeDisplayTextAndMedication_ReportedOnce()
    {
        var concept = new CodeableConcept
        {
            Coding = [new Coding(FhirSystems.RxNorm, "36437", "sertraline"), new Coding(FhirSystems.Atc, "N06AB06", "sertraline")],
            Text = "Zoloft 50 mg tablet",
        };
        var medication = Medication("m1", Text("sertraline 50 MG Oral Tablet [Zoloft]"), Code(FhirSystems.RxNorm, "36437"));

        var match = Assert.Single(Classifier.Classify(concept, medication));

        Assert.Equal("sertraline", match.Ingredient);
        Assert.Equal("RxNorm 36437", match.Evidence); // the first, strongest evidence is kept
    }

    [Fact]
    public void Classify_AtcClassCodeWithKnownName_IsOneDrug()
    {
        var concept = new CodeableConcept { Coding = [new Coding(FhirSystems.Atc, "N06AB02", "SSRI")], Text = "sertraline 50 mg" };

        // "N06AB02" names the class, the text names sertraline: one SSRI, not two.
        Assert.Single(Classifier.Classify(concept, null));
    }

    [Fact]
    public void Classify_NameInText_EvidenceQuotesThePhrase()
    {
        var match = Assert.Single(Classifier.Classify(Text("Zoloft 100 MG Oral Tablet"), null));

        Assert.Equal("name \"zoloft\"", match.Evidence);
    }

    [Fact]
    public void Classify_NothingGiven_FindsNothing()
    {
        Assert.Empty(Classifier.Classify(null, null));
        Assert.Empty(Classifier.Classify(new CodeableConcept(), new Medication()));
    }
}
