using System.Net;
using System.Text;
using System.Text.Json;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Operations;

public sealed class OperationsTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    [Fact]
    public async Task Liveness_Returns200Healthy()
    {
        using var response = await host.Client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readiness_Returns200_WithEachCheckAndItsDescription()
    {
        using var response = await host.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
        var checks = report.RootElement.GetProperty("checks");
        Assert.StartsWith("knowledge ", checks.GetProperty("knowledge").GetProperty("description").GetString());
        Assert.Equal("sqlite", checks.GetProperty("storage").GetProperty("description").GetString());
        Assert.Equal("Healthy", checks.GetProperty("storage").GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenApi_DescribesEveryEndpointWithSchemas()
    {
        using var response = await host.Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = doc.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/cds-services", out _));
        var invoke = paths.GetProperty("/cds-services/{id}").GetProperty("post");
        Assert.True(invoke.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        var responses = invoke.GetProperty("responses");
        foreach (var code in new[] { "200", "400", "404", "412", "415" }) Assert.True(responses.TryGetProperty(code, out _), $"no {code} response documented");
        var schemas = doc.RootElement.GetProperty("components").GetProperty("schemas");
        foreach (var name in new[] { "CdsRequest", "CdsResponse", "Card", "Suggestion", "DiscoveryResponse" })
        {
            Assert.True(schemas.TryGetProperty(name, out var schema), $"schema {name} missing");
            Assert.True(schema.TryGetProperty("properties", out var props) && props.EnumerateObject().Any(), $"schema {name} is empty");
        }
    }

    [Fact]
    public async Task Logs_CarryHookInstance_ButNoPatientIdentifiers()
    {
        var body = FixtureFiles.ReadFixture("requests/order-select-zoloft-text-low-iron.json");
        var request = FixtureFiles.LoadRequest("requests/order-select-zoloft-text-low-iron.json");
        using var response = await host.Client.PostAsync("/cds-services/rls-iron-order-select", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var logs = host.Logs.All;
        Assert.Contains(request.HookInstance!, logs);
        Assert.DoesNotContain(request.Context!.PatientId!, logs);
        Assert.DoesNotContain("Raman", logs); // the patient's family name in the fixture
    }
}
