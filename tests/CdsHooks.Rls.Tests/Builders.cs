using System.Globalization;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Snapshot;
using CdsHooks.Testing;

namespace CdsHooks.Rls.Tests;

/// <summary>
/// Small builders for the FHIR resources and patient records the tests need, so each test states only what
/// matters to it. Dates are relative to <see cref="Now"/>, the fixtures' fixed clock.
/// </summary>
public static class Records
{
    public static readonly DateTimeOffset Now = FixedTimeProvider.FixtureDate;

    public const string FerritinLoinc = "2276-4";
    public const string TsatLoinc = "2502-3";
    public const string IronLoinc = "2498-4";
    public const string TibcLoinc = "2500-7";
    public const string CrpLoinc = "1988-5";
    public const string HemoglobinLoinc = "718-7";

    /// <summary>A dateTime <paramref name="days"/> before <see cref="Now"/>, as a lab would send it (with an offset).</summary>
    public static string DaysAgo(int days) => Now.AddDays(-days).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    public static CodeableConcept Code(string system, string code, string? display = null) => new() { Coding = [new Coding(system, code, display)] };

    public static CodeableConcept Text(string text) => new() { Text = text };

    // ---- Observations ----------------------------------------------------------------------------------------------

    /// <summary>A lab result coded in LOINC with a UCUM quantity (or only a human-readable unit when <paramref name="ucum"/> is false).</summary>
    public static Observation Lab(string loinc, decimal? value, string? unit, int? daysAgo = 30, string? status = "final",
        string? comparator = null, string? issued = null, bool ucum = true) => new()
        {
            Status = status,
            Code = Code(FhirSystems.Loinc, loinc),
            EffectiveDateTime = daysAgo is null ? null : DaysAgo(daysAgo.Value),
            Issued = issued,
            ValueQuantity = value is null && unit is null ? null : new Quantity
            {
                Value = value,
                Comparator = comparator,
                Unit = unit,
                System = ucum && unit is not null ? FhirSystems.Ucum : null,
                Code = ucum ? unit : null,
            },
        };

    public static Observation Ferritin(decimal value, string unit = "ng/mL", int daysAgo = 30, string status = "final", string? comparator = null) =>
        Lab(FerritinLoinc, value, unit, daysAgo, status, comparator);

    public static Observation Tsat(decimal value, int daysAgo = 30) => Lab(TsatLoinc, value, "%", daysAgo);

    public static Observation Iron(decimal value, int daysAgo = 30, string? comparator = null) => Lab(IronLoinc, value, "ug/dL", daysAgo, comparator: comparator);

    public static Observation Tibc(decimal value, int daysAgo = 30) => Lab(TibcLoinc, value, "ug/dL", daysAgo);

    public static Observation Crp(decimal value, string unit = "mg/L", int daysAgo = 30) => Lab(CrpLoinc, value, unit, daysAgo);

    // ---- Conditions ------------------------------------------------------------------------------------------------

    public static Condition Condition(CodeableConcept code, string? clinical = "active", string? verification = null, string? abatement = null) => new()
    {
        Code = code,
        ClinicalStatus = clinical is null ? null : Code(FhirSystems.ConditionClinical, clinical),
        VerificationStatus = verification is null ? null : Code(FhirSystems.ConditionVerification, verification),
        AbatementDateTime = abatement,
    };

    public static Condition RlsDiagnosis(string? clinical = "active") => Condition(Code(FhirSystems.Snomed, "32914008", "Restless legs"), clinical);

    public static Condition AnxietyDiagnosis(string? clinical = "active") => Condition(Code(FhirSystems.Icd10Cm, "F41.1", "Generalized anxiety disorder"), clinical);

    // ---- Medications -----------------------------------------------------------------------------------------------

    public static MedicationRequest Draft(string id, CodeableConcept? medication = null, string? reference = null, params Resource[] contained) => new()
    {
        Id = id,
        Status = "draft",
        Intent = "order",
        MedicationCodeableConcept = medication,
        MedicationReference = reference is null ? null : new Reference(reference),
        Contained = contained.Length == 0 ? null : [.. contained],
    };

    public static MedicationRequest ActiveOrder(CodeableConcept medication, string id = "order-1", string status = "active") => new()
    {
        Id = id,
        Status = status,
        Intent = "order",
        MedicationCodeableConcept = medication,
    };

