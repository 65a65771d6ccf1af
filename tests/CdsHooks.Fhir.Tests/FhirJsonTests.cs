using System.Text.Json;
using CdsHooks.Fhir;
using CdsHooks.Protocol;

namespace CdsHooks.Fhir.Tests;

/// <summary>
/// Reading and writing FHIR R4 JSON through <see cref="CdsJson.Options"/>, the options every serializer of the service uses.
/// The JSON here is the subject under test, so it is written inline, one small document per case.
/// </summary>
public sealed class FhirJsonTests
{
    private static Resource Read(string json) =>
        JsonSerializer.Deserialize<Resource>(json, CdsJson.Options) ?? throw new InvalidOperationException("null resource");

    private static T Read<T>(string json) where T : Resource => Assert.IsType<T>(Read(json));

    private static string Write(Resource resource) => JsonSerializer.Serialize(resource, CdsJson.Options);

    // ---- resourceType dispatch -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("Bundle", typeof(Bundle))]
    [InlineData("Patient", typeof(Patient))]
    [InlineData("Observation", typeof(Observation))]
    [InlineData("Condition", typeof(Condition))]
    [InlineData("MedicationRequest", typeof(MedicationRequest))]
    [InlineData("MedicationStatement", typeof(MedicationStatement))]
    [InlineData("Medication", typeof(Medication))]
    [InlineData("ServiceRequest", typeof(ServiceRequest))]
    [InlineData("OperationOutcome", typeof(OperationOutcome))]
    public void ResourceJsonConverter_ResourceTypeLastInObject_ReadsConcreteType(string resourceType, Type expected)
    {
        var resource = Read($$"""{"id": "x1", "meta": {"versionId": "3"}, "resourceType": "{{resourceType}}"}""");

        Assert.IsType(expected, resource);
        Assert.Equal(resourceType, resource.ResourceType);
        Assert.Equal("x1", resource.Id);
        Assert.Equal("3", resource.Meta?.VersionId);
    }

    [Fact]
    public void ResourceJsonConverter_ResourceTypeAfterElements_ReadsEveryElement()
    {
        var obs = Read<Observation>("""
            {"status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2276-4"}]},
             "valueQuantity": {"value": 42, "unit": "ng/mL"}, "id": "f1", "resourceType": "Observation"}
            """);

        Assert.Equal("final", obs.Status);
        Assert.True(obs.Code!.Has(FhirSystems.Loinc, "2276-4"));
        Assert.Equal(42m, obs.ValueQuantity!.Value);
    }

    [Fact]
    public void ResourceJsonConverter_NestedResourceTypeBeforeOwn_UsesTopLevelType()
    {
        // The contained Medication's resourceType comes first in the text; only the top level decides the type.
        var request = Read<MedicationRequest>("""
            {"contained": [{"resourceType": "Medication", "id": "med1"}], "id": "r1", "resourceType": "MedicationRequest",
             "medicationReference": {"reference": "#med1"}}
            """);

        Assert.Equal("r1", request.Id);
        Assert.IsType<Medication>(Assert.Single(request.Contained!));
    }

    [Fact]
    public void ResourceJsonConverter_NutritionOrder_BecomesUnknownResourceWithId()
    {
        var resource = Read("""
            {"resourceType": "NutritionOrder", "id": "diet-1", "status": "draft", "intent": "order",
             "oralDiet": {"type": [{"text": "Low sodium"}], "schedule": [{"repeat": {"frequency": 3}}]}}
            """);

        var unknown = Assert.IsType<UnknownResource>(resource);
        Assert.Equal("NutritionOrder", unknown.ResourceType);
        Assert.Equal("diet-1", unknown.Id);
        Assert.Equal("NutritionOrder/diet-1", unknown.TypedId);
    }

