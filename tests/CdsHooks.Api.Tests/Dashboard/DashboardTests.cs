using System.Net;
using System.Text.Json;
using CdsHooks.Api.Dashboard;
using CdsHooks.Api.Tests.Storage;
using CdsHooks.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Dashboard;

/// <summary>The dashboard over HTTP with the operator key set: sign-in, its cookie and CSRF, the report, the page, CSV.</summary>
public sealed class DashboardTests(DashboardHost host) : IClassFixture<DashboardHost>
{
    private const string SessionCookie = "__Secure-cds-dashboard";

    private async Task<DashboardClient> ClientAsync() => new(await host.ReadyAsync());

    [Fact]
    public async Task Page_WithoutSession_RedirectsToSignIn()
    {
        using var client = await ClientAsync();
        using var response = await client.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard/login", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignIn_WithKeyAndCsrf_SetsSecureHttpOnlyStrictCookieWithExpiry()
    {
        using var client = await ClientAsync();
        var (csrf, loginCookie) = await client.OpenLoginFormAsync();
        using var response = await client.PostFormAsync("/dashboard/login", [new("csrf", csrf), new("key", DashboardHost.OperatorKey)], loginCookie);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = DashboardClient.SetCookie(response, SessionCookie);
        Assert.NotNull(cookie);
        var attributes = cookie.ToLowerInvariant();
        Assert.Contains("; secure", attributes);
        Assert.Contains("; httponly", attributes);
        Assert.Contains("; samesite=strict", attributes);
        Assert.Contains("; path=/dashboard", attributes);
        Assert.Contains("; max-age=3600", attributes);
        Assert.DoesNotContain(DashboardHost.OperatorKey, cookie, StringComparison.Ordinal);

        using var page = await client.GetAsync("/dashboard", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain(DashboardHost.OperatorKey, host.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WithoutCsrfCookie_Returns400AndNoSession()
    {
        using var client = await ClientAsync();
        var (csrf, _) = await client.OpenLoginFormAsync();
        using var response = await client.PostFormAsync("/dashboard/login", [new("csrf", csrf), new("key", DashboardHost.OperatorKey)]);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(DashboardClient.SetCookie(response, SessionCookie));
    }

    [Fact]
    public async Task SignIn_WithForgedCsrfPair_Returns400AndNoSession()
    {
        using var client = await ClientAsync();
        const string forged = "AAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        using var response = await client.PostFormAsync("/dashboard/login", [new("csrf", forged), new("key", DashboardHost.OperatorKey)],
            "__Secure-cds-dashboard-login=" + forged);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(DashboardClient.SetCookie(response, SessionCookie));
    }

    [Fact]
    public async Task SignIn_WrongKey_Returns401AndNoSession()
    {
        using var client = await ClientAsync();
        var (csrf, loginCookie) = await client.OpenLoginFormAsync();
        using var response = await client.PostFormAsync("/dashboard/login", [new("csrf", csrf), new("key", "not-the-operator-key-at-all")], loginCookie);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(DashboardClient.SetCookie(response, SessionCookie));
        Assert.Contains("not the operator key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(SessionCookie + "=v1.9999999999.AAAA.forged-mac")]
    [InlineData(SessionCookie + "=garbage")]
    public async Task DataEndpoints_WithoutValidSession_Return401Problem(string? cookie)
    {
        using var client = await ClientAsync();
        foreach (var path in new[] { "/dashboard/api/report", "/dashboard/api/cards.csv" })
        {
            using var response = await client.GetAsync(path, cookie);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Session_AfterItsLifetime_IsRefused()
    {
        using var client = await ClientAsync();
        var cookie = await client.SignInAsync();
        var signedIn = host.Clock.GetUtcNow();
        host.Clock.Advance(TimeSpan.FromMinutes(61));
        try
        {
            using var response = await client.GetAsync("/dashboard/api/report", cookie);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        finally
        {
            host.Clock.Set(signedIn);
        }
    }

    [Fact]
    public async Task Report_DefaultPeriod_CountsPerKindWeeklyReasonsAndSuggestions()
    {
        using var client = await ClientAsync();
        var report = await client.ReportAsync(await client.SignInAsync());

        Assert.Equal("2026-08-23T12:00:00+00:00", report.GetProperty("from").GetString());
        Assert.True(report.GetProperty("lockOutsRecorded").GetBoolean());
        var weeks = report.GetProperty("weeks").EnumerateArray().Select(w => w.GetString()).ToList();
        Assert.Equal("2026-08-17", weeks[0]);
        Assert.Equal("2026-11-16", weeks[^1]);
        // iv-iron-caution was only held back in the period: a row with nothing issued and its lock-out.
        Assert.Equal(["iron-therapy", "ssri-caution", "iv-iron-caution"], report.GetProperty("cardKinds").EnumerateArray().Select(k => k.GetProperty("cardKind").GetString()));
        var held = Kind(report, "iv-iron-caution");
        Assert.Equal(0, held.GetProperty("issued").GetInt64());
        Assert.Equal(1, held.GetProperty("lockOuts").GetInt64());

        var therapy = Kind(report, "iron-therapy");
        Assert.Equal(55, therapy.GetProperty("issued").GetInt64());
        Assert.Equal(19, therapy.GetProperty("accepted").GetInt64());
        Assert.Equal(8, therapy.GetProperty("overridden").GetInt64());
        Assert.Equal(0.7037, therapy.GetProperty("acceptanceRate").GetDouble());
        // Lock-outs in the period only; reminders held back as repeats in an encounter are not lock-outs.
        Assert.Equal(3, therapy.GetProperty("lockOuts").GetInt64());
        var lastWeek = therapy.GetProperty("weekly").EnumerateArray().Last();
        Assert.Equal("2026-11-16", lastWeek.GetProperty("week").GetString());
        Assert.Equal(1, lastWeek.GetProperty("issued").GetInt64());
        Assert.Equal(1, lastWeek.GetProperty("accepted").GetInt64());
        Assert.Equal(1.0, lastWeek.GetProperty("acceptanceRate").GetDouble());
        Assert.Equal(55, therapy.GetProperty("weekly").EnumerateArray().Sum(w => w.GetProperty("issued").GetInt64()));
        Assert.Equal([("iv", 10L), ("oral", 9L)], Suggestions(therapy));
        Assert.Equal([("iron-addressed", 8L)], therapy.GetProperty("overrideReasons").EnumerateArray().Select(r => (r.GetProperty("code").GetString(), r.GetProperty("count").GetInt64())));

        var ssri = Kind(report, "ssri-caution");
        Assert.Equal(20, ssri.GetProperty("issued").GetInt64());
        Assert.Equal(0, ssri.GetProperty("lockOuts").GetInt64());
        Assert.Equal(0.3889, ssri.GetProperty("acceptanceRate").GetDouble());
        Assert.Equal([("remove", 5L), ("iron-studies", 2L)], Suggestions(ssri));
        Assert.Equal(["benefit-outweighs-risk", "tolerated-before"], ssri.GetProperty("overrideReasons").EnumerateArray().Select(r => r.GetProperty("code").GetString()));
        Assert.Equal(1, report.GetProperty("unmatchedFeedback").GetProperty("accepted").GetInt64());
        Assert.Equal(0, report.GetProperty("unmatchedFeedback").GetProperty("overridden").GetInt64());
        // A week without feedback has no acceptance rate (the chart's line breaks there).
        Assert.False(ssri.GetProperty("weekly")[0].TryGetProperty("acceptanceRate", out _));
    }

    [Fact]
    public async Task Report_LongerPeriodAndServiceFilter_ChangeTheFigures()
    {
        using var client = await ClientAsync();
        var cookie = await client.SignInAsync();

        var longer = await client.ReportAsync(cookie, "?from=2026-06-01&to=2026-11-21");
        var studies = Kind(longer, "iron-studies");
        Assert.Equal(12, studies.GetProperty("issued").GetInt64());
        Assert.Equal(6, studies.GetProperty("accepted").GetInt64());
        // No key recorded for these cards: the suggestion is named by its position.
        Assert.Equal([("#1", 6L)], Suggestions(studies));
        Assert.Equal(4, Kind(longer, "iron-therapy").GetProperty("lockOuts").GetInt64());

        var sign = await client.ReportAsync(cookie, "?service=rls-iron-order-sign");
        Assert.Equal("rls-iron-order-sign", sign.GetProperty("serviceId").GetString());
        Assert.Equal(["ssri-caution"], sign.GetProperty("cardKinds").EnumerateArray().Select(k => k.GetProperty("cardKind").GetString()));
        Assert.Equal(0, sign.GetProperty("unmatchedFeedback").GetProperty("accepted").GetInt64());
        var select = await client.ReportAsync(cookie, "?service=rls-iron-order-select");
        Assert.Equal(1, select.GetProperty("unmatchedFeedback").GetProperty("accepted").GetInt64());
    }

    [Theory]
    [InlineData("?service=no-such-service", "service")]
    [InlineData("?from=last-week", "from")]
    [InlineData("?to=2026-02-30", "to")]
    [InlineData("?from=2020-01-01&to=2026-11-21", "from")]
    [InlineData("?from=2026-11-21&to=2026-11-01", "from")]
    public async Task Report_BadFilter_Returns400NamingTheParameter(string query, string parameter)
    {
        using var client = await ClientAsync();
        var cookie = await client.SignInAsync();
        foreach (var path in new[] { "/dashboard/api/report", "/dashboard/api/cards.csv" })
        {
            using var response = await client.GetAsync(path + query, cookie);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), problem.ToString());
        }
        using var page = await client.GetAsync("/dashboard" + query, cookie);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains("id=\"filter-errors\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Csv_ListsTheTableAsAnAttachmentNamedAfterThePeriod()
    {
        using var client = await ClientAsync();
        using var response = await client.GetAsync("/dashboard/api/cards.csv?from=2026-08-24&to=2026-11-21", await client.SignInAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("card-kinds_2026-08-24_2026-11-21.csv", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("card_kind,service,issued,accepted,overridden,acceptance_rate,lock_outs", lines[0]);
        Assert.Equal("iron-therapy,all,55,19,8,0.7037,3", lines[1]);
        Assert.Equal("ssri-caution,all,20,7,11,0.3889,0", lines[2]);
        Assert.Equal("iv-iron-caution,all,0,0,0,,1", lines[3]);
    }

    [Fact]
    public async Task Page_HasItsOwnStrictCspNoStoreAndTheReportsNumbers()
    {
        using var client = await ClientAsync();
        using var response = await client.GetAsync("/dashboard", await client.SignInAsync());
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(DashboardApi.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.DoesNotContain("script-src", DashboardApi.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<td data-field=\"issued\" data-value=\"55\">55</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td data-field=\"lockOuts\" data-value=\"3\">3</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("not recorded", html, StringComparison.Ordinal);

        using var css = await client.GetAsync(DashboardPage.Stylesheet);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task SignOut_WithCsrf_ClearsTheCookie_WithoutIt_Returns400()
    {
        using var client = await ClientAsync();
        var cookie = await client.SignInAsync();
        using (var refused = await client.PostFormAsync("/dashboard/logout", [new("csrf", "wrong")], cookie))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        using var page = await client.GetAsync("/dashboard", cookie);
        var csrf = WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"csrf\" value=\"([^\"]+)\"").Groups[1].Value);
        using var response = await client.PostFormAsync("/dashboard/logout", [new("csrf", csrf)], cookie);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("expires=Thu, 01 Jan 1970", DashboardClient.SetCookie(response, SessionCookie), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnalyticsReport_NeedsTheApiKeyHeader_AndMatchesTheDashboardReport()
    {
        using var client = await ClientAsync();
        var dashboard = await client.ReportAsync(await client.SignInAsync());
        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        using (var without = await http.GetAsync("/analytics/cards/report"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        }
        http.DefaultRequestHeaders.Add("X-Api-Key", DashboardHost.OperatorKey);
        var analytics = JsonDocument.Parse(await http.GetStringAsync("/analytics/cards/report")).RootElement;
        Assert.Equal(dashboard.GetProperty("cardKinds").ToString(), analytics.GetProperty("cardKinds").ToString());
    }

    [Fact]
    public async Task OpenApi_DescribesTheReportEndpoints()
    {
        using var http = new HttpClient { BaseAddress = await host.ReadyAsync() };
        var document = await http.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/analytics/cards/report", document, StringComparison.Ordinal);
        Assert.Contains("/dashboard/api/report", document, StringComparison.Ordinal);
        Assert.Contains("suggestionsAccepted", document, StringComparison.Ordinal);
        Assert.Contains("lockOuts", document, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoData_FillsAnEmptyStoreOnly()
    {
        await using var scratch = new ScratchHost();
        _ = scratch.Client;
        Assert.Equal(0, await DemoData.RunAsync(scratch.Services, ["demo-data", "--weeks", "4", "--seed", "7"]));
        var query = scratch.Services.GetRequiredService<CardReportQuery>();
        var report = await query.RunAsync(scratch.Clock.GetUtcNow().AddDays(-28), scratch.Clock.GetUtcNow(), null, [], 5, CancellationToken.None);
        Assert.Equal(6, report.CardKinds.Count);
        Assert.All(report.CardKinds, k => Assert.True(k.Issued > 0));
        Assert.Contains(report.CardKinds, k => k.OverrideReasons.Count > 0);
        Assert.Contains(report.CardKinds, k => k.SuggestionsAccepted.Any(s => s.Key == "remove"));

        Assert.Equal(1, await DemoData.RunAsync(scratch.Services, ["demo-data"]));
        Assert.Equal(2, await DemoData.RunAsync(scratch.Services, ["demo-data", "--weeks", "0"]));
    }

    private sealed class ScratchHost : CdsServiceHost;

    private static JsonElement Kind(JsonElement report, string kind) =>
        report.GetProperty("cardKinds").EnumerateArray().Single(k => k.GetProperty("cardKind").GetString() == kind);

    private static IEnumerable<(string?, long)> Suggestions(JsonElement kind) =>
        kind.GetProperty("suggestionsAccepted").EnumerateArray().Select(s => (s.GetProperty("key").GetString(), s.GetProperty("accepted").GetInt64())).ToList();
}

/// <summary>Without an operator key the dashboard is locked outside Development, and open (no sign-in) in it.</summary>
public sealed class DashboardAccessModeTests
{
    [Fact]
    public async Task NoKey_OutsideDevelopment_IsLocked()
    {
        await using var host = new ConfiguredHost();
        using var client = new DashboardClient(host.BaseAddress);
        using var page = await client.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Contains("Analytics__ApiKey", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var login = await client.GetAsync("/dashboard/login");
        Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);
        using var report = await client.GetAsync("/dashboard/api/report");
        Assert.Equal(HttpStatusCode.Forbidden, report.StatusCode);
    }

    [Fact]
    public async Task SignIn_OverTheAttemptsPerMinute_Returns429()
    {
        await using var host = new ConfiguredHost(("Analytics:ApiKey", DashboardHost.OperatorKey), ("Dashboard:LoginAttemptsPerMinute", "2"));
        using var client = new DashboardClient(host.BaseAddress);
        var (csrf, loginCookie) = await client.OpenLoginFormAsync();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostFormAsync("/dashboard/login", [new("csrf", csrf), new("key", "wrong-wrong-wrong-wrong")], loginCookie);
            statuses.Add(response.StatusCode);
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task NoKey_InDevelopment_IsOpenWithANotice()
    {
        await using var host = new ConfiguredHost("Development");
        using var client = new DashboardClient(host.BaseAddress);
        using var page = await client.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"empty-state\"", html, StringComparison.Ordinal);
        Assert.Contains("demo-data", html, StringComparison.Ordinal);
        using var report = await client.GetAsync("/dashboard/api/report");
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
    }

    [Fact]
    public async Task LockOutOff_ReportSaysNotRecorded_AndThePageShowsADash()
    {
        await using var host = new ConfiguredHost("Development", ("Analytics:LockOut:Enabled", "false"));
        _ = host.Client;
        var card = new IssuedCard(Guid.NewGuid().ToString(), "rls-iron-order-select", "iron-therapy", Guid.NewGuid().ToString(), host.Clock.GetUtcNow().AddDays(-1), []);
        await using (var log = new CardLogStore(host.Services.GetRequiredService<CdsDatabase>())) await log.AppendAsync([card], CancellationToken.None);

        using var client = new DashboardClient(host.BaseAddress);
        using var report = await client.GetAsync("/dashboard/api/report");
        using var json = System.Text.Json.JsonDocument.Parse(await report.Content.ReadAsStringAsync());
        Assert.False(json.RootElement.GetProperty("lockOutsRecorded").GetBoolean());
        Assert.False(json.RootElement.GetProperty("cardKinds")[0].TryGetProperty("lockOuts", out _));
        using var page = await client.GetAsync("/dashboard");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<td data-field=\"lockOuts\" title=\"Not recorded by this store\">", html, StringComparison.Ordinal);
        Assert.Contains("id=\"lockouts-note\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverrideReasonFromAnEhr_IsEncodedOnThePage()
    {
        await using var host = new ConfiguredHost("Development");
        _ = host.Client;
        const string Hostile = "<img src=x onerror=alert(1)>\"quoted\"";
        var at = host.Clock.GetUtcNow().AddDays(-1);
        var card = new IssuedCard(Guid.NewGuid().ToString(), "rls-iron-order-select", "ssri-caution", Guid.NewGuid().ToString(), at, []);
        await using (var log = new CardLogStore(host.Services.GetRequiredService<CdsDatabase>())) await log.AppendAsync([card], CancellationToken.None);
        await host.Services.GetRequiredService<FeedbackStore>().SaveAsync("rls-iron-order-select",
            [new(card.CardUuid, FeedbackOutcome.Overridden, at, [], new("urn:x", "x", Hostile))], at, CancellationToken.None);

        using var client = new DashboardClient(host.BaseAddress);
        using var page = await client.GetAsync("/dashboard");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreDown_PageSays503WithAMessage_ApiReturns503()
    {
        await using var host = new DevelopmentStoreDownHost();
        _ = host.Client;
        using var client = new DashboardClient(host.BaseAddress);
        host.Database.Down = true;
        using var page = await client.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
        Assert.Contains("id=\"store-unavailable\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var report = await client.GetAsync("/dashboard/api/report");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, report.StatusCode);
        using var csv = await client.GetAsync("/dashboard/api/cards.csv");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, csv.StatusCode);
    }

    private sealed class DevelopmentStoreDownHost : CdsServiceHost
    {
        public StoreDownHost.SwitchableDatabase Database { get; private set; } = null!;

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Development");
        }

        protected override void ConfigureTestServices(IServiceCollection services) =>
            services.AddSingleton<CdsDatabase>(sp =>
                Database = new StoreDownHost.SwitchableDatabase(new SqliteCdsDatabase("Data Source=" + DatabasePath, Path.GetTempPath())));
    }
}

/// <summary>Dashboard settings out of range stop the service at boot, naming the key.</summary>
[Collection(BootFailureCollection.Name)]
public sealed class DashboardOptionsTests
{
    [Theory]
    [InlineData("Dashboard:SessionMinutes", "2")]
    [InlineData("Dashboard:LoginAttemptsPerMinute", "0")]
    public void BadDashboardSetting_StopsTheBootNamingTheKey(string key, string value)
    {
        var error = ConfiguredHost.BootFailure((key, value));
        Assert.Contains(key, error.ToString(), StringComparison.Ordinal);
    }
}