    public static MedicationStatement Taking(CodeableConcept? medication, string status = "active", string? reference = null, string? referenceDisplay = null) => new()
    {
        Status = status,
        MedicationCodeableConcept = medication,
        MedicationReference = reference is null && referenceDisplay is null ? null : new Reference { ReferenceValue = reference, Display = referenceDisplay },
    };

    public static Medication Medication(string id, CodeableConcept? code, params CodeableConcept[] ingredients) => new()
    {
        Id = id,
        Code = code,
        Ingredient = ingredients.Length == 0 ? null : [.. ingredients.Select(i => new MedicationIngredient { ItemCodeableConcept = i })],
    };

    public static ServiceRequest LabOrder(string id, string loinc, string status = "draft") => new()
    {
        Id = id,
        Status = status,
        Intent = "order",
        Code = Code(FhirSystems.Loinc, loinc),
    };

    public static Patient Patient(string? birthDate) => new() { Id = "p1", BirthDate = birthDate };

    /// <summary>A patient record: an adult (born 1980-05-05, 46 at <see cref="Now"/>) unless a Patient is among the resources.</summary>
    public static RecordBuilder Chart(params Resource[] resources) => new RecordBuilder().With(resources);

    /// <summary>The patient record a fixture request carries in its prefetch and context (what the host would gather).</summary>
    public static (CdsRequest Request, PatientRecord Record) FromFixture(string requestFile)
    {
        var request = FixtureFiles.LoadRequest("requests/" + requestFile);
        var builder = new RecordBuilder();
        foreach (var resource in (request.Prefetch ?? []).Values)
        {
            if (resource is Bundle bundle) builder.With([.. bundle.ResourcesOf<Resource>()]);
            else if (resource is not null) builder.With(resource);
        }
        var context = request.Context!;
        builder.PatientId = context.PatientId!;
        if (context.DraftOrders is { } drafts) builder.Drafts = drafts;
        builder.Selecting([.. context.Selections ?? []]);
        return (request, builder.Build());
    }
}

/// <summary>Collects resources into a <see cref="PatientRecord"/>, sorted by type with the host's own <see cref="PatientRecord.FromResources"/>.</summary>
public sealed class RecordBuilder
{
    private readonly List<Resource> _resources = [];
    private readonly List<string> _selections = [];
    private readonly List<DataGap> _gaps = [];
    private Patient? _patient = Records.Patient("1980-05-05");

    public string PatientId { get; set; } = "p1";

    public Bundle? Drafts { get; set; }

    public RecordBuilder With(params Resource[] resources)
    {
        foreach (var resource in resources)
        {
            if (!PatientRecord.Holds(resource)) throw new ArgumentException($"A {resource.ResourceType} does not belong in a patient record; use Drafting for draft orders.");
            if (resource is Patient p) _patient = p;
            else _resources.Add(resource);
        }
        return this;
    }

    public RecordBuilder WithoutPatient()
    {
        _patient = null;
        return this;
    }

    /// <summary>Adds draft orders to <c>context.draftOrders</c> (fullUrl "Type/id", as the Sandbox sends).</summary>
    public RecordBuilder Drafting(params Resource[] drafts)
    {
        Drafts ??= new Bundle { Type = "collection", Entry = [] };
        foreach (var d in drafts) Drafts.Entry!.Add(new BundleEntry { FullUrl = d.TypedId, Resource = d });
        return this;
    }

    public RecordBuilder Drafting(BundleEntry entry)
    {
        Drafts ??= new Bundle { Type = "collection", Entry = [] };
        Drafts.Entry!.Add(entry);
        return this;
    }

    public RecordBuilder Selecting(params string[] typedIds)
    {
        _selections.AddRange(typedIds);
        return this;
    }

    /// <summary>Data of <paramref name="area"/> that could not be read (whole, or in part).</summary>
    public RecordBuilder Missing(DataArea area, bool partial = false, string why = "the FHIR server failed (503)")
    {
        _gaps.Add(new DataGap(area, partial, why, "key", "transient", "diagnostics"));
        return this;
    }

    public PatientRecord Build() =>
        PatientRecord.FromResources(PatientId, _patient is null ? _resources : [_patient, .. _resources], Drafts, _selections, _gaps);

    public PatientSnapshot Snapshot(RlsKnowledge? knowledge = null) => new SnapshotBuilder(knowledge ?? RlsKnowledge.Default).Build(Build(), Records.Now);
}