    [Fact]
    public void ResourceJsonConverter_UnknownResourceIdAfterLargeElement_KeepsId()
    {
        var resource = Read("""{"resourceType": "DeviceRequest", "codeCodeableConcept": {"coding": [{"code": "x"}], "text": "[deep {nesting}]"}, "id": "dr-7"}""");

        Assert.Equal("DeviceRequest/dr-7", resource.TypedId);
    }

    [Fact]
    public void ResourceJsonConverter_UnknownResourceInBundle_LaterEntriesStillRead()
    {
        var bundle = Read<Bundle>("""
            {"resourceType": "Bundle", "entry": [
              {"resource": {"resourceType": "NutritionOrder", "id": "n1", "oralDiet": {"type": [{"text": "diet"}]}}},
              {"resource": {"resourceType": "MedicationRequest", "id": "m1", "status": "draft"}}
            ]}
            """);

        Assert.Collection(bundle.Entry!,
            e => Assert.Equal("NutritionOrder/n1", e.Resource!.TypedId),
            e => Assert.Equal("draft", Assert.IsType<MedicationRequest>(e.Resource).Status));
    }

    [Theory]
    [InlineData("""{"id": "x"}""")]
    [InlineData("""{"resourceType": 7, "id": "x"}""")]
    [InlineData("""{"resourceType": null}""")]
    [InlineData("""{"contained": [{"resourceType": "Medication"}]}""")]
    [InlineData("""["Observation"]""")]
    [InlineData("\"Observation\"")]
    public void ResourceJsonConverter_NoTopLevelResourceType_ThrowsJsonException(string json)
    {
        Assert.ThrowsAny<JsonException>(() => Read(json));
    }

    [Fact]
    public void ResourceJsonConverter_UnknownResource_WritesTypeAndIdOnly()
    {
        var json = Write(new UnknownResource("NutritionOrder") { Id = "n1" });

        Assert.Equal("""{"resourceType":"NutritionOrder","id":"n1"}""", json);
    }

    // ---- tolerance -------------------------------------------------------------------------------------------------

    [Fact]
    public void TolerantListConverter_CategoryAndCodingAsSingleObjects_ReadAsOneItemLists()
    {
        var obs = Read<Observation>("""
            {"resourceType": "Observation", "category": {"coding": {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}},
             "code": {"coding": {"system": "http://loinc.org", "code": "2502-3"}}}
            """);

        Assert.Equal("laboratory", Assert.Single(Assert.Single(obs.Category!).Coding!).Code);
        Assert.True(obs.Code!.Has(FhirSystems.Loinc, "2502-3"));
    }

    [Fact]
    public void TolerantListConverter_DosageInstructionAsSingleObject_ReadsOneDosage()
    {
        // The HL7 order-select example sends dosageInstruction (and doseAndRate) as objects.
        var request = Read<MedicationRequest>("""
            {"resourceType": "MedicationRequest", "dosageInstruction": {"text": "1 tablet daily", "doseAndRate": {"type": {"text": "ordered"}}},
             "note": {"text": "for sleep"}, "reasonCode": {"text": "insomnia"}}
            """);

        Assert.Equal("1 tablet daily", Assert.Single(request.DosageInstruction!).Text);
        Assert.Equal("for sleep", Assert.Single(request.Note!).Text);
        Assert.Equal("insomnia", Assert.Single(request.ReasonCode!).Text);
    }

    [Fact]
    public void TolerantListConverter_BundleEntryLinkAndContainedAsSingleObjects_ReadAsLists()
    {
        var bundle = Read<Bundle>("""
            {"resourceType": "Bundle", "link": {"relation": "next", "url": "https://ehr.example/fhir?page=2"},
             "entry": {"resource": {"resourceType": "MedicationRequest", "id": "m1",
                                    "contained": {"resourceType": "Medication", "id": "med1"}}}}
            """);

        Assert.Equal("https://ehr.example/fhir?page=2", bundle.NextLink());
        var request = Assert.IsType<MedicationRequest>(Assert.Single(bundle.Entry!).Resource);
        Assert.IsType<Medication>(request.FindContained("#med1"));
    }

