using System.Text.Json;
using CdsHooks.Fhir;
using CdsHooks.Protocol;

namespace CdsHooks.Rls.Tests;

/// <summary>The FHIR reading fast paths (nested converters read in place, shared common strings) read what the JSON says.</summary>
public class FhirJsonReadingTests
{
    private static Resource? Read(string json) => JsonSerializer.Deserialize<Resource>(json, CdsJson.Options);

    [Fact]
    public void Read_CommonCodeSystem_IsTheSharedInstance()
    {
        var obs = Assert.IsType<Observation>(Read("""{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2276-4"}]},"valueQuantity":{"value":58,"unit":"ng/mL","system":"http://unitsofmeasure.org","code":"ng/mL"}}"""));
        var coding = obs.Code!.Coding![0];
        Assert.Same(FhirSystems.Loinc, coding.System);
        Assert.Equal("2276-4", coding.Code);
        Assert.Same(FhirSystems.Ucum, obs.ValueQuantity!.System);
        Assert.Equal("final", obs.Status);
    }

    [Fact]
    public void Read_EscapedOrUnknownStrings_ReadAsWritten()
    {
        var obs = Assert.IsType<Observation>(Read("""{"resourceType":"Observation","status":"fin\u0061l","code":{"coding":[{"system":"http://example.org/local-codes","code":"X1"}]}}"""));
        Assert.Equal("final", obs.Status);
        Assert.Equal("http://example.org/local-codes", obs.Code!.Coding![0].System);
    }

    [Fact]
    public void Read_NumberWhereAStringBelongs_IsAJsonError()
    {
        Assert.Throws<JsonException>(() => Read("""{"resourceType":"Observation","status":7}"""));
    }

    [Fact]
    public void Read_NestedBundleWithResourceTypeLast_ReadsEveryLevel()
    {
        var bundle = Assert.IsType<Bundle>(Read("""
            {"type":"searchset","entry":[
              {"fullUrl":"urn:a","resource":{"id":"m1","status":"active","medicationCodeableConcept":{"coding":{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"312941"}},"resourceType":"MedicationRequest"}},
              {"resource":{"resourceType":"NutritionOrder","status":"active","id":"n1"}},
              {"resource":{"resourceType":"Medic\u0061tion","id":"med1"}}
            ],"resourceType":"Bundle"}
            """));
        Assert.Equal(3, bundle.Entry!.Count);
        var request = Assert.IsType<MedicationRequest>(bundle.Entry[0].Resource);
        Assert.Equal("MedicationRequest/m1", request.TypedId);
        Assert.Equal("312941", request.MedicationCodeableConcept!.Coding![0].Code); // single object tolerated as a list
        var unknown = Assert.IsType<UnknownResource>(bundle.Entry[1].Resource);
        Assert.Equal("NutritionOrder/n1", unknown.TypedId);
        Assert.Equal("med1", Assert.IsType<Medication>(bundle.Entry[2].Resource).Id);
    }

    [Fact]
    public void Read_ResourceWithoutResourceType_IsAJsonError()
    {
        Assert.Throws<JsonException>(() => Read("""{"id":"x","status":"final"}"""));
    }
}
