using System.Diagnostics;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.Services;
using CdsHooks.Fhir;
using CdsHooks.Protocol;

namespace CdsHooks.Api.Telemetry;

/// <summary>
/// Observes each call of <c>POST /cds-services/{id}</c> from outside its handler, by the answer it returns: the
/// request's server span (the hook call's span, parent of the authentication, FHIR read, rules and card-log spans)
/// gets the service, hook, card count and card kinds or the 412 reasons; <c>cds.hook.duration</c>,
/// <c>cds.cards.issued</c> and <c>cds.hook.precondition_failed</c> are recorded. With telemetry off the endpoint has no
/// such filter (<see cref="CdsTelemetry.WithHookCallTelemetry"/>).
/// </summary>
public sealed class HookCallTelemetry(CdsServiceCatalog catalog, CdsMetrics metrics) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var tracing = CdsTelemetry.Tracing;
        if (!tracing && !metrics.HookCallsObserved) return await next(context);

        var started = Stopwatch.GetTimestamp();
        // The ASP.NET Core request span: this filter runs inside it, and the handler's spans end before it returns.
        var span = tracing && Activity.Current is { IsAllDataRequested: true } current ? current : null;
        var service = catalog.Find(context.GetArgument<string>(0));
        var serviceId = service?.Id ?? CdsMetrics.UnknownService;
        var hook = service?.Hook ?? CdsMetrics.UnknownService;
        span?.SetTag(CdsTelemetry.ServiceId, serviceId);
        span?.SetTag(CdsTelemetry.Hook, hook);
        object? result;
        try
        {
            result = await next(context);
        }
        catch (Exception ex)
        {
            metrics.HookAnswered(serviceId, hook, null, ex.GetType().FullName, Stopwatch.GetElapsedTime(started));
            throw;
        }

        var answer = (result as INestedHttpResult)?.Result ?? result as IResult;
        var status = (answer as IStatusCodeHttpResult)?.StatusCode;
        metrics.HookAnswered(serviceId, hook, status, null, Stopwatch.GetElapsedTime(started));
        switch (answer)
        {
            case IValueHttpResult<CdsResponse> { Value.Cards: { } cards }:
                Answered(span, serviceId, cards);
                break;
            case IValueHttpResult<OperationOutcome> { Value.Issue: { } issues } when status == StatusCodes.Status412PreconditionFailed:
                PreconditionFailed(span, serviceId, issues);
                break;
        }
        return result;
    }

    /// <summary>Tags the hook call's span with the hookInstance (the CDS Hooks correlation id, a UUID the EHR makes up).</summary>
    public static void HookInstance(string hookInstance)
    {
        if (CdsTelemetry.Tracing && Activity.Current is { IsAllDataRequested: true } span) span.SetTag(CdsTelemetry.HookInstance, hookInstance);
    }

    private void Answered(Activity? span, string serviceId, List<Card> cards)
    {
        var kinds = new string[cards.Count];
        for (var i = 0; i < cards.Count; i++)
        {
            kinds[i] = cards[i].Source.Topic?.Code ?? CardLogRecords.UnknownKind;
            metrics.CardIssued(serviceId, kinds[i]);
        }
        span?.SetTag(CdsTelemetry.CardCount, cards.Count);
        span?.SetTag(CdsTelemetry.CardKinds, kinds);
    }

    private void PreconditionFailed(Activity? span, string serviceId, List<OperationOutcomeIssue> issues)
    {
        // The codes are the service's own (FHIR IssueType: timeout, login, forbidden, ...), never text from the EHR.
        var reasons = issues.Select(i => i.Code ?? "unknown").Distinct(StringComparer.Ordinal).ToArray();
        foreach (var reason in reasons) metrics.PreconditionFailed(serviceId, reason);
        span?.SetTag(CdsTelemetry.PreconditionReasons, reasons);
    }
}
