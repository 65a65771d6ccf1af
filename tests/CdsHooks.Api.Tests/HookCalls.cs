using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CdsHooks.Protocol;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests;

/// <summary>Calls a service (a fixture request under a fresh hookInstance) and posts feedback, for tests that need issued cards.</summary>
public static class HookCalls
{
    public const string ZoloftLowIron = "requests/order-select-zoloft-text-low-iron.json";

    /// <summary>
    /// The fixture's request under <paramref name="hookInstance"/> (default: a fresh one); with <paramref name="encounterId"/>,
    /// in that encounter (the fixtures have none: a reminder is then shown once per patient per
    /// <c>Analytics:LockOut:NoEncounterMinutes</c>, so tests that count repeats give each call its own encounter).
    /// </summary>
    public static async Task<(string HookInstance, List<Card> Cards)> CallAsync(HttpClient client, string serviceId = "rls-iron-order-select", string fixture = ZoloftLowIron, string? hookInstance = null, string? encounterId = null)
    {
        var request = Request(fixture, encounterId: encounterId);
        hookInstance ??= Guid.NewGuid().ToString();
        request["hookInstance"] = hookInstance;
        return (hookInstance, await CallAsync(client, request, serviceId));
    }

    /// <summary>A fixture request with a fresh hookInstance and, when given, another patient id (the prefetch stays the fixture's) and an encounter.</summary>
    public static JsonObject Request(string fixture = ZoloftLowIron, string? patientId = null, string? encounterId = null)
    {
        var request = JsonNode.Parse(FixtureFiles.ReadFixture(fixture))!.AsObject();
        request["hookInstance"] = Guid.NewGuid().ToString();
        if (patientId is not null) request["context"]!["patientId"] = patientId;
        if (encounterId is not null) request["context"]!["encounterId"] = encounterId;
        return request;
    }

    /// <summary>Posts <paramref name="request"/> and insists on 200; the answer's cards.</summary>
    public static async Task<List<Card>> CallAsync(HttpClient client, JsonObject request, string serviceId = "rls-iron-order-select")
    {
        using var content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/cds-services/" + serviceId, content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync(CdsJson.ResponseInfo);
        return body!.Cards;
    }

    /// <summary>Posts a feedback body and insists on 200 (the reports are then committed).</summary>
    public static async Task PostFeedbackAsync(HttpClient client, string body, string serviceId = "rls-iron-order-select")
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"/cds-services/{serviceId}/feedback", content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}
