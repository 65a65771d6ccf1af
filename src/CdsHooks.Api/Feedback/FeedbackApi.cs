using System.Data.Common;
using CdsHooks.Api.Security;
using CdsHooks.Api.Services;
using CdsHooks.Api.Telemetry;
using CdsHooks.Protocol;
using CdsHooks.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CdsHooks.Api.Feedback;

/// <summary><c>POST /cds-services/{id}/feedback</c> (CDS Hooks 2.0 §Feedback): what the user did with our cards.</summary>
public static partial class FeedbackApi
{
    public static RouteGroupBuilder MapFeedback(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/cds-services").WithTags("Feedback").RequireAuthorization(CdsAuthorization.CdsClient);
        group.MapPost("/{id}/feedback", PostAsync)
            .WithName("PostFeedback")
            .WithSummary("Records whether cards were accepted or overridden; 200 once the reports are stored durably.")
            .Accepts<FeedbackRequest>("application/json")
            .Produces(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    /// <summary>
    /// 200 only after the transaction holding every report has committed: an acknowledged report survives a crash.
    /// A report already stored (a client retry) is not stored again and still answered 200.
    /// </summary>
    public static async Task<Results<Ok, ValidationProblem, ProblemHttpResult>> PostAsync(
        string id,
        HttpRequest http,
        CdsServiceCatalog catalog,
        FeedbackStore store,
        CdsMetrics metrics,
        TimeProvider clock,
        ILogger<FeedbackStore> logger,
        CancellationToken cancellationToken)
    {
        if (catalog.Find(id) is not { } service) return CdsProblems.UnknownService();
        if (!http.HasJsonContentType()) return CdsProblems.NotJson("feedback");

        var (body, parseError) = await JsonRequestBody.ReadAsync(http, CdsJson.FeedbackInfo, "a CDS Hooks feedback request", cancellationToken);
        if (body is null) return TypedResults.ValidationProblem(parseError!, title: "Malformed feedback");

        var (errors, reports) = FeedbackValidator.Validate(body);
        if (errors.Count > 0)
        {
            LogRejected(logger, service.Id, string.Join(", ", errors.Keys));
            return TypedResults.ValidationProblem(errors, title: "Invalid feedback");
        }

        using var span = CdsTelemetry.Source.StartActivity(CdsTelemetry.FeedbackStoreSpan);
        span?.SetTag(CdsTelemetry.ServiceId, service.Id);
        span?.SetTag(CdsTelemetry.FeedbackReports, reports.Count);
        try
        {
            var saved = await store.SaveAsync(service.Id, reports, clock.GetUtcNow(), cancellationToken);
            span?.SetTag(CdsTelemetry.FeedbackStored, saved.Stored);
            metrics.FeedbackAcknowledged(service.Id, reports);
            LogStored(logger, service.Id, saved.Stored, saved.AlreadyStored);
            return TypedResults.Ok();
        }
        catch (Exception ex) when (ex is DbException or TimeoutException)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "store-unavailable");
            // The store's failure episode is logged once by StoreHealth (and counted); each refused call only at Debug.
            LogStoreFailed(logger, service.Id, reports.Count, StoreHealth.Describe(ex));
            http.HttpContext.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Feedback not stored",
                detail: "The feedback store is unavailable; nothing was recorded. Send the same feedback again later.");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Feedback for {ServiceId}: {Stored} reports stored, {AlreadyStored} already stored")]
    private static partial void LogStored(ILogger logger, string serviceId, int stored, int alreadyStored);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected feedback for {ServiceId}: invalid {Fields}")]
    private static partial void LogRejected(ILogger logger, string serviceId, string fields);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Feedback for {ServiceId} not stored ({Count} reports): {Reason}")]
    private static partial void LogStoreFailed(ILogger logger, string serviceId, int count, string reason);
}
