using CdsHooks.Fhir;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;
using static CdsHooks.Rls.Tests.Records;

namespace CdsHooks.Rls.Tests;

public sealed class SnapshotBuilderTests
{
    private static readonly RlsKnowledge WithPreliminary = RlsKnowledge.Load(acceptPreliminary: true);

    // ---- which results count ---------------------------------------------------------------------------------------

    [Theory]
    [InlineData("final", false, true)]
    [InlineData("amended", false, true)]
    [InlineData("corrected", false, true)]
    [InlineData("preliminary", false, false)]
    [InlineData("preliminary", true, true)]
    [InlineData("entered-in-error", true, false)]
    [InlineData("cancelled", true, false)]
    [InlineData("registered", true, false)]
    [InlineData("unknown", true, false)]
    [InlineData(null, true, false)]
    public void Build_ObservationStatus_DecidesWhetherTheResultIsUsed(string? status, bool acceptPreliminary, bool used)
    {
        var knowledge = acceptPreliminary ? WithPreliminary : RlsKnowledge.Default;

        var s = Chart(Lab(FerritinLoinc, 40, "ng/mL", status: status)).Snapshot(knowledge);

        Assert.Equal(used, s.Lab(Analyte.Ferritin) is not null);
        Assert.Empty(s.Skipped); // a result that must not be used is not "skipped" either: it does not exist
    }

