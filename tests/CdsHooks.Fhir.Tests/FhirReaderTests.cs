using System.Text;
using System.Text.Json;
using CdsHooks.Fhir;
using CdsHooks.Protocol;

namespace CdsHooks.Fhir.Tests;

/// <summary>
/// The edge cases of <see cref="FhirReader"/> one by one (the differential tests compare it wholesale with the
/// metadata path it replaced): wrong token types, escaped names, duplicates, nulls, single objects for arrays,
/// shared strings, depth, streaming, and draftOrders.
/// </summary>
public sealed class FhirReaderTests
{
    private static Resource? Read(string json) => JsonSerializer.Deserialize(json, FhirJson.ResourceInfo);

    private static T Read<T>(string json) where T : Resource => Assert.IsType<T>(Read(json));

    // ---- element names ---------------------------------------------------------------------------------------------

    public static TheoryData<string> Elements() => [.. Enum.GetNames<FhirElement>().Where(e => e != nameof(FhirElement.Unknown))];

    [Theory]
    [MemberData(nameof(Elements))]
    public void FhirElementNames_EachJsonName_MatchesItsElement(string member)
    {
        var element = Enum.Parse<FhirElement>(member);
        var name = FhirElementNames.JsonName(element);

        Assert.Equal(element, FhirElementNames.Match(Encoding.UTF8.GetBytes(name)));
        Assert.Equal(FhirElement.Unknown, FhirElementNames.Match(Encoding.UTF8.GetBytes(char.ToUpperInvariant(name[0]) + name[1..])));
        Assert.Equal(FhirElement.Unknown, FhirElementNames.Match(Encoding.UTF8.GetBytes(name[..^1] + "_")));
        Assert.Equal(FhirElement.Unknown, FhirElementNames.Match(Encoding.UTF8.GetBytes(name + "x")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("i")]
    [InlineData("_id")]
    [InlineData("extension")]
    [InlineData("modifierExtension")]
    [InlineData("valueBoolean")]
    [InlineData("medicationCodeableConcepts")]
    public void FhirElementNames_OtherNames_AreUnknown(string name)
    {
        Assert.Equal(FhirElement.Unknown, FhirElementNames.Match(Encoding.UTF8.GetBytes(name)));
    }

    [Fact]
    public void Read_EscapedPropertyNames_MatchAfterUnescaping()
    {
        var obs = Read<Observation>("""
            {"resourceType": "Observation", "\u0069d": "o1", "st\u0061tus": "final",
             "\u0063\u006f\u0064\u0065": {"c\u006fding": [{"\u0073ystem": "http://loinc.org", "code": "2276-4"}]},
             "valueQuantity": {"v\u0061lue": 12.5}}
            """);

        Assert.Equal("o1", obs.Id);
        Assert.Equal("final", obs.Status);
        Assert.Same(FhirSystems.Loinc, Assert.Single(obs.Code!.Coding!).System);
        Assert.Equal(12.5m, obs.ValueQuantity!.Value);
    }

    [Fact]
    public void Read_LongEscapedUnknownPropertyName_IsSkipped()
    {
        var name = string.Concat(Enumerable.Repeat("\\u0078", 200)); // 1,200 raw bytes, "xxx..." unescaped
        var patient = Read<Patient>($$"""{"resourceType": "Patient", "{{name}}": {"a": [1]}, "gender": "female"}""");

        Assert.Equal("female", patient.Gender);
    }

    [Fact]
    public void Read_FullyEscapedResourceType_ReadsTheKnownType()
    {
        var escaped = string.Concat("MedicationStatement".Select(c => $"\\u{(int)c:x4}")); // 114 bytes

        var statement = Read<MedicationStatement>($$"""{"resourceType": "{{escaped}}", "status": "active"}""");

        Assert.Equal("active", statement.Status);
    }

    [Fact]
    public void Read_MiscasedPropertyNames_AreIgnored()
    {
        var patient = Read<Patient>("""{"resourceType": "Patient", "ID": "p1", "Gender": "male", "birthdate": "2000-01-01"}""");

        Assert.Null(patient.Id);
        Assert.Null(patient.Gender);
        Assert.Null(patient.BirthDate);
    }

    // ---- wrong token types -----------------------------------------------------------------------------------------

    [Theory]
    [InlineData("""{"resourceType": "Patient", "gender": 5}""", "'gender' must be a string, not a number.")]
    [InlineData("""{"resourceType": "Patient", "id": {"value": "p1"}}""", "'id' must be a string, not an object.")]
    [InlineData("""{"resourceType": "Observation", "status": true}""", "'status' must be a string, not a boolean.")]
    [InlineData("""{"resourceType": "Observation", "valueQuantity": {"value": "5.0"}}""", "'value' must be a number, not a string.")]
    [InlineData("""{"resourceType": "Observation", "valueQuantity": {"value": 1e400}}""", "'value' is out of the range of a decimal.")]
    [InlineData("""{"resourceType": "Patient", "deceasedBoolean": "true"}""", "'deceasedBoolean' must be true or false, not a string.")]
    [InlineData("""{"resourceType": "Medication", "ingredient": [{"isActive": 1}]}""", "'isActive' must be true or false, not a number.")]
    [InlineData("""{"resourceType": "Bundle", "total": 1.5}""", "'total' must be a whole number within the range of an integer.")]
    [InlineData("""{"resourceType": "Bundle", "total": 3000000000}""", "'total' must be a whole number within the range of an integer.")]
    [InlineData("""{"resourceType": "Bundle", "total": "3"}""", "'total' must be a number, not a string.")]
    [InlineData("""{"resourceType": "Patient", "meta": []}""", "'meta' must be an object, not an array.")]
    [InlineData("""{"resourceType": "Observation", "code": [{"text": "x"}]}""", "'code' must be an object, not an array.")]
    [InlineData("""{"resourceType": "Observation", "code": {"coding": "x"}}""", "'coding' must be an object, not a string.")]
    [InlineData("""{"resourceType": "Observation", "category": [7]}""", "'category' must be an object, not a number.")]
    [InlineData("""{"resourceType": "OperationOutcome", "issue": [{"expression": "Observation.code"}]}""", "'expression' must be an array, not a string.")]
    [InlineData("""{"resourceType": "OperationOutcome", "issue": [{"expression": [7]}]}""", "'expression' must be a string, not a number.")]
    [InlineData("""{"resourceType": "Patient", "contained": "x"}""", "A FHIR resource must be a JSON object.")]
    [InlineData("""{"resourceType": "Bundle", "entry": [{"resource": 5}]}""", "A FHIR resource must be a JSON object.")]
    public void Read_WrongTokenType_IsAJsonExceptionNamingTheElement(string json, string message)
    {
        var ex = Assert.Throws<JsonException>(() => Read(json));

        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Read_WrongTokenTypeInPrefetch_IsAJsonExceptionWithThePrefetchPathAndLine()
    {
        var json = """
            {"hook": "patient-view", "prefetch": {
              "patient": {"resourceType": "Patient", "id": "p1"},
              "ironLabs": {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation",
                "valueQuantity": {"value": "low"}}}]}}}
            """;

        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, CdsJson.RequestInfo));

        Assert.Equal("$.prefetch.ironLabs", ex.Path);
        Assert.Equal(3, ex.LineNumber);
        Assert.Equal("'value' must be a number, not a string.", ex.Message);
    }

    [Fact]
    public void Read_InvalidUtf8InAString_IsAJsonException()
    {
        byte[] json = [.. "{\"resourceType\": \"Patient\", \"id\": \""u8, 0xC3, 0x28, .. "\"}"u8];

        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json, FhirJson.ResourceInfo));
    }

    // ---- values ----------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("74.950000000001", "74.950000000001")]
    [InlineData("1.50", "1.50")]
    [InlineData("1.5e2", "150")]
    [InlineData("-0.000000001", "-0.000000001")]
    [InlineData("79228162514264337593543950335", "79228162514264337593543950335")]
    public void Read_Decimal_KeepsEveryDigit(string value, string written)
    {
        var obs = Read<Observation>($$$"""{"resourceType": "Observation", "valueQuantity": {"value": {{{value}}}}}""");

        Assert.Equal(decimal.Parse(written, System.Globalization.CultureInfo.InvariantCulture), obs.ValueQuantity!.Value);
        Assert.Contains($"\"value\":{written}", JsonSerializer.Serialize<Resource>(obs, FhirJson.ResourceInfo), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_CommonStrings_AreTheSharedInstances()
    {
        var bundle = Read<Bundle>("""
            {"resourceType": "Bundle", "type": "searchset", "entry": [
              {"resource": {"resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "laboratory"}]},
                "valueQuantity": {"value": 1, "unit": "ng/mL", "system": "http://unitsofmeasure.org", "code": "ng/mL"}}},
              {"resource": {"resourceType": "MedicationRequest", "status": "draft", "intent": "order"}},
              {"resource": {"resourceType": "MedicationStatement", "status": "active"}},
              {"resource": {"resourceType": "Medication", "status": "active"}},
              {"resource": {"resourceType": "ServiceRequest", "status": "draft", "intent": "proposal"}}]}
            """);

        Assert.Same("searchset", bundle.Type);
        var obs = Assert.IsType<Observation>(bundle.Entry![0].Resource);
        Assert.Same("final", obs.Status);
        Assert.Same(FhirSystems.Loinc, obs.Code!.Coding![0].System);
        Assert.Same("laboratory", obs.Code.Coding[0].Code);
        Assert.Same("ng/mL", obs.ValueQuantity!.Unit);
        Assert.Same(FhirSystems.Ucum, obs.ValueQuantity.System);
        Assert.Same("ng/mL", obs.ValueQuantity.Code);
        var request = Assert.IsType<MedicationRequest>(bundle.Entry[1].Resource);
        Assert.Same("draft", request.Status);
        Assert.Same("order", request.Intent);
        Assert.Same("active", Assert.IsType<MedicationStatement>(bundle.Entry[2].Resource).Status);
        Assert.Same("active", Assert.IsType<Medication>(bundle.Entry[3].Resource).Status);
        var service = Assert.IsType<ServiceRequest>(bundle.Entry[4].Resource);
        Assert.Same("draft", service.Status);
        Assert.Same("proposal", service.Intent);
    }

    [Fact]
    public void Read_UncommonOrEscapedStrings_AreReadAsWritten()
    {
        var obs = Read<Observation>("""
            {"resourceType": "Observation", "status": "fin\u0061l", "code": {"coding": [{"system": "http://example.org/x", "code": "finalx"}]},
             "valueQuantity": {"unit": "µg/L"}}
            """);

        Assert.Equal("final", obs.Status);
        Assert.Equal("finalx", obs.Code!.Coding![0].Code);
        Assert.Equal("µg/L", obs.ValueQuantity!.Unit);
    }

    // ---- null, duplicates, single objects ------------------------------------------------------------------------

    [Fact]
    public void Read_NullElements_AreUnsetAndNullListsStayNull()
    {
        var obs = Read<Observation>("""
            {"resourceType": "Observation", "id": null, "meta": null, "text": null, "contained": null, "status": null,
             "category": null, "code": {"coding": null, "text": null}, "valueQuantity": {"value": null}}
            """);

        Assert.Null(obs.Id);
        Assert.Null(obs.Meta);
        Assert.Null(obs.Text);
        Assert.Null(obs.Contained);
        Assert.Null(obs.Status);
        Assert.Null(obs.Category);
        Assert.Null(obs.Code!.Coding);
        Assert.Null(obs.ValueQuantity!.Value);
    }

    [Fact]
    public void Read_NullListItems_AreDroppedFromTolerantListsAndKeptInExpression()
    {
        var outcome = Read<OperationOutcome>("""
            {"resourceType": "OperationOutcome", "contained": [null, {"resourceType": "Patient"}, null],
             "issue": [null, {"code": "invalid", "expression": ["a", null]}]}
            """);

        Assert.IsType<Patient>(Assert.Single(outcome.Contained!));
        var issue = Assert.Single(outcome.Issue!);
        Assert.Equal(new string?[] { "a", null }, issue.Expression!);
    }

    [Fact]
    public void Read_DuplicateProperties_LastOneWins()
    {
        var obs = Read<Observation>("""
            {"resourceType": "Observation", "id": "first", "status": "final", "status": null, "id": "second",
             "category": [{"text": "a"}], "category": {"text": "b"}, "code": {"text": "x"}, "code": null}
            """);

        Assert.Equal("second", obs.Id);
        Assert.Null(obs.Status);
        Assert.Equal("b", Assert.Single(obs.Category!).Text);
        Assert.Null(obs.Code);
    }

    [Fact]
    public void Read_SingleObjectsWhereArraysBelong_ReadAsOneItemLists()
    {
        var bundle = Read<Bundle>("""
            {"resourceType": "Bundle", "link": {"relation": "next", "url": "u"}, "entry": {"resource": {"resourceType": "MedicationRequest",
              "contained": {"resourceType": "Medication", "id": "med1", "ingredient": {"isActive": true}},
              "dosageInstruction": {"text": "daily"}, "reasonCode": {"text": "r"}, "note": {"text": "n"},
              "medicationCodeableConcept": {"coding": {"code": "c"}}}}}
            """);

        Assert.Equal("u", Assert.Single(bundle.Link!).Url);
        var request = Assert.IsType<MedicationRequest>(Assert.Single(bundle.Entry!).Resource);
        var medication = Assert.IsType<Medication>(Assert.Single(request.Contained!));
        Assert.True(Assert.Single(medication.Ingredient!).IsActive);
        Assert.Equal("daily", Assert.Single(request.DosageInstruction!).Text);
        Assert.Equal("r", Assert.Single(request.ReasonCode!).Text);
        Assert.Equal("n", Assert.Single(request.Note!).Text);
        Assert.Equal("c", Assert.Single(request.MedicationCodeableConcept!.Coding!).Code);
    }

    [Fact]
    public void Read_SingleObjectsInOtherResources_ReadAsOneItemLists()
    {
        var statement = Read<MedicationStatement>("""{"resourceType": "MedicationStatement", "dosage": {"text": "nightly"}}""");
        var outcome = Read<OperationOutcome>("""{"resourceType": "OperationOutcome", "issue": {"severity": "error"}}""");
        var service = Read<ServiceRequest>("""{"resourceType": "ServiceRequest", "category": {"text": "lab"}, "note": {"text": "n"}, "reasonCode": {"text": "r"}}""");
        var condition = Read<Condition>("""{"resourceType": "Condition", "category": {"text": "problem"}}""");

        Assert.Equal("nightly", Assert.Single(statement.Dosage!).Text);
        Assert.Equal("error", Assert.Single(outcome.Issue!).Severity);
        Assert.Equal("lab", Assert.Single(service.Category!).Text);
        Assert.Equal("problem", Assert.Single(condition.Category!).Text);
    }

    // ---- resources -------------------------------------------------------------------------------------------------

    [Fact]
    public void KnownResourceTypes_EachReadsAsItsOwnType()
    {
        foreach (var type in ResourceJsonConverter.KnownResourceTypes)
        {
            var resource = Read($$"""{"resourceType": "{{type}}", "id": "x"}""");

            Assert.IsNotType<UnknownResource>(resource);
            Assert.Equal(type, resource!.ResourceType);
            Assert.Equal("x", resource.Id);
        }
    }

    // ---- DSTU2 MedicationOrder -------------------------------------------------------------------------------------

    [Fact]
    public void Read_Dstu2MedicationOrder_ReadsIntoTheMedicationRequestShapeUnderItsOwnType()
    {
        var order = Read<MedicationOrder>("""
            {"resourceType": "MedicationOrder", "id": "order-123", "status": "draft", "patient": {"reference": "Patient/p1"},
             "dateWritten": "2026-11-21", "medicationCodeableConcept": {"text": "Zoloft 50 mg tablet"},
             "dosageInstruction": [{"text": "1 tablet daily", "doseQuantity": {"value": 1}, "timing": {"repeat": {"periodUnits": "d"}}}],
             "reasonCodeableConcept": {"text": "Generalized anxiety disorder"}, "note": "after breakfast",
             "contained": [{"resourceType": "Medication", "id": "m", "product": {"form": {"text": "tablet"}}}]}
            """);

        MedicationRequest request = order;
        Assert.Equal("MedicationOrder", request.ResourceType);
        Assert.Equal("MedicationOrder/order-123", request.TypedId);
        Assert.Same("draft", request.Status);
        Assert.Equal("Patient/p1", request.Subject!.ReferenceValue);
        Assert.Equal("2026-11-21", request.AuthoredOn);
        Assert.Equal("Zoloft 50 mg tablet", request.MedicationCodeableConcept!.Text);
        Assert.Equal("1 tablet daily", Assert.Single(request.DosageInstruction!).Text);
        Assert.Equal("Generalized anxiety disorder", Assert.Single(request.ReasonCode!).Text);
        Assert.Equal("after breakfast", Assert.Single(request.Note!).Text);
        Assert.Equal("m", Assert.IsType<Medication>(Assert.Single(request.Contained!)).Id);
    }

    [Fact]
    public void Read_Dstu2MedicationOrder_R4NamesAreNotItsElements()
    {
        // The Sandbox adds intent and category to its DSTU2 drafts; subject, authoredOn and reasonCode are R4 names.
        var order = Read<MedicationOrder>("""
            {"resourceType": "MedicationOrder", "subject": {"reference": "Patient/p1"}, "authoredOn": "2026-11-21",
             "intent": "order", "reasonCode": [{"text": "r"}], "category": {"text": "community"}, "patientInstruction": "x"}
            """);

        Assert.Null(order.Subject);
        Assert.Null(order.AuthoredOn);
        Assert.Null(order.Intent);
        Assert.Null(order.ReasonCode);
    }

    [Fact]
    public void Read_Dstu2MedicationOrderNullElements_AreUnset()
    {
        var order = Read<MedicationOrder>("""
            {"resourceType": "MedicationOrder", "patient": null, "dateWritten": null, "reasonCodeableConcept": null, "note": null,
             "dosageInstruction": null, "note": "kept", "note": null}
            """);

        Assert.Null(order.Subject);
        Assert.Null(order.AuthoredOn);
        Assert.Null(order.ReasonCode);
        Assert.Null(order.Note);
        Assert.Null(order.DosageInstruction);
    }

    [Theory]
    [InlineData("""{"text": "an R4 Annotation"}""", "an object")]
    [InlineData("""[{"text": "an R4 Annotation"}]""", "an array")]
    [InlineData("7", "a number")]
    public void Read_Dstu2MedicationOrderNoteNotAString_IsAJsonException(string note, string found)
    {
        var ex = Assert.Throws<JsonException>(() => Read($$"""{"resourceType": "MedicationOrder", "note": {{note}}}"""));

        Assert.Contains($"'note' must be a string, not {found}.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_Dstu2MedicationOrderReasonAsAnArray_IsAJsonException()
    {
        // DSTU2 has one reasonCodeableConcept: no single-value tolerance runs the other way.
        Assert.Throws<JsonException>(() => Read("""{"resourceType": "MedicationOrder", "reasonCodeableConcept": [{"text": "r"}]}"""));
    }

    [Fact]
    public void DraftOrders_Dstu2MedicationOrder_IsAMedicationRequestNamedByItsOwnType()
    {
        var request = JsonSerializer.Deserialize("""
            {"hook": "order-select", "context": {"selections": ["MedicationOrder/order-123"], "draftOrders": {"resourceType": "Bundle",
             "entry": [{"resource": {"resourceType": "MedicationOrder", "id": "order-123", "status": "draft"}}]}}}
            """, CdsJson.RequestInfo)!;

        var draft = Assert.IsAssignableFrom<MedicationRequest>(Assert.Single(request.Context!.DraftOrders!.Entry!).Resource);
        Assert.Equal(request.Context.Selections![0], draft.TypedId);
    }

    [Fact]
    public void Read_NestedResourceWithoutResourceType_IsAJsonException()
    {
        var ex = Assert.Throws<JsonException>(() => Read("""{"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]}"""));

        Assert.Equal("A FHIR resource has no 'resourceType'.", ex.Message);
    }

    [Fact]
    public void Read_NestingBeyondMaxDepth_IsRefused()
    {
        var deep = string.Concat(Enumerable.Repeat("""{"resourceType": "Patient", "contained": [""", FhirJson.MaxDepth)) + "{\"resourceType\": \"Patient\"}"
            + string.Concat(Enumerable.Repeat("]}", FhirJson.MaxDepth));

        Assert.ThrowsAny<JsonException>(() => Read(deep));
    }

    [Fact]
    public void Read_ContainedJustWithinMaxDepth_IsRead()
    {
        const int levels = (FhirJson.MaxDepth - 2) / 2;
        var nested = string.Concat(Enumerable.Repeat("""{"resourceType": "Patient", "contained": [""", levels)) + "{\"resourceType\": \"Patient\", \"id\": \"deepest\"}"
            + string.Concat(Enumerable.Repeat("]}", levels));

        var patient = Read<Patient>(nested);
        for (int i = 0; i < levels; i++) patient = Assert.IsType<Patient>(Assert.Single(patient.Contained!));

        Assert.Equal("deepest", patient.Id);
    }

    // ---- streaming -------------------------------------------------------------------------------------------------

    [Fact]
    public async Task DeserializeAsync_StreamedAFewBytesAtATime_ReadsAsReadWhole()
    {
        var json = """
            {"hook": "order-select", "context": {"draftOrders": {"resourceType": "Bundle", "entry": [
               {"resource": {"status": "draft", "medicationCodeableConcept": {"coding": {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "312940"}},
                             "resourceType": "MedicationRequest", "id": "m1"}},
               {"resource": {"resourceType": "NutritionOrder", "oralDiet": {"type": [{"text": "low sodium"}]}, "id": "n1"}}]}},
             "prefetch": {"patient": {"resourceType": "Patient", "id": "p1", "extension": [{"url": "u", "valueString": "x"}], "gender": "female"},
                          "conditions": null,
                          "labs": {"resourceType": "Bundle", "entry": {"resource": {"resourceType": "Observation", "valueQuantity": {"value": 74.950000000001}}}}}}
            """;
        var options = new JsonSerializerOptions(CdsJson.Options) { DefaultBufferSize = 16 };

        var streamed = await JsonSerializer.DeserializeAsync(new TrickleStream(Encoding.UTF8.GetBytes(json), 3), options.GetTypeInfo(typeof(CdsRequest)));

        var whole = JsonSerializer.Deserialize(json, CdsJson.RequestInfo)!;
        Assert.Equal(JsonSerializer.Serialize(whole, CdsJson.RequestInfo), JsonSerializer.Serialize((CdsRequest)streamed!, CdsJson.RequestInfo));
        Assert.Equal("NutritionOrder/n1", ((CdsRequest)streamed!).Context!.DraftOrders!.Entry![1].Resource!.TypedId);
    }

    [Fact]
    public async Task DeserializeAsync_StreamedWrongTokenType_IsAJsonException()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "deceasedBoolean": "no"}}]}""");
        var options = new JsonSerializerOptions(FhirJson.Options) { DefaultBufferSize = 16 };

        await Assert.ThrowsAsync<JsonException>(async () => await JsonSerializer.DeserializeAsync(new TrickleStream(bytes, 2), options.GetTypeInfo(typeof(Resource))));
    }

    // ---- draftOrders -----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("\"Bundle\"")]
    [InlineData("\"Patient\"")]
    [InlineData("7")]
    [InlineData("{\"a\": [1]}")]
    public void DraftOrders_IsABundleWhateverItsResourceTypeSays(string resourceType)
    {
        var request = JsonSerializer.Deserialize($$$"""
            {"hook": "order-sign", "context": {"draftOrders": {"resourceType": {{{resourceType}}}, "id": "d1",
              "entry": {"resource": {"resourceType": "MedicationRequest", "id": "m1"}} } }}
            """, CdsJson.RequestInfo)!;

        var drafts = request.Context!.DraftOrders!;
        Assert.Equal("d1", drafts.Id);
        Assert.Equal("MedicationRequest/m1", Assert.Single(drafts.Entry!).Resource!.TypedId);
    }

    [Fact]
    public void DraftOrders_WithoutResourceTypeOrNull_ReadsAsBefore()
    {
        var untyped = JsonSerializer.Deserialize("""{"context": {"draftOrders": {"entry": []}}}""", CdsJson.RequestInfo)!;
        var none = JsonSerializer.Deserialize("""{"context": {"draftOrders": null}}""", CdsJson.RequestInfo)!;

        Assert.Empty(untyped.Context!.DraftOrders!.Entry!);
        Assert.Null(none.Context!.DraftOrders);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"Bundle\"")]
    [InlineData("5")]
    public void DraftOrders_NotAnObject_IsAJsonException(string value)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize($$$"""{"context": {"draftOrders": {{{value}}}}}""", CdsJson.RequestInfo));
    }

    [Fact]
    public void DraftOrders_IsWrittenAsABundle()
    {
        var request = new CdsRequest { Hook = "order-sign", Context = new HookContext { DraftOrders = new Bundle { Type = "collection", Entry = [new BundleEntry { Resource = new MedicationRequest { Id = "m1" } }] } } };

        var json = JsonSerializer.Serialize(request, CdsJson.RequestInfo);

        Assert.Equal("""{"hook":"order-sign","context":{"draftOrders":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"MedicationRequest","id":"m1"}}]}}}""", json);
    }
}
