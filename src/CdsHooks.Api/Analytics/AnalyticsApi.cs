using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CdsHooks.Api.Storage;
using CdsHooks.Protocol;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Analytics;

/// <summary><c>GET /analytics/cards</c>: how often each kind of card is issued, accepted and overridden, and why.</summary>
public static partial class AnalyticsApi
{
    public const string ApiKeyHeader = "X-Api-Key";
    private static readonly TimeSpan DefaultRange = TimeSpan.FromDays(30);

    public static RouteGroupBuilder MapCardAnalytics(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/analytics").WithTags("Analytics").AddEndpointFilter(RequireApiKeyAsync);
        group.MapGet("/cards", GetCardsAsync)
            .WithName("CardAnalytics")
            .WithSummary("Cards issued, accepted and overridden per service and card kind, with the top override reasons, over [from, to).")
            .Produces<CardAnalyticsReport>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .Produces(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
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

    /// <summary>
    /// With <c>Analytics:ApiKey</c> set, <c>X-Api-Key</c> must match it (compared in constant time). This is on top of
    /// any authentication the host applies to <c>/analytics/*</c>. A refusal is a bare 401, as for a bad JWT.
    /// </summary>
    public static async ValueTask<object?> RequireApiKeyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var options = context.HttpContext.RequestServices.GetRequiredService<IOptions<AnalyticsOptions>>().Value;
        if (options.RequiresApiKey)
        {
            var sent = context.HttpContext.Request.Headers[ApiKeyHeader].ToString();
            var expected = SHA256.HashData(Encoding.UTF8.GetBytes(options.ApiKey!.Trim()));
            var actual = SHA256.HashData(Encoding.UTF8.GetBytes(sent));
            if (!CryptographicOperations.FixedTimeEquals(expected, actual))
            {
                context.HttpContext.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
                return TypedResults.Unauthorized();
            }
        }
        return await next(context);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Card analytics query failed")]
    private static partial void LogQueryFailed(ILogger logger, Exception exception);
}
