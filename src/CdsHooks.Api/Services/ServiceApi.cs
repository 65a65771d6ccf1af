using System.Diagnostics;
using System.Text.Json;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Rls;
using CdsHooks.Rls.Cards;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CdsHooks.Api.Services;

/// <summary><c>POST /cds-services/{id}</c> (CDS Hooks 2.0 §Calling a CDS Service).</summary>
public static partial class ServiceApi
{
    public static RouteGroupBuilder MapCdsServices(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/cds-services").WithTags("CDS Services");
        group.MapPost("/{id}", InvokeAsync)
            .WithName("InvokeService")
            .WithSummary("Calls a CDS service with a hook request; answers with cards.")
            .Accepts<CdsRequest>("application/json")
            .Produces<CdsResponse>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Produces<OperationOutcome>(StatusCodes.Status412PreconditionFailed, "application/fhir+json");
        return group;
    }

    public static async Task<Results<Ok<CdsResponse>, ValidationProblem, ProblemHttpResult, JsonHttpResult<OperationOutcome>>> InvokeAsync(
        string id,
        HttpRequest http,
        CdsServiceCatalog catalog,
        PatientDataGatherer gatherer,
        RlsAdvisor advisor,
        TimeProvider clock,
        ILogger<CdsServiceCatalog> logger,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (catalog.Find(id) is not { } service)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown CDS service",
                detail: "No CDS service has this id. GET /cds-services lists the services.");
        }
        if (!http.HasJsonContentType())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send the hook request as application/json.");
        }

        var (request, parseError) = await ReadAsync(http, cancellationToken);
        if (request is null)
        {
            return TypedResults.ValidationProblem(parseError!, title: "Malformed hook request");
        }

        var errors = RequestValidator.Validate(request, service);
        if (errors.Count > 0)
        {
            LogRejected(logger, service.Id, string.Join(", ", errors.Keys));
            return TypedResults.ValidationProblem(errors, title: "Invalid hook request");
        }

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["hookInstance"] = request.HookInstance!, ["serviceId"] = service.Id });
        var gathered = await gatherer.GatherAsync(request, service, cancellationToken);
        if (gathered.Record is null)
        {
            LogPreconditionFailed(logger, string.Join(", ", gathered.Missing.Select(m => m.Key)));
            var outcome = new OperationOutcome
            {
                Issue = [.. gathered.Missing.Select(m => new OperationOutcomeIssue
                {
                    Severity = "error",
                    Code = "incomplete",
                    Diagnostics = m.Reason,
                    Expression = ["prefetch." + m.Key],
                })],
            };
            return TypedResults.Json(outcome, CdsJson.Options, "application/fhir+json", StatusCodes.Status412PreconditionFailed);
        }

        var context = new CardContext(service.Id, request.HookInstance!, service.Kind, request.Context!.PatientId!, request.Context.EncounterId, request.Context.UserId);
        var cards = advisor.Advise(gathered.Record, context, clock.GetUtcNow());
        LogAnswered(logger, cards.Count, string.Join(",", cards.Select(c => c.Source.Topic?.Code)), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return TypedResults.Ok(new CdsResponse { Cards = cards });
    }

    private static async Task<(CdsRequest?, Dictionary<string, string[]>?)> ReadAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        try
        {
            var request = await HookRequestBody.ReadAsync(http.BodyReader, cancellationToken);
            return request is null
                ? (null, new() { ["$"] = ["The body must be a JSON object (a CDS Hooks request)."] })
                : (request, null);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) ? "$" : ex.Path;
            return (null, new() { [path] = [$"Malformed JSON at {path} (line {ex.LineNumber + 1}): {FirstSentence(ex.Message)}"] });
        }
    }

    /// <summary>System.Text.Json messages end with path and position details we already report separately.</summary>
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        var text = cut > 0 ? message[..cut] : message;
        return text.Replace("System.", "", StringComparison.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Answered with {CardCount} cards [{Topics}] in {ElapsedMs:0.0} ms")]
    private static partial void LogAnswered(ILogger logger, int cardCount, string topics, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected a request to {ServiceId}: invalid {Fields}")]
    private static partial void LogRejected(ILogger logger, string serviceId, string fields);

    [LoggerMessage(Level = LogLevel.Warning, Message = "412: required data missing: {Keys}")]
    private static partial void LogPreconditionFailed(ILogger logger, string keys);
}
