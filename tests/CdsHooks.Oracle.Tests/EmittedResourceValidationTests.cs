using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Testing;
using Xunit.Abstractions;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// Every FHIR resource the service writes, as the EHR receives it, validated against FHIR R4 by Firely: each resource
/// of each action in each card it answers every scenario of fhir-fixtures/scenarios.json with (whatever the cards
/// hold, so new suggestions are checked as soon as they appear), and the 412 OperationOutcome.
/// </summary>
public sealed class EmittedResourceValidationTests(ServiceHost host, R4Validation r4, ITestOutputHelper output)
    : IClassFixture<ServiceHost>, IClassFixture<R4Validation>
{
    public static TheoryData<string> Scenarios() => [.. FixtureFiles.Scenarios().Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task SuggestedResources_OfEveryCard_AreValidFhirR4(string name)
    {
        var scenario = FixtureFiles.Scenarios().Single(s => s.Name == name);
        var (status, body) = await PostAsync(scenario.ServiceId, FixtureFiles.ReadFixture(scenario.Request));
        Assert.True(status == HttpStatusCode.OK, $"{name}: {(int)status} {body}");

        var errors = new List<string>();
        foreach (var (where, resource) in ActionResources(body))
        {
            var outcome = r4.Validate(resource);
            foreach (var warning in outcome.Warnings) output.WriteLine($"{where}: {warning}");
            errors.AddRange(outcome.Errors.Select(e => $"{where}: {e}"));
        }
        Assert.True(errors.Count == 0, $"{name}: the EHR would be handed invalid FHIR R4:\n{string.Join('\n', errors)}");
    }

    [Fact]
    public async Task Scenarios_SuggestResourcesToValidate()
    {
        var types = new HashSet<string>();
        foreach (var scenario in FixtureFiles.Scenarios())
        {
            var (_, body) = await PostAsync(scenario.ServiceId, FixtureFiles.ReadFixture(scenario.Request));
            foreach (var (_, resource) in ActionResources(body)) types.Add((string)JsonNode.Parse(resource)!["resourceType"]!);
        }
        Assert.Superset(new HashSet<string> { "ServiceRequest", "MedicationRequest" }, types);
    }

    /// <summary>
    /// The oracle itself: a suggestion broken the ways a rewrite of the card builder could break it is refused, by the
    /// parser (codes, formats), the POCO validation (required elements) or the profile validator (invariants).
    /// </summary>
    [Theory]
    [InlineData("ServiceRequest", "status", null, "status")]
    [InlineData("ServiceRequest", "status", "\"pending\"", "status")]
    [InlineData("ServiceRequest", "intent", "\"suggestion\"", "intent")]
    [InlineData("ServiceRequest", "subject", null, "subject")]
    [InlineData("ServiceRequest", "subject", """{"reference": "#not-contained"}""", "ref-1")]
    [InlineData("MedicationRequest", "medicationCodeableConcept", null, "medication")]
    [InlineData("MedicationRequest", "authoredOn", "\"21/11/2026\"", "authoredOn")]
    public async Task BrokenSuggestion_IsRefused_NamingTheElement(string resourceType, string element, string? json, string named)
    {
        var suggestion = await FirstSuggestedAsync(resourceType);
        if (json is null) suggestion.Remove(element);
        else suggestion[element] = JsonNode.Parse(json);

        var outcome = r4.Validate(suggestion.ToJsonString());

        Assert.True(outcome.Errors.Exists(e => e.Contains(named, StringComparison.Ordinal)), string.Join('\n', outcome.Errors));
    }

    [Theory]
    // No prefetch and no FHIR server to read from; a FHIR server that is not on the allowlist.
    [InlineData(null)]
    [InlineData("https://ehr.example.org/fhir")]
    public async Task PreconditionFailedOutcome_IsValidFhirR4(string? fhirServer)
    {
        var request = JsonNode.Parse(FixtureFiles.ReadFixture("requests/order-select-zoloft-text-low-iron.json"))!.AsObject();
        request.Remove("prefetch");
        request.Remove("fhirServer");
        if (fhirServer is not null) request["fhirServer"] = fhirServer;

        var (status, body) = await PostAsync("rls-iron-order-select", request.ToJsonString());

        Assert.Equal(HttpStatusCode.PreconditionFailed, status);
        Assert.Equal("OperationOutcome", (string?)JsonNode.Parse(body)!["resourceType"]);
        var outcome = r4.Validate(body);
        foreach (var warning in outcome.Warnings) output.WriteLine(warning);
        Assert.True(outcome.Errors.Count == 0, string.Join('\n', outcome.Errors));
    }

    private async Task<JsonObject> FirstSuggestedAsync(string resourceType)
    {
        foreach (var scenario in FixtureFiles.Scenarios())
        {
            var (_, body) = await PostAsync(scenario.ServiceId, FixtureFiles.ReadFixture(scenario.Request));
            foreach (var (_, json) in ActionResources(body))
            {
                var resource = JsonNode.Parse(json)!.AsObject();
                if ((string?)resource["resourceType"] == resourceType) return resource;
            }
        }
        throw new InvalidOperationException("No scenario suggests a " + resourceType);
    }

    /// <summary>The <c>resource</c> of every action in the response (cards' suggestions and systemActions), as sent.</summary>
    private static IEnumerable<(string Where, string Json)> ActionResources(string responseJson)
    {
        var response = JsonNode.Parse(responseJson)!;
        var cards = response["cards"]!.AsArray();
        for (int c = 0; c < cards.Count; c++)
        {
            var suggestions = cards[c]!["suggestions"]?.AsArray() ?? [];
            for (int s = 0; s < suggestions.Count; s++)
            {
                var actions = suggestions[s]!["actions"]?.AsArray() ?? [];
                for (int a = 0; a < actions.Count; a++)
                {
                    if (actions[a]!["resource"] is { } resource)
                    {
                        yield return ($"cards[{c}] ({cards[c]!["source"]?["topic"]?["code"]}).suggestions[{s}].actions[{a}] {actions[a]!["type"]}", resource.ToJsonString());
                    }
                }
            }
        }
        var systemActions = response["systemActions"]?.AsArray() ?? [];
        for (int a = 0; a < systemActions.Count; a++)
        {
            if (systemActions[a]!["resource"] is { } resource) yield return ($"systemActions[{a}]", resource.ToJsonString());
        }
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string serviceId, string body)
    {
        using var client = host.CreateClient();
        using var response = await client.PostAsync($"/cds-services/{serviceId}", new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
