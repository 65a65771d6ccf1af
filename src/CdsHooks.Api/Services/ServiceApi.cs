using System.Diagnostics;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.Explain;
using CdsHooks.Api.LockOut;
using CdsHooks.Api.Security;
using CdsHooks.Api.Telemetry;
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
        var group = app.MapGroup("/cds-services").WithTags("CDS Services").RequireAuthorization(CdsAuthorization.CdsClient);
        group.MapPost("/{id}", InvokeAsync)
            .WithName("InvokeService")
            .WithSummary("Calls a CDS service with a hook request; answers with cards.")
            .Accepts<CdsRequest>("application/json")
            .Produces<CdsResponse>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Produces<OperationOutcome>(StatusCodes.Status412PreconditionFailed, "application/fhir+json")
            .WithHookCallTelemetry(app.ServiceProvider);
        return group;
    }

    public static async Task<Results<BufferedJsonResult<CdsResponse>, ValidationProblem, ProblemHttpResult, JsonHttpResult<OperationOutcome>>> InvokeAsync(
        string id,
        HttpRequest http,
        CdsServiceCatalog catalog,
        PatientDataGatherer gatherer,
        RlsAdvisor advisor,
        CardLockOut lockOut,
        ICardLog cardLog,
        ExplainLinks explainLinks,
        TimeProvider clock,
        ILogger<CdsServiceCatalog> logger,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (catalog.Find(id) is not { } service)
        {
            return CdsProblems.UnknownService();
        }
        if (!http.HasJsonContentType())
        {
            return CdsProblems.NotJson("hook request");
        }

        var (request, parseError) = await JsonRequestBody.ReadAsync(http, CdsJson.RequestInfo, "a CDS Hooks request", cancellationToken);
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

        using var scope = logger.BeginHookCallScope(request.HookInstance!, service.Id);
        HookCallTelemetry.HookInstance(request.HookInstance!);
        HookCallLog.LogUnreadDraftOrders(logger, request.Context!.DraftOrders);
        var gathered = await gatherer.GatherAsync(request, service, cancellationToken);
        if (gathered.Record is null)
        {
            return PreconditionFailed(logger, gathered.Missing.Select(m => ("prefetch." + m.Key, m.Code, m.Reason)));
        }

        var context = new CardContext(service.Id, request.HookInstance!, service.Kind, request.Context!.PatientId!, request.Context.EncounterId,
            request.Context.UserId, explainLinks.BaseUrl(http));
        Advice advice;
        using (var rules = CdsTelemetry.Source.StartActivity(CdsTelemetry.RulesSpan))
        {
            advice = advisor.Advise(gathered.Record, context, clock.GetUtcNow());
            rules?.SetTag(CdsTelemetry.CardCount, advice.Cards.Count);
        }
        if (advice.Unresolved.Count > 0)
        {
            // What was read cannot tell whether the patient has RLS (the rest of the conditions or medications): 412.
            return PreconditionFailed(logger, advice.Unresolved.Select(g => (g.Key ?? "prefetch", g.Code, g.Diagnostics ?? g.Why)));
        }
        // Held back: kinds overridden for this patient within their lock-out, reminders already shown in this encounter
        // (never a card about a draft order). One bounded store lookup; the cards are shown if it fails.
        CardSelection selection;
        using (var lookup = CdsTelemetry.Source.StartActivity(CdsTelemetry.LockOutSpan))
        {
            selection = await lockOut.SelectAsync(service.Id, request.HookInstance!, http.HttpContext.GetCdsClient(), context.PatientId, context.EncounterId, advice.Cards, cancellationToken);
            lookup?.SetTag(CdsTelemetry.CardsWithheld, selection.Withheld.Count);
        }
        // Queued, never awaited: the response does not wait for the store.
        using (var enqueue = CdsTelemetry.Source.StartActivity(CdsTelemetry.CardLogEnqueueSpan))
        {
            enqueue?.SetTag(CdsTelemetry.CardCount, selection.Shown.Count + selection.Withheld.Count);
            cardLog.Record(service.Id, request.HookInstance!, selection);
        }
        var cards = selection.Shown;
        if (logger.IsEnabled(LogLevel.Information)) // the topic list is built only when it will be written
        {
            LogAnswered(logger, cards.Count, string.Join(",", cards.Select(c => c.Source.Topic?.Code)), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return new BufferedJsonResult<CdsResponse>(new CdsResponse { Cards = cards });
    }

    /// <summary>412 with an OperationOutcome naming each prefetch key that could not be read and why (CDS Hooks 2.0 §Prefetch).</summary>
    private static JsonHttpResult<OperationOutcome> PreconditionFailed(ILogger logger, IEnumerable<(string Expression, string Code, string Diagnostics)> missing)
    {
        var issues = missing.DistinctBy(m => m.Expression).ToList();
        LogPreconditionFailed(logger, string.Join(", ", issues.Select(m => m.Expression)));
        var outcome = new OperationOutcome
        {
            Issue = [.. issues.Select(m => new OperationOutcomeIssue
            {
                Severity = "error",
                Code = m.Code,
                Diagnostics = m.Diagnostics,
                Expression = [m.Expression],
            })],
        };
        return TypedResults.Json(outcome, CdsJson.Options, "application/fhir+json", StatusCodes.Status412PreconditionFailed);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Answered with {CardCount} cards [{Topics}] in {ElapsedMs:0.0} ms")]
    private static partial void LogAnswered(ILogger logger, int cardCount, string topics, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected a request to {ServiceId}: invalid {Fields}")]
    private static partial void LogRejected(ILogger logger, string serviceId, string fields);

    [LoggerMessage(Level = LogLevel.Warning, Message = "412: required data missing: {Keys}")]
    private static partial void LogPreconditionFailed(ILogger logger, string keys);
}
