using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Fhir;

namespace CdsHooks.Fhir.Tests;

/// <summary>
/// A Bundle holding each resource type of the model with every element set, written by the model's own writer:
/// the fixtures leave some elements out (deceasedBoolean, abatementString, issue.expression, ...), and the
/// differential tests must reach every branch of the reader. A DSTU2 MedicationOrder is added under its DSTU2 names.
/// </summary>
internal static class EveryElement
{
    public static string Json()
    {
        var bundle = JsonNode.Parse(JsonSerializer.Serialize(Bundle(), FhirJson.ResourceInfo))!;
        // The model writes a MedicationOrder in the R4 shape it holds it in: the DSTU2 one is written under its own names.
        var order = JsonSerializer.SerializeToNode(Dstu2Order(), Dstu2Options.GetTypeInfo(typeof(Dstu2MedicationOrder)));
        bundle["entry"]!.AsArray().Add(new JsonObject { ["fullUrl"] = "urn:uuid:mo1", ["resource"] = order });
        return bundle.ToJsonString();
    }

    private static readonly JsonSerializerOptions Dstu2Options = Dstu2MedicationOrder.WithDstu2(FhirJson.Options);

    private static Dstu2MedicationOrder Dstu2Order() => new()
    {
        Id = "mo1", Meta = Meta(), Text = Narrative(), Contained = [Medication()], Status = "draft", MedicationCodeableConcept = Concept("312940"),
        MedicationReference = new Reference("#med1"), Patient = Reference(), DateWritten = "2026-11-20", DosageInstruction = [Dosage()],
        ReasonCodeableConcept = Concept("anxiety"), Note = "for sleep",
    };

