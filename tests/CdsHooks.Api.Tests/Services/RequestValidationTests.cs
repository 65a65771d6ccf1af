using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Services;

/// <summary>Bad input gets a specific 4xx with a body naming the problem; never a 500.</summary>
public sealed class RequestValidationTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    private const string Select = "/cds-services/rls-iron-order-select";

    private static JsonObject ValidRequest() =>
        JsonNode.Parse(FixtureFiles.ReadFixture("requests/order-select-zoloft-text-low-iron.json"))!.AsObject();

    [Fact]
    public async Task MalformedJson_Returns400NamingThePosition()
    {
        var (status, body) = await PostRawAsync(Select, "{\"hook\": \"order-select\", \"context\": {");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Malformed JSON", body);
    }

    [Fact]
    public async Task WrongJsonType_Returns400NamingTheField()
    {
        var request = ValidRequest();
        request["context"]!["selections"] = "MedicationRequest/x";
        var (status, body) = await PostRawAsync(Select, request.ToJsonString());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("$.context.selections", body);
    }

    [Theory]
    [InlineData("hook")]
    [InlineData("hookInstance")]
    [InlineData("context")]
    public async Task MissingRequiredField_Returns400NamingIt(string field)
    {
        var request = ValidRequest();
        request.Remove(field);
        var errors = await PostExpecting400Async(request);
        Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
    }

    [Fact]
    public async Task HookNotMatchingService_Returns400()
    {
        var request = ValidRequest();
        request["hook"] = "patient-view";
        var errors = await PostExpecting400Async(request);
        Assert.Contains("order-select", errors.GetProperty("hook")[0].GetString());
    }

    [Fact]
    public async Task SelectionPointingNowhere_Returns400NamingTheSelection()
    {
        var request = ValidRequest();
        request["context"]!["selections"] = new JsonArray("MedicationRequest/does-not-exist");
        var errors = await PostExpecting400Async(request);
        Assert.True(errors.TryGetProperty("context.selections[0]", out _), errors.ToString());
    }

    [Fact]
    public async Task OrderSelectWithoutDraftOrders_Returns400()
    {
        var request = ValidRequest();
        request["context"]!.AsObject().Remove("draftOrders");
        var errors = await PostExpecting400Async(request);
        Assert.True(errors.TryGetProperty("context.draftOrders", out _));
    }

    [Fact]
    public async Task FhirAuthorizationWithoutFhirServer_Returns400()
    {
        var request = ValidRequest();
        request.Remove("fhirServer");
        request["fhirAuthorization"] = new JsonObject { ["access_token"] = "abc", ["token_type"] = "Bearer", ["expires_in"] = 300, ["scope"] = "patient/*.read", ["subject"] = "cds" };
        var errors = await PostExpecting400Async(request);
        Assert.True(errors.TryGetProperty("fhirServer", out _));
    }

    [Fact]
    public async Task HookInstanceWithControlCharacters_Returns400()
    {
        var request = ValidRequest();
        request["hookInstance"] = "abc\ndef";
        var errors = await PostExpecting400Async(request);
        Assert.True(errors.TryGetProperty("hookInstance", out _));
    }

    [Fact]
    public async Task BodyJsonNull_Returns400()
    {
        var (status, _) = await PostRawAsync(Select, "null");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task PrefetchResourceWithoutResourceType_Returns400()
    {
        var request = ValidRequest();
        request["prefetch"]!["patient"] = new JsonObject { ["id"] = "x" };
        var (status, body) = await PostRawAsync(Select, request.ToJsonString());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("resourceType", body);
    }

    [Fact]
    public async Task WrongContentType_Returns415()
    {
        using var response = await host.Client.PostAsync(Select, new StringContent(ValidRequest().ToJsonString(), Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task UnknownService_Returns404ProblemDetails()
    {
        var (status, body) = await PostRawAsync("/cds-services/no-such-service", ValidRequest().ToJsonString());
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("Unknown CDS service", body);
    }

    [Theory]
    [InlineData("ironLabs")]
    [InlineData("conditions")]
    [InlineData("patient")]
    public async Task RequiredPrefetchKeyAbsent_NoFhirAccess_Returns412WithOperationOutcome(string key)
    {
        var request = ValidRequest();
        request["prefetch"]!.AsObject().Remove(key);
        var (status, body) = await PostRawAsync(Select, request.ToJsonString());
        Assert.Equal(HttpStatusCode.PreconditionFailed, status);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("OperationOutcome", doc.RootElement.GetProperty("resourceType").GetString());
        Assert.Equal("prefetch." + key, doc.RootElement.GetProperty("issue")[0].GetProperty("expression")[0].GetString());
    }

    [Fact]
    public async Task PrefetchKeyHoldingOperationOutcome_NoFhirAccess_Returns412()
    {
        var request = ValidRequest();
        request["prefetch"]!["ironLabs"] = new JsonObject
        {
            ["resourceType"] = "OperationOutcome",
            ["issue"] = new JsonArray(new JsonObject { ["severity"] = "error", ["code"] = "timeout" }),
        };
        var (status, body) = await PostRawAsync(Select, request.ToJsonString());
        Assert.Equal(HttpStatusCode.PreconditionFailed, status);
        Assert.Contains("failed", body);
    }

    [Fact]
    public async Task PrefetchKeyNull_MeansNoData_Returns200()
    {
        var request = ValidRequest();
        request["prefetch"]!["ironLabs"] = null;
        request["prefetch"]!["crpAndHemoglobin"] = null;
        var (status, body) = await PostRawAsync(Select, request.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, status);
        var topics = CardAssertions.Topics(CardAssertions.AssertConformantResponse(body));
        Assert.Equal(["ssri-caution"], topics); // iron studies now ride on the SSRI card
    }

    [Fact]
    public async Task OptionalPrefetchKeyAbsent_StillAnswers_AndSaysWhatIsMissing()
    {
        var request = ValidRequest();
        request["prefetch"]!.AsObject().Remove("crpAndHemoglobin");
        var (status, body) = await PostRawAsync(Select, request.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Not available from the EHR: CRP and hemoglobin results", body);
    }

    [Fact]
    public async Task UnknownFieldsAndHookVersion_AreIgnored()
    {
        var request = ValidRequest();
        request["hookVersion"] = "1.0";
        request["extension"] = new JsonObject { ["com.example.foo"] = 1 };
        request["context"]!["somethingNew"] = "x";
        var (status, _) = await PostRawAsync(Select, request.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, status);
    }

    private async Task<JsonElement> PostExpecting400Async(JsonObject request)
    {
        var (status, body) = await PostRawAsync(Select, request.ToJsonString());
        Assert.True(status == HttpStatusCode.BadRequest, $"{(int)status}: {body}");
        using var doc = JsonDocument.Parse(body);
        Assert.Equal(400, doc.RootElement.GetProperty("status").GetInt32());
        return doc.RootElement.GetProperty("errors").Clone();
    }

    private async Task<(HttpStatusCode, string)> PostRawAsync(string path, string body)
    {
        using var response = await host.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        return (response.StatusCode, text);
    }
}