/// <summary>Patient snapshots built directly, for the rules and cards: no FHIR in between.</summary>
public static class Snapshots
{
    /// <summary>A lab value as a lab reports it: "75", "&lt;10", "&gt;50", "&lt;=20".</summary>
    public static LabResult Lab(Analyte analyte, string reported, int daysAgo = 30)
    {
        int digits = 0;
        while (digits < reported.Length && reported[digits] is '<' or '>' or '=') digits++;
        var comparator = digits == 0 ? null : reported[..digits];
        var value = decimal.Parse(reported[digits..], NumberStyles.Number, CultureInfo.InvariantCulture);
        var unit = RlsKnowledge.Default.CanonicalUnit(analyte);
        return new LabResult(analyte, value, comparator, unit, Records.Now.AddDays(-daysAgo), CardKinds.FileName(analyte), null,
            SourceId: $"Observation/{CardKinds.FileName(analyte)}-{daysAgo}");
    }

    /// <summary>
    /// A snapshot of an adult (46, sex unknown) with RLS. Ferritin and TSAT are given as reported ("30", "&lt;10"), all
    /// from <paramref name="labDaysAgo"/>; any other result (CRP, phosphate, an older ferritin) goes in
    /// <paramref name="labs"/>. Nothing is missing unless <paramref name="gaps"/> says so.
    /// </summary>
    public static PatientSnapshot Of(
        string? ferritin = null,
        string? tsat = null,
        int? age = 46,
        bool rls = true,
        int labDaysAgo = 30,
        bool ironStudiesOrdered = false,
        string? anxiety = null,
        IReadOnlyList<LabResult>? labs = null,
        IReadOnlyList<string>? skipped = null,
        IReadOnlyList<DataGap>? gaps = null,
        IReadOnlyList<MedicationFact>? medications = null,
        IReadOnlyList<ConditionFact>? conditions = null,
        IReadOnlyList<AllergyFact>? allergies = null,
        PregnancyFact? pregnancy = null,
        Sex sex = Sex.Unknown,
        string? phosphate = null)
    {
        var latest = new Dictionary<Analyte, LabResult>();
        if (ferritin is not null) latest[Analyte.Ferritin] = Lab(Analyte.Ferritin, ferritin, labDaysAgo);
        if (tsat is not null) latest[Analyte.Tsat] = Lab(Analyte.Tsat, tsat, labDaysAgo);
        if (phosphate is not null) latest[Analyte.Phosphate] = Lab(Analyte.Phosphate, phosphate, labDaysAgo);
        foreach (var lab in labs ?? []) latest[lab.Analyte] = lab;
        return new PatientSnapshot
        {
            PatientId = "p1",
            Now = Records.Now,
            AgeYears = age,
            AgeUnknownWhy = age is null ? "no birth date recorded" : null,
            Sex = sex,
            Rls = rls ? new RlsEvidence("Restless legs (diagnosis)", FromCondition: true) : null,
            Anxiety = anxiety,
            Conditions = conditions ?? [],
            Latest = latest,
            Skipped = skipped ?? [],
            Gaps = gaps ?? [],
            Medications = medications ?? [],
            Allergies = allergies ?? [],
            Pregnancy = pregnancy ?? PregnancyFact.None,
            DraftedLabs = ironStudiesOrdered ? new HashSet<Analyte> { Analyte.Ferritin, Analyte.Tsat } : new HashSet<Analyte>(),
        };
    }

    public static DataGap Gap(DataArea area, bool partial = false, string why = "the FHIR server failed (503)") => new(area, partial, why, "key", "transient", "diagnostics");

    public static ConditionFact Condition(ConditionKind kind, string display = "a condition") => new(kind, display, new ConditionMatch(kind), null);

    /// <summary>A medication with one recognised drug. Drafts get a "MedicationRequest/{id}" resource id.</summary>
    public static MedicationFact Med(string ingredient, DrugClass cls, MedicationOrigin origin = MedicationOrigin.Draft, bool selected = true, string? id = null,
        string? name = null, int? daysAgo = null) =>
        new(name ?? ingredient + " 50 MG Oral Tablet", [new DrugMatch(ingredient, cls, "test", RlsKnowledge.Default.DrugsByIngredient.GetValueOrDefault(ingredient))], origin,
            origin == MedicationOrigin.Draft ? "MedicationRequest/" + (id ?? ingredient.Replace(' ', '-')) : id, origin == MedicationOrigin.Draft && selected,
            daysAgo is { } d ? Records.Now.AddDays(-d) : null);
}
