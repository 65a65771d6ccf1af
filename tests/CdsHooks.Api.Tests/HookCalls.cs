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

    public static async Task<(string HookInstance, List<Card> Cards)> CallAsync(HttpClient client, string serviceId = "rls-iron-order-select", string fixture = ZoloftLowIron, string? hookInstance = null)
    {
        var request = JsonNode.Parse(FixtureFiles.ReadFixture(fixture))!.AsObject();
        hookInstance ??= Guid.NewGuid().ToString();
        request["hookInstance"] = hookInstance;
        using var content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/cds-services/" + serviceId, content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync(CdsJson.ResponseInfo);
        return (hookInstance, body!.Cards);
    }

    /// <summary>Posts a feedback body and insists on 200 (the reports are then committed).</summary>
    public static async Task PostFeedbackAsync(HttpClient client, string body, string serviceId = "rls-iron-order-select")
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"/cds-services/{serviceId}/feedback", content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}
