using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Threading.RateLimiting;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.Services;
using CdsHooks.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Dashboard;

/// <summary>
/// <c>/dashboard</c>: the card governance dashboard (HTML), its sign-in, and its data (<c>/dashboard/api/report</c>,
/// <c>/dashboard/api/cards.csv</c>). A browser cannot send the EHR's client JWT, so this area has its own access: the
/// operator key exchanged once for a session cookie (<see cref="DashboardAccess"/>). It is not under the CDS client
/// paths, and its responses carry their own CSP: styles from this origin only, no script at all.
/// </summary>
public static partial class DashboardApi
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private const string LoginRateLimit = "dashboard-login";
    private const string HtmlType = "text/html; charset=utf-8";

    public static IServiceCollection AddDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DashboardOptions>().Bind(configuration.GetSection(DashboardOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DashboardOptions>, DashboardOptionsValidator>();
        services.AddSingleton<DashboardAccess>();
        // Sign-in attempts per client address: the key is long enough not to be guessed, this keeps it that way.
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<DashboardOptions>>((limiter, options) =>
            limiter.AddPolicy(LoginRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = options.Value.LoginAttemptsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 })));
        return services;
    }

    public static RouteGroupBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/dashboard").WithTags("Dashboard").AddEndpointFilter(AddPageHeaders);
        group.MapGet("/", GetPageAsync).ExcludeFromDescription();
        group.MapGet("/login", GetLogin).ExcludeFromDescription();
        group.MapPost("/login", PostLoginAsync).ExcludeFromDescription().RequireRateLimiting(LoginRateLimit).DisableAntiforgery();
        group.MapPost("/logout", PostLogoutAsync).ExcludeFromDescription().DisableAntiforgery();
        group.MapGet("/assets/dashboard.css", GetStylesheet).ExcludeFromDescription();

        var api = group.MapGroup("/api").AddEndpointFilter(RequireSession);
        api.MapGet("/report", AnalyticsApi.GetReportAsync)
            .WithName("DashboardReport")
            .WithSummary("The dashboard's data (same as GET /analytics/cards/report), for a browser with a dashboard session cookie.")
            .Produces<CardReport>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/cards.csv", GetCsvAsync)
            .WithName("DashboardCardsCsv")
            .WithSummary("The per-card-kind table as CSV (card_kind, service, issued, accepted, overridden, acceptance_rate, lock_outs); same filter as the report.")
            .Produces<string>(StatusCodes.Status200OK, "text/csv")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    /// <summary>
    /// The page. <c>from</c> and <c>to</c> are days (UTC, both inclusive; default the 90 days up to today), <c>service</c>
    /// one service id or empty for all. Bad input is shown on the page with a 400; a store that does not answer, a 503.
    /// </summary>
    public static async Task<Results<ContentHttpResult, RedirectHttpResult>> GetPageAsync(
        HttpContext context, string? from, string? to, string? service,
        DashboardAccess access, CardReportQuery query, CdsServiceCatalog catalog, IOptions<AnalyticsOptions> options, TimeProvider clock,
        ILogger<DashboardAccess> logger, CancellationToken cancellationToken)
    {
        if (access.Mode == DashboardAccessMode.Locked) return Html(DashboardPage.RenderLocked(), StatusCodes.Status403Forbidden);
        if (!access.IsSignedIn(context, out var session)) return TypedResults.Redirect("/dashboard/login");

        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var toDay = ReadDay(to, "to", today, errors);
        var fromDay = ReadDay(from, "from", toDay.AddDays(-89), errors);
        var services = catalog.Services.Select(s => s.Id).ToList();
        var view = new DashboardView(fromDay, toDay, string.IsNullOrEmpty(service) ? null : service, services, null, null, false, access.Mode,
            session is null ? null : access.SessionCsrfToken(session));
        var range = default(AnalyticsApi.ReportRange);
        if (errors.Count == 0 && !AnalyticsApi.TryReadReportRange(Day(fromDay), Day(toDay), service, catalog, clock, out range, out var rangeErrors)) errors = rangeErrors;
        if (errors.Count > 0) return Html(DashboardPage.Render(view with { Errors = errors }), StatusCodes.Status400BadRequest);
        try
        {
            var report = await AnalyticsApi.RunReportAsync(query, catalog, options.Value, range, cancellationToken);
            return Html(DashboardPage.Render(view with { Report = report }), StatusCodes.Status200OK);
        }
        catch (DbException ex)
        {
            LogStoreUnavailable(logger, ex);
            return Html(DashboardPage.Render(view with { StoreUnavailable = true }), StatusCodes.Status503ServiceUnavailable);
        }
    }

    public static Results<ContentHttpResult, RedirectHttpResult> GetLogin(HttpContext context, DashboardAccess access) => access.Mode switch
    {
        DashboardAccessMode.Locked => Html(DashboardPage.RenderLocked(), StatusCodes.Status403Forbidden),
        DashboardAccessMode.Open => TypedResults.Redirect("/dashboard"),
        _ when access.IsSignedIn(context, out _) => TypedResults.Redirect("/dashboard"),
        _ => Html(DashboardPage.RenderLogin(access.IssueLoginToken(context), null), StatusCodes.Status200OK),
    };

    /// <summary>The key form: CSRF token (cookie and field equal and signed), then the key; success sets the session and goes to the page.</summary>
    public static async Task<Results<ContentHttpResult, RedirectHttpResult, StatusCodeHttpResult>> PostLoginAsync(
        HttpContext context, DashboardAccess access, ILogger<DashboardAccess> logger)
    {
        if (access.Mode == DashboardAccessMode.Locked) return Html(DashboardPage.RenderLocked(), StatusCodes.Status403Forbidden);
        if (access.Mode == DashboardAccessMode.Open) return TypedResults.Redirect("/dashboard", permanent: false, preserveMethod: false);
        if (!context.Request.HasFormContentType) return TypedResults.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (!access.IsLoginToken(context, form[DashboardAccess.CsrfField].ToString()))
        {
            LogLoginRefused(logger, "the form's CSRF token is missing, expired or does not match its cookie");
            return Html(DashboardPage.RenderLogin(access.IssueLoginToken(context), "The sign-in form had expired. Enter the key again."), StatusCodes.Status400BadRequest);
        }
        if (!access.IsOperatorKey(form["key"].ToString()))
        {
            LogLoginRefused(logger, "wrong operator key");
            return Html(DashboardPage.RenderLogin(access.IssueLoginToken(context), "That is not the operator key."), StatusCodes.Status401Unauthorized);
        }
        access.SignIn(context);
        LogSignedIn(logger, access.SessionLifetime.TotalMinutes);
        return SeeOther("/dashboard");
    }

    public static async Task<Results<RedirectHttpResult, StatusCodeHttpResult>> PostLogoutAsync(HttpContext context, DashboardAccess access)
    {
        if (!access.IsSignedIn(context, out var session) || session is null) return SeeOther("/dashboard/login");
        if (!context.Request.HasFormContentType) return TypedResults.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (!access.IsSessionCsrfToken(session, form[DashboardAccess.CsrfField].ToString())) return TypedResults.StatusCode(StatusCodes.Status400BadRequest);
        access.SignOut(context);
        return SeeOther("/dashboard/login");
    }

    /// <summary>The per-card-kind table as CSV, named after the period. Cells that a spreadsheet would run as a formula are quoted with a leading apostrophe.</summary>
    public static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> GetCsvAsync(
        string? from, string? to, string? service,
        CardReportQuery query, CdsServiceCatalog catalog, IOptions<AnalyticsOptions> options, TimeProvider clock,
        ILogger<CardReportQuery> logger, CancellationToken cancellationToken)
    {
        if (!AnalyticsApi.TryReadReportRange(from, to, service, catalog, clock, out var range, out var errors))
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid report filter");
        }
        CardReport report;
        try
        {
            report = await AnalyticsApi.RunReportAsync(query, catalog, options.Value, range, cancellationToken);
        }
        catch (DbException ex)
        {
            LogStoreUnavailable(logger, ex);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Analytics unavailable", detail: "The store does not answer; try again later.");
        }
        var csv = new StringBuilder("card_kind,service,issued,accepted,overridden,acceptance_rate,lock_outs\r\n");
        foreach (var k in report.CardKinds)
        {
            csv.Append(Cell(k.CardKind)).Append(',').Append(Cell(report.ServiceId ?? "all")).Append(',')
                .Append(CultureInfo.InvariantCulture, $"{k.Issued},{k.Accepted},{k.Overridden},{k.AcceptanceRate?.ToString("0.####", CultureInfo.InvariantCulture)},{k.LockOuts}\r\n");
        }
        var name = $"card-kinds_{Day(DateOnly.FromDateTime(range.Start.UtcDateTime))}_{Day(DateOnly.FromDateTime(range.End.UtcDateTime.AddTicks(-1)))}{(range.Service is null ? "" : "_" + range.Service)}.csv";
        return TypedResults.File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv; charset=utf-8", name);
    }

    public static FileContentHttpResult GetStylesheet()
    {
        using var stream = typeof(DashboardApi).Assembly.GetManifestResourceStream("dashboard.css")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return TypedResults.File(copy.ToArray(), "text/css; charset=utf-8");
    }

    /// <summary>The data endpoints: 403 while locked, 401 (problem details) without a valid session.</summary>
    private static async ValueTask<object?> RequireSession(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var access = context.HttpContext.RequestServices.GetRequiredService<DashboardAccess>();
        if (access.Mode == DashboardAccessMode.Locked)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Dashboard locked", detail: "Set Analytics:ApiKey to enable the dashboard.");
        }
        if (!access.IsSignedIn(context.HttpContext, out _))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Sign in first", detail: "Sign in at /dashboard/login; the session cookie is sent with these calls.");
        }
        return await next(context);
    }

    /// <summary>
    /// The dashboard's own CSP (the edge keeps a CSP that is already set): its stylesheet and forms, nothing else. Pages
    /// and figures are never cached; the stylesheet may be.
    /// </summary>
    private static async ValueTask<object?> AddPageHeaders(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var headers = context.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.CacheControl = context.HttpContext.Request.Path.StartsWithSegments("/dashboard/assets", StringComparison.OrdinalIgnoreCase) ? "private, max-age=3600" : "no-store";
        return await next(context);
    }

    private static ContentHttpResult Html(string html, int status) => TypedResults.Content(html, HtmlType, Encoding.UTF8, status);

    /// <summary>302 Found: after a form post the browser follows with a GET.</summary>
    private static RedirectHttpResult SeeOther(string url) => TypedResults.Redirect(url, permanent: false, preserveMethod: false);

    private static DateOnly ReadDay(string? value, string name, DateOnly fallback, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value)) return fallback;
        if (value.Length == 10 && DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) && day.Year is >= 1970 and <= 9000) return day;
        errors[name] = [$"'{name}' must be a day such as 2026-11-21, not '{(value.Length > 40 ? value[..40] + "…" : value)}'."];
        return fallback;
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Cell(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard sign-in; session valid for {Minutes} minutes")]
    private static partial void LogSignedIn(ILogger logger, double minutes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard sign-in refused: {Reason}")]
    private static partial void LogLoginRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dashboard: the store does not answer")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception exception);
}
