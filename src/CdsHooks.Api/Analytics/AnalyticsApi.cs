using System.Data.Common;
using System.Globalization;
using CdsHooks.Api.Security;
using CdsHooks.Api.Services;
using CdsHooks.Protocol;
using CdsHooks.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Analytics;

/// <summary><c>GET /analytics/cards</c>: how often each kind of card is issued, accepted and overridden, and why.</summary>
public static partial class AnalyticsApi
{
    private static readonly TimeSpan DefaultRange = TimeSpan.FromDays(30);

    public static RouteGroupBuilder MapCardAnalytics(this IEndpointRouteBuilder app)
    {
        // A CDS client, and the operator key when Analytics:ApiKey is set.
        var group = app.MapGroup("/analytics").WithTags("Analytics").RequireAuthorization(CdsAuthorization.AnalyticsReader);
        group.MapGet("/cards", GetCardsAsync)
            .WithName("CardAnalytics")
            .WithSummary("Cards issued, accepted and overridden per service and card kind, with the top override reasons, over [from, to).")
            .Produces<CardAnalyticsReport>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .Produces(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/cards/report", GetReportAsync)
            .WithName("CardReport")
            .WithSummary("Per card kind over [from, to), optionally for one service: totals, weekly series, override reasons and suggestions accepted (what the dashboard draws).")
            .Produces<CardReport>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .Produces(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    /// <summary>
    /// <c>from</c> (inclusive) and <c>to</c> (exclusive) as for <c>/analytics/cards</c>, but the default range is the 90
    /// days up to now and a range may span at most <see cref="MaxReportDays"/> days. <c>service</c>: one service id, or
    /// absent for all.
    /// </summary>
    public static async Task<Results<Ok<CardReport>, ValidationProblem, ProblemHttpResult>> GetReportAsync(
        string? from,
        string? to,
        string? service,
        CardReportQuery query,
        CdsServiceCatalog catalog,
        IOptions<AnalyticsOptions> options,
        TimeProvider clock,
        ILogger<CardReportQuery> logger,
        CancellationToken cancellationToken)
    {
        if (!TryReadReportRange(from, to, service, catalog, clock, out var range, out var errors))
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid report filter");
        }
        try
        {
            return TypedResults.Ok(await RunReportAsync(query, catalog, options.Value, range, cancellationToken));
        }
        catch (DbException ex)
        {
            LogQueryFailed(logger, ex);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Analytics unavailable",
                detail: "The store does not answer; try again later.");
        }
    }

    /// <summary>The longest range one report may cover (its weekly series has one entry per week).</summary>
    public const int MaxReportDays = 1830;
    private static readonly TimeSpan DefaultReportRange = TimeSpan.FromDays(90);

    /// <summary>A report's checked filter: [Start, End) and an optional known service id.</summary>
    public readonly record struct ReportRange(DateTimeOffset Start, DateTimeOffset End, string? Service);

    internal static Task<CardReport> RunReportAsync(CardReportQuery query, CdsServiceCatalog catalog, AnalyticsOptions options, ReportRange range, CancellationToken cancellationToken) =>
        query.RunAsync(range.Start, range.End, range.Service, [.. catalog.Services.Select(s => s.Id)], options.TopOverrideReasons, cancellationToken);

    /// <summary>Reads and checks a report's filter; <paramref name="errors"/> names each bad parameter.</summary>
    internal static bool TryReadReportRange(string? from, string? to, string? service, CdsServiceCatalog catalog, TimeProvider clock,
        out ReportRange range, out Dictionary<string, string[]> errors)
    {
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        range = default;
        var end = clock.GetUtcNow();
        if (!string.IsNullOrEmpty(to) && !TryParseBound(to, endOfDay: true, out end)) errors["to"] = [Describe("to", to)];
        var start = DateTimeOffset.MinValue;
        if (!string.IsNullOrEmpty(from) && !TryParseBound(from, endOfDay: false, out start)) errors["from"] = [Describe("from", from)];
        if (string.IsNullOrEmpty(from) && errors.Count == 0) start = end - DefaultReportRange;
        if (errors.Count == 0 && start >= end) errors["from"] = ["'from' must be before 'to'."];
        else if (errors.Count == 0 && end - start > TimeSpan.FromDays(MaxReportDays)) errors["from"] = [$"The range may span at most {MaxReportDays} days."];
        if (string.IsNullOrEmpty(service)) service = null;
        else if (catalog.Find(service) is null)
        {
            errors["service"] = [$"'service' must be one of {string.Join(", ", catalog.Services.Select(s => s.Id))}, or absent for all."];
        }
        if (errors.Count > 0) return false;
        range = new ReportRange(start, end, service);
        return true;
    }

    /// <summary>
    /// <c>from</c> (inclusive): RFC 3339 date-time or a date (midnight UTC); default 30 days before <c>to</c>.
    /// <c>to</c> (exclusive): RFC 3339 date-time, or a date meaning the whole of that day (UTC); default now.
    /// </summary>
    public static async Task<Results<Ok<CardAnalyticsReport>, ValidationProblem, ProblemHttpResult>> GetCardsAsync(
        string? from,
        string? to,
        CardStatisticsQuery query,
        IOptions<AnalyticsOptions> options,
        TimeProvider clock,
        ILogger<CardStatisticsQuery> logger,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var end = clock.GetUtcNow();
        if (to is not null && !TryParseBound(to, endOfDay: true, out end)) errors["to"] = [Describe("to", to)];
        var start = DateTimeOffset.MinValue;
        if (from is not null && !TryParseBound(from, endOfDay: false, out start)) errors["from"] = [Describe("from", from)];
        if (from is null && errors.Count == 0) start = end - DefaultRange;
        if (errors.Count == 0 && start >= end) errors["from"] = ["'from' must be before 'to'."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "Invalid time range");

        try
        {
            return TypedResults.Ok(await query.RunAsync(start, end, options.Value.TopOverrideReasons, cancellationToken));
        }
        catch (DbException ex)
        {
            LogQueryFailed(logger, ex);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Analytics unavailable",
                detail: "The store does not answer; try again later.");
        }
    }

    /// <summary>RFC 3339 date-time, or a full date (UTC); a date as the end of a range includes that whole day.</summary>
    internal static bool TryParseBound(string value, bool endOfDay, out DateTimeOffset instant)
    {
        if (Rfc3339.TryParse(value, out instant)) return InRange(instant);
        if (value.Length == 10 && DateTime.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            instant = new DateTimeOffset(date, TimeSpan.Zero);
            if (!InRange(instant)) return false;
            if (endOfDay) instant = instant.AddDays(1);
            return true;
        }
        return false;
    }

    /// <summary>Years far outside any card's life would only overflow the range arithmetic.</summary>
    private static bool InRange(DateTimeOffset instant) => instant.Year is >= 1970 and <= 9000;

    private static string Describe(string name, string value) =>
        $"'{name}' must be an RFC 3339 date-time (2026-11-21T00:00:00Z) or a date (2026-11-21) between 1970 and 9000, not '{(value.Length > 40 ? value[..40] + "…" : value)}'.";

    [LoggerMessage(Level = LogLevel.Error, Message = "Card analytics query failed")]
    private static partial void LogQueryFailed(ILogger logger, Exception exception);
}