    [Fact]
    public void Build_NewestEnteredInError_FallsBackToOlderFinal()
    {
        var s = Chart(Ferritin(40, daysAgo: 5, status: "entered-in-error"), Ferritin(90, daysAgo: 60)).Snapshot();

        Assert.Equal(90m, s.Lab(Analyte.Ferritin)!.Value);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Build_TwoResults_NewestByEffectiveWinsWhateverTheOrder(bool newestFirst)
    {
        Observation older = Ferritin(20, daysAgo: 300), newer = Ferritin(150, daysAgo: 20);
        older.Issued = DaysAgo(1); // a late-issued old draw must not win on issued

        var s = (newestFirst ? Chart(newer, older) : Chart(older, newer)).Snapshot();

        Assert.Equal(150m, s.Lab(Analyte.Ferritin)!.Value);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Build_SameEffectiveTime_LaterIssuedWins(bool correctedFirst)
    {
        var first = Ferritin(60, daysAgo: 10);
        first.Issued = DaysAgo(9);
        var corrected = Ferritin(66, daysAgo: 10, status: "corrected");
        corrected.Issued = DaysAgo(8);

        var s = (correctedFirst ? Chart(corrected, first) : Chart(first, corrected)).Snapshot();

        Assert.Equal(66m, s.Lab(Analyte.Ferritin)!.Value);
    }

    [Fact]
    public void Build_OnlyIssued_UsesIssuedAsTheDate()
    {
        var obs = Lab(FerritinLoinc, 40, "ng/mL", daysAgo: null, issued: DaysAgo(12));

        var lab = Chart(obs).Snapshot().Lab(Analyte.Ferritin)!;

        Assert.Equal(Now.AddDays(-12), lab.When);
    }

    [Fact]
    public void Build_EffectivePeriod_UsesItsEnd()
    {
        var obs = Lab(FerritinLoinc, 40, "ng/mL", daysAgo: null);
        obs.EffectivePeriod = new Period { Start = DaysAgo(3), End = DaysAgo(2) };

        Assert.Equal(Now.AddDays(-2), Chart(obs).Snapshot().Lab(Analyte.Ferritin)!.When);
    }

    [Fact]
    public void Build_NoDateAtAll_SkippedWithReason()
    {
        var s = Chart(Lab(FerritinLoinc, 40, "ng/mL", daysAgo: null)).Snapshot();

        Assert.Null(s.Lab(Analyte.Ferritin));
        Assert.Equal("ferritin (2276-4): no effective date or issued time", Assert.Single(s.Skipped));
    }

    [Fact]
    public void Build_UnreadableDate_SkippedWithReason()
    {
        var obs = Lab(FerritinLoinc, 40, "ng/mL", daysAgo: null);
        obs.EffectiveDateTime = "last week";

        Assert.Contains("no effective date", Assert.Single(Chart(obs).Snapshot().Skipped));
    }

    [Theory]
    [InlineData("20567-4")]
    [InlineData("24373-3")]
    public void Build_OtherFerritinLoincs_ReadAsFerritin(string loinc)
    {
        var lab = Chart(Lab(loinc, 33, "ug/L")).Snapshot().Lab(Analyte.Ferritin)!;

        Assert.Equal(33m, lab.Value);
        Assert.Equal(loinc, lab.Code);
    }

    [Fact]
    public void Build_UnrelatedOrLocalCodes_AreIgnoredNotSkipped()
    {
        var glucose = Lab("2345-7", 95, "mg/dL");
        var local = Lab(FerritinLoinc, 40, "ng/mL");
        local.Code = Code("http://lab.example.org/codes", "FERR");

        var s = Chart(glucose, local).Snapshot();

        Assert.Empty(s.Latest);
        Assert.Empty(s.Skipped);
    }

    [Fact]
    public void Build_LocalAndLoincCodings_FindsTheLoinc()
    {
        var obs = Lab(FerritinLoinc, 40, "ng/mL");
        obs.Code = new CodeableConcept { Coding = [new Coding("http://lab.example.org/codes", "FERR"), new Coding(FhirSystems.Loinc, "2276-4")] };

        Assert.Equal(40m, Chart(obs).Snapshot().Lab(Analyte.Ferritin)!.Value);
    }

    // ---- units -----------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(FerritinLoinc, 50, "ng/mL", true, Analyte.Ferritin, 50, null)]
    [InlineData(FerritinLoinc, 50, "ug/L", true, Analyte.Ferritin, 50, "50 ug/L")]
    [InlineData(FerritinLoinc, 50, "µg/L", true, Analyte.Ferritin, 50, "50 µg/L")]
    [InlineData(FerritinLoinc, 50, "μg/L", false, Analyte.Ferritin, 50, "50 μg/L")]
    [InlineData("14723-1", 200, "pmol/L", true, Analyte.Ferritin, 89, "200 pmol/L")]
    [InlineData("14723-1", 100, "pmol/L", true, Analyte.Ferritin, 44.5, "100 pmol/L")]
    [InlineData("14723-1", 168.5, "pmol/L", true, Analyte.Ferritin, 75, "168.5 pmol/L")]
    [InlineData("14723-1", 224.7, "pmol/L", true, Analyte.Ferritin, 100, "224.7 pmol/L")]
    [InlineData(FerritinLoinc, 50, "ng/mL", false, Analyte.Ferritin, 50, null)]
    [InlineData(CrpLoinc, 1.2, "mg/dL", true, Analyte.Crp, 12, "1.2 mg/dL")]
    [InlineData(CrpLoinc, 8, "mg/L", true, Analyte.Crp, 8, null)]
    [InlineData(HemoglobinLoinc, 135, "g/L", true, Analyte.Hemoglobin, 13.5, "135 g/L")]
    [InlineData(HemoglobinLoinc, 8.4, "mmol/L", true, Analyte.Hemoglobin, 13.5, "8.4 mmol/L")]
    [InlineData(IronLoinc, 17.9, "umol/L", true, Analyte.Iron, 100, "17.9 umol/L")]
    [InlineData(TsatLoinc, 18, "%", true, Analyte.Tsat, 18, null)]
    public void Build_KnownUnit_ConvertsToCanonicalRoundedToOneDecimal(string loinc, double value, string unit, bool ucum, Analyte analyte, double expected, string? reportedAs)
    {
        var lab = Chart(Lab(loinc, (decimal)value, unit, ucum: ucum)).Snapshot().Lab(analyte)!;

        Assert.Equal((decimal)expected, lab.Value);
        Assert.Equal(RlsKnowledge.Default.CanonicalUnit(analyte), lab.Unit);
        Assert.Equal(reportedAs, lab.ReportedAs);
    }

    [Fact]
    public void Build_UnknownUcumCodeButKnownHumanUnit_UsesTheHumanUnit()
    {
        var obs = Lab(FerritinLoinc, 40, "ng/mL");
        obs.ValueQuantity!.Code = "ng/mL{serum}";

        var s = Chart(obs).Snapshot();

        Assert.Equal(40m, s.Lab(Analyte.Ferritin)!.Value);
        Assert.Empty(s.Skipped);
    }

    [Theory]
    [InlineData(FerritinLoinc, "mg/dL", "ferritin (2276-4)", "unit 'mg/dL' cannot be read as ng/mL, value 40 not used")]
    [InlineData(FerritinLoinc, "U/mL", "ferritin (2276-4)", "unit 'U/mL' cannot be read as ng/mL")]
    [InlineData(TsatLoinc, "1", "tsat (2502-3)", "unit '1' cannot be read as %")]
    [InlineData(FerritinLoinc, null, "ferritin (2276-4)", "no unit given")]
    public void Build_UnknownUnit_SkippedWithReason(string loinc, string? unit, string label, string reason)
    {
        var obs = Lab(loinc, 40, unit);
        if (unit is null) obs.ValueQuantity = new Quantity { Value = 40 };

        var s = Chart(obs).Snapshot();

        Assert.Empty(s.Latest);
        var skipped = Assert.Single(s.Skipped);
        Assert.StartsWith(label + " " + DaysAgo(30)[..10], skipped);
        Assert.Contains(reason, skipped);
    }

    [Fact]
    public void Build_UnknownUnitOnNewerResult_OlderValidResultStillUsed()
    {
        var s = Chart(Ferritin(45, unit: "U/mL", daysAgo: 5), Ferritin(30, daysAgo: 90)).Snapshot();

        Assert.Equal(30m, s.Lab(Analyte.Ferritin)!.Value);
        Assert.Single(s.Skipped);
    }

    [Fact]
    public void Build_ValueString_SkippedAsNotAQuantity()
    {
        var obs = Lab(FerritinLoinc, null, null);
        obs.ValueString = "see comment";

        var s = Chart(obs).Snapshot();

        Assert.Empty(s.Latest);
        Assert.Contains("value 'see comment' is not a quantity", Assert.Single(s.Skipped));
    }

    [Fact]
    public void Build_NoValue_SkippedWithReason()
    {
        var obs = Lab(FerritinLoinc, null, null);
        obs.DataAbsentReason = Code("http://terminology.hl7.org/CodeSystem/data-absent-reason", "error");

        Assert.Contains("no numeric value", Assert.Single(Chart(obs).Snapshot().Skipped));
    }

    [Fact]
    public void Build_QuantityWithoutValue_Skipped()
    {
        Assert.Single(Chart(Lab(FerritinLoinc, null, "ng/mL")).Snapshot().Skipped);
    }

    [Theory]
    [InlineData("<", 10, "ng/mL", 10, null)]
    [InlineData(">", 1500, "ng/mL", 1500, null)]
    [InlineData("<=", 5, "ug/L", 5, "<=5 ug/L")]
    [InlineData("<", 22.47, "pmol/L", 10, "<22.47 pmol/L")]
    public void Build_ComparatorValue_KeptWithTheComparator(string comparator, double value, string unit, double expected, string? reportedAs)
    {
        var lab = Chart(Ferritin((decimal)value, unit, comparator: comparator)).Snapshot().Lab(Analyte.Ferritin)!;

        Assert.Equal(comparator, lab.Comparator);
        Assert.Equal((decimal)expected, lab.Value);
        Assert.Equal(reportedAs, lab.ReportedAs);
    }

    // ---- TSAT from iron and TIBC -----------------------------------------------------------------------------------

    [Fact]
    public void Build_IronAndTibcSameDayWithoutTsat_DerivesTsat()
    {
        var tsat = Chart(Iron(60), Tibc(400)).Snapshot().Lab(Analyte.Tsat)!;

        Assert.True(tsat.Derived);
        Assert.Equal(15m, tsat.Value);
        Assert.Equal("%", tsat.Unit);
        Assert.Equal(Now.AddDays(-30), tsat.When);
        Assert.Equal("calculated", tsat.Code);
    }

    [Fact]
    public void Build_IronAndTibcInMicromolar_DerivesTsatFromConvertedValues()
    {
        var s = Chart(Lab(IronLoinc, 10.74m, "umol/L"), Lab(TibcLoinc, 71.6m, "umol/L")).Snapshot();

        Assert.Equal(15m, s.Lab(Analyte.Tsat)!.Value);
    }

    [Fact]
    public void Build_IronAndTibcOnDifferentDays_NoTsat()
    {
        Assert.Null(Chart(Iron(60, daysAgo: 30), Tibc(400, daysAgo: 31)).Snapshot().Lab(Analyte.Tsat));
    }

    [Fact]
    public void Build_ReportedTsatSameDay_KeptNotDerived()
    {
        var tsat = Chart(Iron(60), Tibc(400), Tsat(22)).Snapshot().Lab(Analyte.Tsat)!;

        Assert.False(tsat.Derived);
        Assert.Equal(22m, tsat.Value);
    }

    [Fact]
    public void Build_ReportedTsatOlderThanIronAndTibc_DerivedFromTheNewerDraw()
    {
        var tsat = Chart(Tsat(35, daysAgo: 200), Iron(60, daysAgo: 10), Tibc(400, daysAgo: 10)).Snapshot().Lab(Analyte.Tsat)!;

        Assert.True(tsat.Derived);
        Assert.Equal(15m, tsat.Value);
    }

    [Fact]
    public void Build_IronBelowDetection_NoDerivedTsat()
    {
        Assert.Null(Chart(Iron(10, comparator: "<"), Tibc(400)).Snapshot().Lab(Analyte.Tsat));
    }

    [Fact]
    public void Build_TibcZero_NoDerivedTsat()
    {
        Assert.Null(Chart(Iron(60), Tibc(0)).Snapshot().Lab(Analyte.Tsat));
    }

    // ---- RLS and anxiety -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(FhirSystems.Snomed, "32914008", "Restless legs", "Restless legs")]
    [InlineData(FhirSystems.Icd10Cm, "G25.81", "Restless legs syndrome", "Restless legs syndrome")]
    [InlineData(FhirSystems.Icd10Cm, "G25.81", null, "G25.81")]
    [InlineData(FhirSystems.Snomed, "1052284009", "Restless leg syndrome in pregnancy", "Restless leg syndrome in pregnancy")]
    [InlineData(FhirSystems.Icd9Cm, "333.94", "Restless legs syndrome (RLS)", "Restless legs syndrome (RLS)")] // unverified code dropped: the name still says it
    [InlineData("http://ehr.example.org/problems", "P123", "RLS - restless leg", "RLS - restless leg")]
    public void Build_RlsCondition_ByCodeOrName(string system, string code, string? display, string expectedName)
    {
        var s = Chart(Condition(Code(system, code, display))).Snapshot();

        Assert.NotNull(s.Rls);
        Assert.True(s.Rls.FromCondition);
        Assert.Equal($"{expectedName} (diagnosis)", s.Rls.Description);
    }

    [Theory]
    [InlineData(FhirSystems.Icd10, "G25.81")]
    [InlineData(FhirSystems.Snomed, "G25.81")]
    [InlineData(FhirSystems.Icd10Cm, "G25.8")]
    public void Build_RlsCodeInWrongSystemWithoutName_NotRls(string system, string code)
    {
        Assert.Null(Chart(Condition(Code(system, code, "Other extrapyramidal disorder"))).Snapshot().Rls);
    }

    [Theory]
    [InlineData("Restless legs syndrome", true)]
    [InlineData("restless leg syndrome, moderate", true)]
    [InlineData("Willis-Ekbom disease", true)]
    [InlineData("RESTLESS LEGS", true)]
    [InlineData("Restlessness", false)]
    [InlineData("Leg cramps", false)]
    [InlineData("Restless sleep; legs swollen", false)]
    public void Build_RlsConditionTextOnly_RecognisedByName(string text, bool isRls)
    {
        Assert.Equal(isRls, Chart(Condition(Text(text))).Snapshot().Rls is not null);
    }

    [Theory]
    [InlineData("active", null, null, true)]
    [InlineData("recurrence", null, null, true)]
    [InlineData("relapse", null, null, true)]
    [InlineData("active", "confirmed", null, true)]
    [InlineData("active", "provisional", null, true)]
    [InlineData("active", "refuted", null, false)]
    [InlineData("active", "entered-in-error", null, false)]
    [InlineData("inactive", null, null, false)]
    [InlineData("resolved", null, null, false)]
    [InlineData("remission", null, null, false)]
    [InlineData(null, null, null, true)]
    [InlineData(null, null, "2025-01-01", false)]
    [InlineData(null, "refuted", null, false)]
    public void Build_ConditionStatus_OnlyActiveNotRefutedCounts(string? clinical, string? verification, string? abatement, bool isRls)
    {
        var s = Chart(Condition(Code(FhirSystems.Snomed, "32914008", "Restless legs"), clinical, verification, abatement)).Snapshot();

        Assert.Equal(isRls, s.Rls is not null);
    }

    [Fact]
    public void Build_ResolvedThenActiveRlsCondition_ActiveOneCounts()
    {
        Assert.NotNull(Chart(RlsDiagnosis("resolved"), Condition(Code(FhirSystems.Icd10Cm, "G25.81", "Restless legs syndrome"))).Snapshot().Rls);
    }

    [Theory]
    [InlineData("ropinirole 0.25 MG Oral Tablet", "ropinirole 0.25 MG Oral Tablet (active medication), an RLS treatment with no other indication recorded; no RLS diagnosis is recorded")]
    [InlineData("Horizant 600 mg", "Horizant 600 mg (active medication), an RLS treatment with no other indication recorded; no RLS diagnosis is recorded")]
    [InlineData("Neupro patch", "Neupro patch (active medication), an RLS treatment with no other indication recorded; no RLS diagnosis is recorded")]
    public void Build_RlsTreatmentWithoutDiagnosis_IsRlsEvidence(string medication, string description)
    {
        var s = Chart(Taking(Text(medication))).Snapshot();

        Assert.NotNull(s.Rls);
        Assert.False(s.Rls.FromCondition);
        Assert.Equal(description, s.Rls.Description);
    }

    [Fact]
    public void Build_RlsTreatmentBeingOrdered_IsRlsEvidence()
    {
        var s = Chart().Drafting(Draft("d1", Text("gabapentin enacarbil 600 MG Extended Release Oral Tablet [Horizant]"))).Snapshot();

        Assert.Contains("(being ordered), an RLS treatment", s.Rls!.Description);
    }

    [Theory]
    [InlineData("ropinirole 1 MG", FhirSystems.Icd10Cm, "G20.A1", null)]
    [InlineData("Mirapex 0.25 mg", FhirSystems.Icd10Cm, "G20", null)] // the pre-2023 code, in older records
    [InlineData("rotigotine patch", FhirSystems.Snomed, "49049000", null)]
    [InlineData("pramipexole 0.125 MG", "http://ehr.example.org/problems", "P9", "Parkinson's disease")]
    [InlineData("ropinirole 1 MG", FhirSystems.Icd10Cm, "G21.4", null)] // vascular parkinsonism
    [InlineData("Horizant 600 mg", FhirSystems.Icd10Cm, "B02.29", null)] // postherpetic neuralgia
    public void Build_RlsTreatmentWithItsOtherIndicationRecorded_IsNotRlsEvidence(string medication, string system, string code, string? display)
    {
        Assert.Null(Chart(Taking(Text(medication)), Condition(Code(system, code, display))).Snapshot().Rls);
    }

    [Theory]
    [InlineData("levodopa 100 MG / carbidopa 25 MG")] // a Parkinson drug first
    [InlineData("gabapentin 300 MG Oral Capsule")] // many indications
    [InlineData("pregabalin 75 MG")]
    public void Build_DrugWithOtherLikelyIndications_NeverRlsEvidence(string medication)
    {
        Assert.Null(Chart(Taking(Text(medication))).Snapshot().Rls);
    }

    [Fact]
    public void Build_DopamineAgonistWithConditionsReadInPart_NotRlsEvidence()
    {
        // Parkinson disease could be on the page that was not read.
        Assert.Null(Chart(Taking(Text("ropinirole 1 MG"))).Missing(DataArea.Conditions, partial: true).Snapshot().Rls);
    }

    [Fact]
    public void Build_G210MalignantNeurolepticSyndrome_NotParkinsonism()
    {
        Assert.NotNull(Chart(Taking(Text("ropinirole 1 MG")), Condition(Code(FhirSystems.Icd10Cm, "G21.0", null))).Snapshot().Rls);
    }

    [Fact]
    public void Build_StoppedRlsTreatment_IsNotEvidence()
    {
        Assert.Null(Chart(Taking(Text("ropinirole 1 MG"), status: "stopped")).Snapshot().Rls);
    }

    [Fact]
    public void Build_RlsConditionAndTreatment_ConditionIsTheEvidence()
    {
        var s = Chart(Taking(Text("ropinirole 1 MG")), RlsDiagnosis()).Snapshot();

        Assert.True(s.Rls!.FromCondition);
    }

    [Fact]
    public void Build_NoRlsAnywhere_RlsIsNull()
    {
        Assert.Null(Chart(AnxietyDiagnosis(), Taking(Text("sertraline 50 MG"))).Snapshot().Rls);
    }

    [Theory]
    [InlineData(FhirSystems.Icd10Cm, "F41.1", null, "active", "Generalized anxiety disorder")]
    [InlineData(FhirSystems.Icd10Cm, "F41.9", "Anxiety disorder, unspecified", "active", "Anxiety disorder, unspecified")]
    [InlineData(FhirSystems.Snomed, "197480006", "Anxiety disorder", "active", "Anxiety disorder")]
    [InlineData(FhirSystems.Snomed, "21897009", "Generalized anxiety disorder", "active", "Generalized anxiety disorder")]
    [InlineData("http://ehr.example.org/problems", "X1", "Panic disorder without agoraphobia", "active", "Panic disorder without agoraphobia")]
    [InlineData(FhirSystems.Icd10Cm, "F41.1", "Generalized anxiety disorder", "resolved", null)]
    [InlineData("http://ehr.example.org/problems", "X2", "Anxious mood", "active", null)]
    public void Build_AnxietyCondition_DetectedWhenActive(string system, string code, string? display, string clinical, string? expected)
    {
        var s = Chart(Condition(Code(system, code, display ?? "Generalized anxiety disorder"), clinical)).Snapshot();

        Assert.Equal(expected, s.Anxiety);
    }

    // ---- medications -----------------------------------------------------------------------------------------------

    [Fact]
    public void Build_ContainedMedicationReference_Resolved()
    {
        var draft = Draft("d1", reference: "#med1", contained: Medication("med1", Text("Remeron 15 mg tablet")));

        var med = Assert.Single(Chart().Drafting(draft).Snapshot().Medications);

        Assert.Equal("Remeron 15 mg tablet", med.Name);
        Assert.Equal("mirtazapine", Assert.Single(med.Drugs).Ingredient);
        Assert.Equal("MedicationRequest/d1", med.ResourceId);
        Assert.Equal(MedicationOrigin.Draft, med.Origin);
    }

    [Fact]
    public void Build_BundleMedicationReference_Resolved()
    {
        var s = Chart()
            .Drafting(Medication("m1", Code(FhirSystems.RxNorm, "349332", "escitalopram 10 MG Oral Tablet")), Draft("d1", reference: "Medication/m1"))
            .Snapshot();

        var med = Assert.Single(s.Medications);
        Assert.Equal("escitalopram 10 MG Oral Tablet", med.Name);
        Assert.Equal("escitalopram", Assert.Single(med.Drugs).Ingredient);
    }

    [Theory]
    [InlineData("https://ehr.example.org/fhir/Medication/m1")]
    [InlineData("http://127.0.0.1:8090/fhir/Medication/m1")]
    [InlineData("urn:uuid:5b0c1a4e-2d4f-4f8e-9a39-7d3c2b1e0f77")]
    public void Build_AbsoluteOrFullUrlMedicationReference_Resolved(string reference)
    {
        var medication = Medication("m1", Text("Zoloft 50 mg tablet"));
        var s = Chart()
            .Drafting(new BundleEntry { FullUrl = reference.StartsWith("urn:", StringComparison.Ordinal) ? reference : null, Resource = medication })
            .Drafting(Draft("d1", reference: reference))
            .Snapshot();

        Assert.Equal("sertraline", Assert.Single(Assert.Single(s.Medications).Drugs).Ingredient);
    }

    [Fact]
    public void Build_StatementReferencingMedicationFromTheRecord_Resolved()
    {
        var s = Chart(Medication("m7", null, Code(FhirSystems.RxNorm, "32937", "paroxetine")), Taking(null, reference: "Medication/m7")).Snapshot();

        var med = Assert.Single(s.Medications);
        Assert.Equal("paroxetine", Assert.Single(med.Drugs).Ingredient);
        Assert.Equal(MedicationOrigin.Statement, med.Origin);
    }

    [Fact]
    public void Build_UnresolvableReferenceWithDisplay_ClassifiedFromTheDisplay()
    {
        // Epic and others send medicationReference with a display and no Medication in the search result.
        var s = Chart(Taking(null, reference: "Medication/eXk2", referenceDisplay: "sertraline (ZOLOFT) 50 MG tablet")).Snapshot();

        var med = Assert.Single(s.Medications);
        Assert.Equal("sertraline (ZOLOFT) 50 MG tablet", med.Name);
        Assert.Equal("sertraline", Assert.Single(med.Drugs).Ingredient);
    }

    [Fact]
    public void Build_UnresolvableReferenceWithoutDisplay_UnnamedAndUnclassified()
    {
        var med = Assert.Single(Chart().Drafting(Draft("d1", reference: "Medication/missing")).Snapshot().Medications);

        Assert.Equal("unnamed medication", med.Name);
        Assert.Empty(med.Drugs);
    }

    [Fact]
    public void Build_Selections_MarkOnlySelectedDrafts()
    {
        var s = Chart()
            .Drafting(Draft("d1", Text("sertraline 50 MG")), Draft("d2", Text("acetaminophen 500 MG")), new UnknownResource("NutritionOrder") { Id = "n1" })
            .Selecting("MedicationRequest/d2", "NutritionOrder/n1")
            .Snapshot();

        Assert.Collection(s.Medications,
            m => Assert.False(m.IsSelected),
            m => { Assert.True(m.IsSelected); Assert.Equal("MedicationRequest/d2", m.ResourceId); });
    }

    [Fact]
    public void Build_MedicationOrigins_CurrentPastAndGiven()
    {
        var s = Chart(
                ActiveOrder(Text("fluoxetine 20 MG"), "o1"),
                ActiveOrder(Text("paroxetine 20 MG"), "o2", status: "stopped"),
                ActiveOrder(Text("duloxetine 30 MG"), "o3", status: "on-hold"),
                Taking(Text("citalopram 20 MG")),
                Taking(Text("venlafaxine 75 MG"), status: "completed"),
                new MedicationAdministration { Id = "a1", Status = "completed", MedicationCodeableConcept = Text("iron sucrose 200 MG"), EffectiveDateTime = DaysAgo(20) },
                new MedicationAdministration { Id = "a2", Status = "not-done", MedicationCodeableConcept = Text("ferumoxytol 510 MG") })
            .Drafting(Draft("d1", Text("sertraline 50 MG")))
            .Snapshot();

        Assert.Equal(
            ["sertraline:Draft", "fluoxetine:ActiveOrder", "paroxetine:PastOrder", "citalopram:Statement", "venlafaxine:PastStatement", "iron sucrose:Administration"],
            s.Medications.Select(m => $"{m.Drugs[0].Ingredient}:{m.Origin}"));
        Assert.Equal(Now.AddDays(-20), s.Medications[^1].When);
        Assert.Equal(["sertraline", "fluoxetine", "citalopram"], s.Medications.Where(m => m.IsCurrent).Select(m => m.Drugs[0].Ingredient));
    }

    // ---- draft lab orders ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("2276-4", "draft", "ferritin")]
    [InlineData("20567-4", "active", "ferritin")]
    [InlineData("50190-8", "draft", "iron,tibc,tsat")]
    [InlineData("2502-3", "draft", "tsat")]
    [InlineData("2500-7", "active", "tibc")]
    [InlineData("2777-1", "draft", "phosphate")]
    [InlineData("718-7", "draft", "hemoglobin")]
    [InlineData("2276-4", "revoked", "")]
    [InlineData("2276-4", "entered-in-error", "")]
    public void Build_DraftServiceRequest_TheAnalytesItOrders(string loinc, string status, string expected)
    {
        var s = Chart().Drafting(LabOrder("sr1", loinc, status)).Snapshot();

        Assert.Equal(expected, string.Join(",", s.DraftedLabs.Select(CardKinds.FileName).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void Build_FerritinOrderInLocalCodeOnly_NotRecognised()
    {
        var order = LabOrder("sr1", "2276-4");
        order.Code = Code("http://lab.example.org/orders", "2276-4");

        Assert.Empty(Chart().Drafting(order).Snapshot().DraftedLabs);
    }

    [Fact]
    public void Build_NoDrafts_NothingDrafted()
    {
        Assert.Empty(Chart().Snapshot().DraftedLabs);
    }

    // ---- patient ---------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("1980-05-05", 46)]
    [InlineData("2008-11-21", 18)]
    [InlineData("2008-11-22", 17)]
    [InlineData("2016-04-02", 10)]
    [InlineData(null, null)]
    [InlineData("unknown", null)]
    public void Build_BirthDate_GivesAgeOnTheDay(string? birthDate, int? age)
    {
        Assert.Equal(age, Chart(Patient(birthDate)).Snapshot().AgeYears);
    }

    [Fact]
    public void Build_NoPatientResource_AgeUnknown()
    {
        Assert.Null(Chart().WithoutPatient().Snapshot().AgeYears);
    }

    [Fact]
    public void Build_DataGaps_PassedThrough()
    {
        var s = Chart().Missing(DataArea.CrpHemoglobin).Missing(DataArea.Medications, partial: true).Snapshot();

        Assert.Equal([(DataArea.CrpHemoglobin, false), (DataArea.Medications, true)], s.Gaps.Select(g => (g.Area, g.Partial)));
    }

    // ---- realistic fixtures ----------------------------------------------------------------------------------------

    private static PatientSnapshot FixtureSnapshot(string file) => new SnapshotBuilder(RlsKnowledge.Default).Build(FromFixture(file).Record, Now);

    [Fact]
    public void Fixture_FerritinInPicomolar_ConvertedAndTsatReported()
    {
        var s = FixtureSnapshot("patient-view-ferritin-pmol.json");

        Assert.Equal(89m, s.Lab(Analyte.Ferritin)!.Value);
        Assert.Equal("200 pmol/L", s.Lab(Analyte.Ferritin)!.ReportedAs);
        Assert.False(s.Lab(Analyte.Tsat)!.Derived);
        Assert.Equal(25m, s.Lab(Analyte.Tsat)!.Value);
    }

    [Fact]
    public void Fixture_NewestFerritinEnteredInError_OlderUsed()
    {
        var s = FixtureSnapshot("patient-view-newest-ferritin-entered-in-error.json");

        Assert.Equal(90m, s.Lab(Analyte.Ferritin)!.Value);
        Assert.Equal(new DateTimeOffset(2026, 8, 18, 12, 1, 0, TimeSpan.Zero), s.Lab(Analyte.Ferritin)!.When);
    }

    [Fact]
    public void Fixture_FerritinUnknownUnit_SkippedAndSaid()
    {
        var s = FixtureSnapshot("patient-view-ferritin-unknown-unit.json");

        Assert.Null(s.Lab(Analyte.Ferritin));
        Assert.Contains("unit 'U/mL' cannot be read as ng/mL", Assert.Single(s.Skipped));
    }

    [Fact]
    public void Fixture_RemeronInContainedMedication_SelectedMirtazapine()
    {
        var meds = FixtureSnapshot("order-select-remeron-contained-medication.json").Medications;

        var med = Assert.Single(meds, m => m.Origin == MedicationOrigin.Draft);
        Assert.True(med.IsSelected);
        Assert.Equal("Remeron 15 mg tablet", med.Name);
        Assert.Equal(DrugClass.Mirtazapine, Assert.Single(med.Drugs).Class);
    }

    [Fact]
    public void Fixture_NutritionOrderAndAmoxicillin_NothingRecognised()
    {
        var (request, record) = FromFixture("order-select-nutrition-order-and-amoxicillin.json");

        Assert.IsType<UnknownResource>(request.Context!.DraftOrders!.Entry![0].Resource);
        var med = Assert.Single(new SnapshotBuilder(RlsKnowledge.Default).Build(record, Now).Medications);
        Assert.Empty(med.Drugs);
        Assert.True(med.IsSelected);
    }

    [Fact]
    public void Fixture_IronPanelAlreadyDrafted_Recognised()
    {
        Assert.Contains(Analyte.Tsat, FixtureSnapshot("order-select-iron-panel-already-drafted.json").DraftedLabs);
    }

    [Fact]
    public void Fixture_Child_AgeTen()
    {
        Assert.Equal(10, FixtureSnapshot("patient-view-child-low-iron.json").AgeYears);
    }
}
