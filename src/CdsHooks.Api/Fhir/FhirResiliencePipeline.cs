using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Telemetry;
using Polly.Timeout;

namespace CdsHooks.Api.Fhir;

/// <summary>
/// The FHIR HttpClient's resilience pipeline. Microsoft.Extensions.Http.Resilience builds one per FHIR server authority
/// (scheme, host, port: <c>SelectPipelineByAuthority</c>) and keeps it, so one failing EHR's circuit never blocks
/// another's; only allowlisted servers are ever called, so there are few. Order, outermost first: retry, circuit
/// breaker, per-attempt timeout (App-vNext/Polly, docs/strategies). Polly.Extensions gives the builder the registered
/// <see cref="TimeProvider"/>, so delays, timeouts and breaks run on the clock a test installs.
/// </summary>
public static class FhirResiliencePipeline
{
    /// <summary>The pipeline's name on the FHIR HttpClient.</summary>
    public const string Name = "resilience";

    /// <summary>How Polly's logs and metrics name it (the client's name, then the pipeline's), before "/{authority}".</summary>
    public const string TelemetryName = FhirPrefetchFallback.HttpClientName + "-" + Name;

    private static readonly HashSet<HttpStatusCode> Retryable =
        [HttpStatusCode.TooManyRequests, HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout];

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, FhirOptions options)
    {
        var time = builder.TimeProvider ?? TimeProvider.System;
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                // Exponential backoff with jitter, the library's default, from this first delay.
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryBaseDelay,
                // Only a GET is repeated: anything else could act twice on the EHR (RFC 9110 §9.2.2). The library's
                // DisableForUnsafeHttpMethods would still repeat HEAD, OPTIONS and TRACE, and is experimental.
                ShouldHandle = args => ValueTask.FromResult(args.Context.GetRequestMessage()?.Method == HttpMethod.Get
                    && IsRetryable(args.Outcome) && RetryAfterAcceptable(args.Outcome.Result, options.MaxRetryAfter, time)),
                // Retry-After (RFC 9110 §10.2.3) overrides the backoff when the server sends it. Read here rather than
                // by the library (ShouldRetryAfterHeader), which dates an HTTP-date Retry-After by the system clock.
                ShouldRetryAfterHeader = false,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, time)),
            });
        }
        builder.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = options.CircuitBreaker.FailureRatio,
            MinimumThroughput = options.CircuitBreaker.MinimumThroughput,
            SamplingDuration = options.CircuitBreaker.SamplingDuration,
            BreakDuration = options.CircuitBreaker.BreakDuration,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or TimeoutRejectedException
                || args.Outcome.Result is { StatusCode: >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests }),
        });
        builder.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = options.AttemptTimeout });
    }

    /// <summary>
    /// Polly logs every execution of the pipeline, and every attempt the retry did not act on, at Information. A hook
    /// call reads up to a dozen resources and the fallback logs its own summary and each failure: these two are Debug
    /// here. Retries, timeouts, handled failures and circuit changes keep Polly's severity.
    /// </summary>
    public static ResilienceEventSeverity Severity(SeverityProviderArguments args) =>
        args.Source.PipelineName == TelemetryName
        && args.Event is { EventName: "PipelineExecuted" or "ExecutionAttempt", Severity: ResilienceEventSeverity.Information }
            ? ResilienceEventSeverity.Debug
            : args.Event.Severity;

    /// <summary>429, 502, 503, 504, an attempt timeout or a connection failure; a 500 says the query itself failed.</summary>
    private static bool IsRetryable(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException or TimeoutRejectedException
        || (outcome.Result is { } response && Retryable.Contains(response.StatusCode));

    /// <summary>A server asking us to wait longer than the EHR will wait for the card: give up now rather than at the deadline.</summary>
    private static bool RetryAfterAcceptable(HttpResponseMessage? response, TimeSpan maxRetryAfter, TimeProvider time) =>
        RetryAfter(response, time) is not { } wait || wait <= maxRetryAfter;

    private static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider time)
    {
        var header = response?.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }
}