    private static Bundle Bundle() => new()
    {
        Id = "b1",
        Meta = Meta(),
        Type = "searchset",
        Total = 11,
        Link = [new BundleLink { Relation = "next", Url = "https://ehr.example/fhir/Observation?page=2" }],
        Entry =
        [
            Entry(new Patient { Id = "p1", Meta = Meta(), Text = Narrative(), Gender = "female", BirthDate = "1961-04-02", DeceasedBoolean = false, DeceasedDateTime = "2026-01-02" }),
            Entry(new Observation
            {
                Id = "o1", Meta = Meta(), Text = Narrative(), Status = "final", Category = [Concept("laboratory")], Code = Concept("2276-4"),
                Subject = Reference(), EffectiveDateTime = "2026-10-01T08:00:00Z", EffectivePeriod = Period(), EffectiveInstant = "2026-10-01T08:00:00.000Z",
                Issued = "2026-10-01T09:00:00Z", ValueQuantity = new Quantity { Value = 74.950000000001m, Comparator = "<", Unit = "ng/mL", System = FhirSystems.Ucum, Code = "ng/mL" },
                ValueString = "see note", ValueCodeableConcept = Concept("L"), ValueDateTime = "2027-05-02", DataAbsentReason = Concept("not-performed"),
            }),
            Entry(new Condition
            {
                Id = "c1", Text = Narrative(), ClinicalStatus = Concept("active"), VerificationStatus = Concept("confirmed"), Category = [Concept("problem-list-item")],
                Code = Concept("32914008"), Subject = Reference(), OnsetDateTime = "2019", OnsetPeriod = Period(), OnsetString = "childhood",
                RecordedDate = "2020-02-03", AbatementDateTime = "2024-05-06", AbatementString = "in remission",
            }),
            Entry(new MedicationRequest
            {
                Id = "m1", Meta = Meta(), Text = Narrative(), Contained = [Medication()], Status = "draft", MedicationCodeableConcept = Concept("312940"),
                MedicationReference = new Reference("#med1"), Subject = Reference(), Intent = "order", Encounter = new Reference("Encounter/e1"), AuthoredOn = "2026-11-20",
                DosageInstruction = [Dosage()], ReasonCode = [Concept("anxiety")], ReasonReference = [new Reference("Observation/o1") { Display = "ferritin 30 ng/mL" }],
                Note = [new Annotation { Text = "for sleep" }],
            }),
            Entry(new MedicationStatement
            {
                Id = "s1", Status = "active", MedicationCodeableConcept = Concept("1099288"), MedicationReference = Reference(), Subject = Reference(),
                EffectiveDateTime = "2026-03-01", EffectivePeriod = Period(), DateAsserted = "2026-03-02", Dosage = [Dosage()],
            }),
            Entry(Medication()),
            Entry(new MedicationAdministration
            {
                Id = "ma1", Meta = Meta(), Text = Narrative(), Contained = [Medication()], Status = "completed", MedicationCodeableConcept = Concept("1435169"),
                MedicationReference = new Reference("#med1"), Subject = Reference(), EffectiveDateTime = "2026-10-02T09:30:00Z", EffectivePeriod = Period(),
            }),
            Entry(new AllergyIntolerance
            {
                Id = "ai1", Meta = Meta(), Text = Narrative(), ClinicalStatus = Concept("active"), VerificationStatus = Concept("confirmed"),
                Type = "allergy", Category = ["medication", "biologic"], Criticality = "high", Code = Concept("iron dextran"), Patient = Reference(),
                OnsetDateTime = "2019-06", RecordedDate = "2019-06-03", LastOccurrence = "2019-06-01",
                Reaction = [new AllergyReaction { Substance = Concept("iron dextran"), Manifestation = [Concept("anaphylaxis"), Concept("urticaria")], Description = "collapsed during infusion", Severity = "severe" }],
            }),
            Entry(new ServiceRequest
            {
                Id = "sr1", Meta = Meta(), Text = Narrative(), Contained = [new Patient { Id = "cp" }], Status = "draft", Intent = "proposal",
                Category = [Concept("108252007")], Priority = "routine", Code = Concept("2276-4"), Subject = Reference(), Encounter = new Reference("Encounter/e1"),
                AuthoredOn = "2026-11-21", Requester = new Reference("Practitioner/pr1"), ReasonCode = [Concept("32914008")], ReasonReference = [new Reference("Observation/o1")],
                Note = [new Annotation { Text = "fasting" }], PatientInstruction = "Morning draw.",
            }),
            Entry(new OperationOutcome
            {
                Id = "oo1",
                Issue = [new OperationOutcomeIssue { Severity = "error", Code = "timeout", Details = Concept("MSG_TIMEOUT"), Diagnostics = "slow", Expression = ["Observation.code", "Observation.value"] }],
            }),
            Entry(new UnknownResource("NutritionOrder") { Id = "n1" }),
            new BundleEntry { FullUrl = "urn:uuid:empty" },
        ],
    };

    private static BundleEntry Entry(Resource resource) => new() { FullUrl = "urn:uuid:" + resource.Id, Resource = resource };

    private static Medication Medication() => new()
    {
        Id = "med1", Meta = Meta(), Text = Narrative(), Code = Concept("312940"), Status = "active", Form = Concept("tablet"),
        Ingredient =
        [
            new MedicationIngredient { ItemCodeableConcept = Concept("36437"), IsActive = true },
            new MedicationIngredient { ItemReference = new Reference("Substance/s1") { Type = "Substance", Display = "sertraline" }, IsActive = false },
        ],
    };

    private static Dosage Dosage() => new() { Text = "1 tablet daily", PatientInstruction = "with food", Route = Concept("26643006") };

    private static CodeableConcept Concept(string code) => new()
    {
        Coding = [new Coding(FhirSystems.Snomed, code, "display of " + code) { Version = "2026-03" }, new Coding(FhirSystems.Loinc, code)],
        Text = "text of " + code,
    };

    private static Reference Reference() => new("Patient/p1") { Type = "Patient", Display = "Pat Example" };

    private static Period Period() => new() { Start = "2026-01-01", End = "2026-02-01" };

    private static Meta Meta() => new() { VersionId = "3", LastUpdated = "2026-11-20T10:00:00Z" };

    private static Narrative Narrative() => new() { Status = "generated", Div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">text</div>" };
}
