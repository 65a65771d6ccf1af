using System.Net;
using System.Text.Json;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.Security;
using CdsHooks.Api.Tests.Feedback;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Analytics;

/// <summary><c>GET /analytics/cards</c>: feedback joined to the card log, per service and card kind.</summary>
public sealed class AnalyticsTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    // The host's clock stands at 2026-11-21T12:00Z: cards are issued then; feedback comes minutes later.
    private const string FixtureDay = "from=2026-11-21&to=2026-11-21";

    [Fact]
    public async Task FeedbackOnIssuedCards_CountedPerKindWithRateAndTopReasons()
    {
        // Two calls in two encounters: ssri-caution and iron-therapy each issued twice.
        var (_, first) = await HookCalls.CallAsync(host.Client, encounterId: "analytics-1");
        var (_, second) = await HookCalls.CallAsync(host.Client, encounterId: "analytics-2");
        await host.Services.GetRequiredService<CardLogWriter>().FlushAsync(CancellationToken.None);
        var therapy = first.Single(c => c.Source.Topic!.Code == "iron-therapy");
        var therapy2 = second.Single(c => c.Source.Topic!.Code == "iron-therapy");
        var ssri = first.Single(c => c.Source.Topic!.Code == "ssri-caution");
        var ssri2 = second.Single(c => c.Source.Topic!.Code == "ssri-caution");

        await HookCalls.PostFeedbackAsync(host.Client, FeedbackTests.Body(
            FeedbackTests.Accepted(therapy.Uuid!, therapy.Suggestions![0].Uuid!, "2026-11-21T12:05:00Z"),
            FeedbackTests.Accepted(therapy.Uuid!, therapy.Suggestions![0].Uuid!, "2026-11-21T12:05:00Z"), // a retry: same report
            FeedbackTests.Overridden(therapy2.Uuid!, "iron-addressed", "2026-11-21T12:06:00Z"),
            FeedbackTests.Overridden(ssri.Uuid!, "benefit-outweighs-risk", "2026-11-21T12:07:00Z"),
            FeedbackTests.Overridden(ssri2.Uuid!, "benefit-outweighs-risk", "2026-11-21T12:08:00Z"),
            FeedbackTests.Overridden(ssri2.Uuid!, "tolerated-before", "2026-11-21T12:09:00Z"),
            FeedbackTests.Accepted(Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), "2026-11-21T12:10:00Z"),
            FeedbackTests.Overridden(therapy.Uuid!, "iron-addressed", "2026-12-01T00:00:00Z"))); // outside the range

        var report = await GetAsync("/analytics/cards?" + FixtureDay);

        var therapyStats = Kind(report, "iron-therapy");
        Assert.Equal(2, therapyStats.GetProperty("issued").GetInt64());
        Assert.Equal(1, therapyStats.GetProperty("accepted").GetInt64());
        Assert.Equal(1, therapyStats.GetProperty("overridden").GetInt64());
        Assert.Equal(0.5, therapyStats.GetProperty("acceptanceRate").GetDouble());
        var ssriStats = Kind(report, "ssri-caution");
        Assert.Equal(2, ssriStats.GetProperty("issued").GetInt64());
        Assert.Equal(0, ssriStats.GetProperty("accepted").GetInt64());
        Assert.Equal(2, ssriStats.GetProperty("overridden").GetInt64());
        Assert.Equal(0, ssriStats.GetProperty("acceptanceRate").GetDouble());
        var reasons = ssriStats.GetProperty("topOverrideReasons");
        Assert.Equal("benefit-outweighs-risk", reasons[0].GetProperty("code").GetString());
        Assert.Equal(2, reasons[0].GetProperty("count").GetInt64());
        Assert.Equal("Display of benefit-outweighs-risk", reasons[0].GetProperty("display").GetString());
        Assert.Equal("tolerated-before", reasons[1].GetProperty("code").GetString());
        Assert.Equal(1, reasons[1].GetProperty("count").GetInt64());
        Assert.Equal(1, report.GetProperty("unmatchedFeedback").GetProperty("accepted").GetInt64());

        // Another range sees only what happened in it.
        var december = await GetAsync("/analytics/cards?from=2026-12-01&to=2026-12-31");
        var later = Kind(december, "iron-therapy");
        Assert.Equal(0, later.GetProperty("issued").GetInt64());
        Assert.Equal(1, later.GetProperty("overridden").GetInt64());
    }

    [Fact]
    public async Task NoRange_DefaultsToTheLast30Days()
    {
        var report = await GetAsync("/analytics/cards");
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero), report.GetProperty("to").GetDateTimeOffset());
        Assert.Equal(new DateTimeOffset(2026, 10, 22, 12, 0, 0, TimeSpan.Zero), report.GetProperty("from").GetDateTimeOffset());
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("from=2026-11-21T12:00:00", "from")]
    [InlineData("from=2026-11-22&to=2026-11-21", "from")]
    [InlineData("to=9999-12-31", "to")]
    [InlineData("to=0001-01-01T00:00:00Z", "to")]
    public async Task BadRange_Returns400NamingTheParameter(string query, string parameter)
    {
        using var response = await host.Client.GetAsync("/analytics/cards?" + query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        using var doc = JsonDocument.Parse(body);
        Assert.True(doc.RootElement.GetProperty("errors").TryGetProperty(parameter, out _), body);
    }

    [Theory]
    [InlineData("2026-11-21T00:00:00Z", false, "2026-11-21T00:00:00+00:00")]
    [InlineData("2026-11-21T01:00:00+01:00", false, "2026-11-21T00:00:00+00:00")]
    [InlineData("2026-11-21", false, "2026-11-21T00:00:00+00:00")]
    [InlineData("2026-11-21", true, "2026-11-22T00:00:00+00:00")]
    public void RangeBound_DateOrDateTime_ParsedAsDocumented(string value, bool endOfDay, string expected)
    {
        Assert.True(AnalyticsApi.TryParseBound(value, endOfDay, out var instant));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), instant);
    }

    private static JsonElement Kind(JsonElement report, string kind) =>
        report.GetProperty("cards").EnumerateArray().Single(c => c.GetProperty("cardKind").GetString() == kind && c.GetProperty("serviceId").GetString() == "rls-iron-order-select");


    private async Task<JsonElement> GetAsync(string path)
    {
        using var response = await host.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }
}

/// <summary>A host with <c>Analytics:ApiKey</c> set.</summary>
public sealed class ApiKeyHost : CdsServiceHost
{
    public const string Key = "test-analytics-key-0123456789";

    protected override IEnumerable<KeyValuePair<string, string?>> Settings => [new("Analytics:ApiKey", Key)];
}

public sealed class AnalyticsApiKeyTests(ApiKeyHost host) : IClassFixture<ApiKeyHost>
{
    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData(ApiKeyHost.Key + "x")]
    public async Task MissingOrWrongKey_Returns401WithEmptyBody(string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/analytics/cards");
        if (key is not null) request.Headers.Add(AnalyticsApiKeyAuthenticationHandler.HeaderName, key);
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RightKey_Returns200()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/analytics/cards");
        request.Headers.Add(AnalyticsApiKeyAuthenticationHandler.HeaderName, ApiKeyHost.Key);
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TheKey_DoesNotGuardTheCdsServices()
    {
        using var response = await host.Client.GetAsync("/cds-services");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