    [Fact]
    public void TolerantListConverter_EmptyArray_ReadsEmptyList()
    {
        var obs = Read<Observation>("""{"resourceType": "Observation", "category": []}""");

        Assert.NotNull(obs.Category);
        Assert.Empty(obs.Category);
    }

    [Fact]
    public void ResourceJsonConverter_UnknownElementsAndExtensions_AreIgnored()
    {
        var obs = Read<Observation>("""
            {"resourceType": "Observation", "id": "o1",
             "extension": [{"url": "http://example.org/ext", "valueString": "x"}],
             "_status": {"extension": [{"url": "http://example.org/why", "valueCode": "late"}]},
             "status": "final",
             "interpretation": [{"coding": [{"code": "L"}]}],
             "referenceRange": [{"low": {"value": 15}, "high": {"value": 150}, "text": "15-150"}],
             "performer": [{"reference": "Organization/lab"}],
             "valueQuantity": {"value": 12, "unit": "ng/mL", "extension": [{"url": "u", "valueBoolean": true}]},
             "note": [{"text": "hemolysed"}]}
            """);

        Assert.Equal("final", obs.Status);
        Assert.Equal(12m, obs.ValueQuantity!.Value);
    }

    // ---- choice types ----------------------------------------------------------------------------------------------

    [Fact]
    public void Observation_ValueQuantityWithComparator_ReadsValueUnitAndComparator()
    {
        var obs = Read<Observation>("""
            {"resourceType": "Observation", "valueQuantity": {"value": 10, "comparator": "<", "unit": "ng/mL", "system": "http://unitsofmeasure.org", "code": "ng/mL"}}
            """);

        Assert.Equal(10m, obs.ValueQuantity!.Value);
        Assert.Equal("<", obs.ValueQuantity.Comparator);
        Assert.Equal("ng/mL", obs.ValueQuantity.Code);
        Assert.Null(obs.ValueString);
    }

    [Fact]
    public void Observation_ValueString_ReadsStringAndNoQuantity()
    {
        var obs = Read<Observation>("""{"resourceType": "Observation", "valueString": "see comment"}""");

        Assert.Equal("see comment", obs.ValueString);
        Assert.Null(obs.ValueQuantity);
    }

    [Fact]
    public void Observation_DecimalValueWithManyDigits_KeepsPrecision()
    {
        var obs = Read<Observation>("""{"resourceType": "Observation", "valueQuantity": {"value": 74.950000000001}}""");

        Assert.Equal(74.950000000001m, obs.ValueQuantity!.Value);
    }

