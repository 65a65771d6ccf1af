using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Fhir;

/// <summary>
/// Reads what a hook answer says — its cards by topic, their details and the orders they suggest, or the keys a 412
/// names — and builds the requests the incomplete-data tests send (fixtures mutated, FHIR resources for the stub).
/// </summary>
internal static class AnswerReading
{
    /// <summary>RxNorm codes of the iron orders the service suggests (knowledge file, products).</summary>
    public const string FerricCarboxymaltose = "2552400";
    public const string FerrousSulfate = "310325";

    /// <summary>Asserts 200 and a conformant response that is not a bare empty list; returns the cards by topic code.</summary>
    public static Dictionary<string, JsonElement> Cards(HookAnswer answer)
    {
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        var cards = CardAssertions.AssertConformantResponse(answer.Body);
        Assert.True(cards.Length > 0, "a bare {\"cards\": []}: " + answer);
        return cards.ToDictionary(c => c.GetProperty("source").GetProperty("topic").GetProperty("code").GetString()!);
    }

    public static string Detail(JsonElement card) => card.GetProperty("detail").GetString()!;

    public static string Summary(JsonElement card) => card.GetProperty("summary").GetString()!;

    /// <summary>The codes of what the card's suggestions create: RxNorm for MedicationRequests, LOINC for ServiceRequests.</summary>
    public static string[] Created(JsonElement card, string resourceType)
    {
        if (!card.TryGetProperty("suggestions", out var suggestions)) return [];
        return [.. suggestions.EnumerateArray()
            .SelectMany(s => s.GetProperty("actions").EnumerateArray())
            .Where(a => a.GetProperty("type").GetString() == "create")
            .Select(a => a.GetProperty("resource"))
            .Where(r => r.GetProperty("resourceType").GetString() == resourceType)
            .Select(r => r.GetProperty(resourceType == "MedicationRequest" ? "medicationCodeableConcept" : "code").GetProperty("coding")[0].GetProperty("code").GetString()!)
            .Order()];
    }

    /// <summary>Asserts a 412 OperationOutcome with one issue for <c>prefetch.{key}</c> of the given code; returns its diagnostics.</summary>
    public static string PreconditionFailed(HookAnswer answer, string key, string code)
    {
        Assert.True(answer.Status == HttpStatusCode.PreconditionFailed, answer.ToString());
        var outcome = answer.Json.AsObject();
        Assert.Equal("OperationOutcome", outcome["resourceType"]!.GetValue<string>());
        var issue = Assert.Single(outcome["issue"]!.AsArray(), i => i!["expression"]![0]!.GetValue<string>() == "prefetch." + key)!;
        Assert.Equal(code, issue["code"]!.GetValue<string>());
        return issue["diagnostics"]!.GetValue<string>();
    }

    /// <summary>A fixture request as JSON, with no <c>fhirServer</c> (prefetch only: nothing can be read from elsewhere).</summary>
    public static JsonObject PrefetchOnly(string fixture)
    {
        var request = JsonNode.Parse(FixtureFiles.ReadFixture(fixture))!.AsObject();
        request.Remove("fhirServer");
        request.Remove("fhirAuthorization");
        return request;
    }

    public static JsonObject SearchSet(params string[] resources) => new()
    {
        ["resourceType"] = "Bundle",
        ["type"] = "searchset",
        ["entry"] = new JsonArray([.. resources.Select(r => (JsonNode)new JsonObject { ["resource"] = JsonNode.Parse(r) })]),
    };

    // ---- FHIR resources for the stub or a prefetch ------------------------------------------------------------------

    public static string Condition(string id, string icd10, string display) =>
        $$$"""{"resourceType":"Condition","id":"{{{id}}}","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"{{{icd10}}}","display":"{{{display}}}"}]}}""";

    public static string RlsDiagnosis(string id) => Condition(id, "G25.81", "Restless legs syndrome");

    public static string Hypertension(string id) => Condition(id, "I10", "Essential hypertension");

    public static string Statement(string id, string medication) =>
        $$$"""{"resourceType":"MedicationStatement","id":"{{{id}}}","status":"active","medicationCodeableConcept":{"text":"{{{medication}}}"}}""";

    public static string ActiveOrder(string id, string medication) =>
        $$$"""{"resourceType":"MedicationRequest","id":"{{{id}}}","status":"active","intent":"order","medicationCodeableConcept":{"text":"{{{medication}}}"}}""";

    public static string Lab(string id, string loinc, string value, string unit, string date) =>
        $$$"""{"resourceType":"Observation","id":"{{{id}}}","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"{{{loinc}}}"}]},"effectiveDateTime":"{{{date}}}","valueQuantity":{"value":{{{value}}},"unit":"{{{unit}}}","system":"http://unitsofmeasure.org","code":"{{{unit}}}"}}""";
}