    [Theory]
    // effectiveDateTime wins over everything else.
    [InlineData("2026-10-01T08:00:00Z", null, null, null, "2026-11-01T00:00:00Z", "2026-10-01T08:00:00Z")]
    // effectiveInstant next.
    [InlineData(null, "2026-10-02T09:30:00.000Z", "2026-09-01", "2026-09-02", "2026-11-01T00:00:00Z", "2026-10-02T09:30:00Z")]
    // effectivePeriod: its end, then its start.
    [InlineData(null, null, "2026-10-03T07:00:00Z", "2026-10-03T07:30:00Z", "2026-11-01T00:00:00Z", "2026-10-03T07:30:00Z")]
    [InlineData(null, null, "2026-10-03T07:00:00Z", null, "2026-11-01T00:00:00Z", "2026-10-03T07:00:00Z")]
    // issued only when there is no effective[x].
    [InlineData(null, null, null, null, "2026-10-04T13:00:00.000-05:00", "2026-10-04T18:00:00Z")]
    // An unreadable effectiveDateTime falls through to the next source.
    [InlineData("last Tuesday", null, null, null, "2026-10-05T00:00:00Z", "2026-10-05T00:00:00Z")]
    // Nothing at all.
    [InlineData(null, null, null, null, null, null)]
    public void Observation_When_PrefersEffectiveThenIssued(string? dateTime, string? instant, string? periodStart, string? periodEnd, string? issued, string? expected)
    {
        var obs = new Observation
        {
            EffectiveDateTime = dateTime,
            EffectiveInstant = instant,
            EffectivePeriod = periodStart is null && periodEnd is null ? null : new Period { Start = periodStart, End = periodEnd },
            Issued = issued,
        };

        Assert.Equal(expected is null ? null : DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), obs.When());
    }

    [Fact]
    public void Observation_EffectivePeriodFromJson_ReadsStartAndEnd()
    {
        var obs = Read<Observation>("""
            {"resourceType": "Observation", "effectivePeriod": {"start": "2026-10-03T07:00:00Z", "end": "2026-10-03T07:30:00Z"}, "issued": "2026-10-04T00:00:00Z"}
            """);

        Assert.Equal(new DateTimeOffset(2026, 10, 3, 7, 30, 0, TimeSpan.Zero), obs.When());
    }

    [Fact]
    public void MedicationRequest_MedicationCodeableConcept_ReadsConceptAndNoReference()
    {
        var request = Read<MedicationRequest>("""
            {"resourceType": "MedicationRequest", "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "312940", "display": "sertraline 50 MG Oral Tablet"}]}}
            """);

        Assert.Equal("sertraline 50 MG Oral Tablet", request.MedicationCodeableConcept!.DisplayText());
        Assert.Null(request.MedicationReference);
    }

    [Fact]
    public void MedicationStatement_MedicationReference_ReadsReferenceAndNoConcept()
    {
        var statement = Read<MedicationStatement>("""
            {"resourceType": "MedicationStatement", "status": "active", "medicationReference": {"reference": "Medication/m1", "display": "Zoloft"}}
            """);

        Assert.Equal("Medication/m1", statement.MedicationReference!.ReferenceValue);
        Assert.Equal("Zoloft", statement.MedicationReference.Display);
        Assert.Null(statement.MedicationCodeableConcept);
    }

    [Fact]
    public void Medication_IngredientItemChoices_ReadsConceptAndReference()
    {
        var medication = Read<Medication>("""
            {"resourceType": "Medication", "ingredient": [
              {"itemCodeableConcept": {"text": "fluoxetine"}, "isActive": true, "strength": {"numerator": {"value": 25}}},
              {"itemReference": {"reference": "Substance/olz", "display": "olanzapine"}}
            ]}
            """);

        Assert.Collection(medication.Ingredient!,
            i => { Assert.Equal("fluoxetine", i.ItemCodeableConcept!.Text); Assert.True(i.IsActive); },
            i => Assert.Equal("olanzapine", i.ItemReference!.Display));
    }

    // ---- contained, bundles ----------------------------------------------------------------------------------------

    [Theory]
    [InlineData("#med1", "med1")]
    [InlineData("#med2", "med2")]
    [InlineData("med1", null)]
    [InlineData("#", null)]
    [InlineData("", null)]
    [InlineData("#med3", null)]
    [InlineData("#MED1", null)]
    public void DomainResource_FindContained_ResolvesLocalReferencesOnly(string reference, string? expectedId)
    {
        var request = Read<MedicationRequest>("""
            {"resourceType": "MedicationRequest", "contained": [
              {"resourceType": "Medication", "id": "med1", "code": {"text": "Remeron 15 mg tablet"}},
              {"resourceType": "Medication", "id": "med2"},
              {"resourceType": "Medication"}
            ]}
            """);

        Assert.Equal(expectedId, request.FindContained(reference)?.Id);
    }

    [Fact]
    public void DomainResource_FindContainedWithoutContained_ReturnsNull()
    {
        Assert.Null(new MedicationRequest().FindContained("#med1"));
    }

    [Theory]
    [InlineData("""[{"relation": "self", "url": "https://ehr/fhir/Observation?p=1"}, {"relation": "next", "url": "https://ehr/fhir/Observation?p=2"}]""", "https://ehr/fhir/Observation?p=2")]
    [InlineData("""[{"relation": "self", "url": "https://ehr/fhir/Observation?p=1"}]""", null)]
    [InlineData("""[{"relation": "next", "url": ""}]""", null)]
    [InlineData("""[{"relation": "next"}]""", null)]
    [InlineData("""[{"relation": "previous", "url": "https://ehr/p0"}, {"relation": "next", "url": "https://ehr/p2"}]""", "https://ehr/p2")]
    [InlineData("[]", null)]
    public void Bundle_NextLink_ReturnsNextUrlOnly(string links, string? expected)
    {
        var bundle = Read<Bundle>($$"""{"resourceType": "Bundle", "type": "searchset", "link": {{links}}}""");

        Assert.Equal(expected, bundle.NextLink());
    }

    [Fact]
    public void Bundle_NoLinks_HasNoNextLink()
    {
        Assert.Null(Read<Bundle>("""{"resourceType": "Bundle"}""").NextLink());
    }

    [Fact]
    public void Bundle_ResourcesOf_FiltersByTypeAndSkipsEmptyEntries()
    {
        var bundle = Read<Bundle>("""
            {"resourceType": "Bundle", "entry": [
              {"resource": {"resourceType": "Observation", "id": "o1"}},
              {"fullUrl": "urn:uuid:0e3e6a8e-7d0a-4b67-9a7e-8c1d1a0b6f11"},
              {"resource": {"resourceType": "Condition", "id": "c1"}},
              {"resource": {"resourceType": "Observation", "id": "o2"}}
            ]}
            """);

        Assert.Equal(["o1", "o2"], bundle.ResourcesOf<Observation>().Select(o => o.Id));
        Assert.Single(bundle.ResourcesOf<Condition>());
    }

    // ---- writing ---------------------------------------------------------------------------------------------------

    [Fact]
    public void Serialize_NullsAndEmptyLists_AreOmitted()
    {
        var json = Write(new Observation { Id = "o1", Status = "final", Category = [], Code = new CodeableConcept { Coding = [], Text = "Ferritin" } });

        Assert.Equal("""{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"Ferritin"}}""", json);
    }

    [Fact]
    public void Serialize_EmptyCdsResponse_KeepsEmptyCardsArray()
    {
        var json = JsonSerializer.Serialize(new CdsResponse(), CdsJson.ResponseInfo);

        Assert.Equal("""{"cards":[]}""", json);
    }

    [Fact]
    public void Serialize_CardWithEmptyOptionalLists_OmitsThem()
    {
        var response = new CdsResponse
        {
            Cards = [new Card { Summary = "s", Indicator = Indicator.Info, Source = new CardSource { Label = "l" }, Suggestions = [], Links = [], OverrideReasons = [] }],
            SystemActions = [],
        };

        var json = JsonSerializer.Serialize(response, CdsJson.ResponseInfo);

        Assert.Equal("""{"cards":[{"summary":"s","indicator":"info","source":{"label":"l"}}]}""", json);
    }

    [Fact]
    public void Serialize_ServiceRequestSuggestion_RoundTripsEveryElement()
    {
        var original = new ServiceRequest
        {
            Status = "draft",
            Intent = "order",
            Category = [new CodeableConcept { Coding = [new Coding(FhirSystems.Snomed, "108252007", "Laboratory procedure")] }],
            Code = new CodeableConcept { Coding = [new Coding(FhirSystems.Loinc, "2276-4", "Ferritin [Mass/volume] in Serum or Plasma")], Text = "Ferritin" },
            Subject = new Reference("Patient/p1"),
            Encounter = new Reference("Encounter/e1"),
            ReasonCode = [new CodeableConcept { Coding = [new Coding(FhirSystems.Snomed, "32914008", "Restless legs")], Text = "Restless legs syndrome" }],
            PatientInstruction = "Morning, fasting blood draw.",
            Note = [new Annotation { Text = "RLS iron studies" }],
        };

        var json = Write(original);
        var copy = Read<ServiceRequest>(json);

        Assert.StartsWith("""{"resourceType":"ServiceRequest",""", json);
        Assert.DoesNotContain("null", json);
        Assert.Equal(json, Write(copy));
        Assert.Equal("draft", copy.Status);
        Assert.True(copy.Code!.Has(FhirSystems.Loinc, "2276-4"));
        Assert.Equal("Patient/p1", copy.Subject!.ReferenceValue);
        Assert.Equal("Encounter/e1", copy.Encounter!.ReferenceValue);
        Assert.Equal("Morning, fasting blood draw.", copy.PatientInstruction);
        Assert.True(Assert.Single(copy.ReasonCode!).Has(FhirSystems.Snomed, "32914008"));
    }

    [Fact]
    public void Serialize_ResourceInsideCdsAction_WritesResourceType()
    {
        var action = new CdsAction { Type = ActionType.Create, Description = "d", Resource = new MedicationRequest { Status = "draft" } };
        var card = new Card { Summary = "s", Indicator = Indicator.Warning, Source = new CardSource { Label = "l" }, Suggestions = [new Suggestion { Label = "x", Actions = [action] }], SelectionBehavior = SelectionBehavior.Any };

        var json = JsonSerializer.Serialize(new CdsResponse { Cards = [card] }, CdsJson.ResponseInfo);

        Assert.Contains("""{"type":"create","description":"d","resource":{"resourceType":"MedicationRequest","status":"draft"}}""", json);
        Assert.Contains("\"selectionBehavior\":\"any\"", json);
    }

    // ---- the CDS Hooks request: prefetch states ---------------------------------------------------------------------

    [Fact]
    public void CdsRequest_PrefetchNullKey_IsPresentWithNullValue()
    {
        var request = JsonSerializer.Deserialize("""
            {"hook": "patient-view", "hookInstance": "h", "context": {"userId": "Practitioner/1", "patientId": "p"},
             "prefetch": {"patient": {"resourceType": "Patient", "id": "p"}, "conditions": null,
                          "ironLabs": {"resourceType": "OperationOutcome", "issue": {"severity": "error", "code": "timeout"}}}}
            """, CdsJson.RequestInfo)!;

        Assert.True(request.Prefetch!.ContainsKey("conditions"));
        Assert.Null(request.Prefetch["conditions"]);
        Assert.False(request.Prefetch.ContainsKey("medicationRequests"));
        Assert.IsType<Patient>(request.Prefetch["patient"]);
        Assert.Equal("timeout", Assert.Single(Assert.IsType<OperationOutcome>(request.Prefetch["ironLabs"]).Issue!).Code);
    }

    [Fact]
    public void CdsRequest_ThreePointZeroFieldsAndExtensions_AreIgnored()
    {
        var request = JsonSerializer.Deserialize("""
            {"hook": "order-sign", "hookInstance": "h", "hookVersion": "3.0", "extension": {"com.example": {"x": 1}},
             "context": {"userId": "Practitioner/1", "patientId": "p", "draftOrders": {"resourceType": "Bundle", "entry": []}, "unknownField": [1, 2]}}
            """, CdsJson.RequestInfo)!;

        Assert.Equal("order-sign", request.Hook);
        Assert.NotNull(request.Context!.DraftOrders);
    }

    [Fact]
    public void CdsRequest_NestingDeeperThanMaxDepth_IsRefused()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", CdsJson.MaxDepth + 5)) + "1" + new string('}', CdsJson.MaxDepth + 5);

        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize($$"""{"hook": "patient-view", "extension": {{deep}}}""", CdsJson.RequestInfo));
    }
}
