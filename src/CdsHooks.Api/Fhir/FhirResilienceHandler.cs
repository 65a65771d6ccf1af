using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace CdsHooks.Api.Fhir;

/// <summary>
/// One Polly resilience pipeline per FHIR server authority (scheme, host, port), so one failing EHR's circuit never
/// blocks another's. Built on first use and cached; only allowlisted servers are ever called, so the cache stays small.
/// Order, outermost first: retry, circuit breaker, per-attempt timeout (App-vNext/Polly, docs/strategies).
/// </summary>
public sealed class FhirResiliencePipelines(IOptions<FhirOptions> options, TimeProvider time)
{
    /// <summary>The request being sent, so the retry predicate can refuse to repeat anything but a GET.</summary>
    internal static readonly ResiliencePropertyKey<HttpMethod> MethodKey = new("fhir.method");

    private static readonly HashSet<HttpStatusCode> Transient =
        [HttpStatusCode.TooManyRequests, HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout];

    private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpResponseMessage>> _byAuthority = new(StringComparer.OrdinalIgnoreCase);

    public ResiliencePipeline<HttpResponseMessage> For(Uri uri) =>
        _byAuthority.GetOrAdd($"{uri.Scheme}://{uri.Authority}", static (_, self) => self.Build(), this);

    private ResiliencePipeline<HttpResponseMessage> Build()
    {
        var o = options.Value;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (o.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = o.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = o.RetryBaseDelay,
                // Only GET is retried: a repeated POST could act twice on the EHR (RFC 9110 §9.2.2, idempotent methods).
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context, args.Outcome, o.MaxRetryAfter)),
                // Retry-After (RFC 9110 §10.2.3) overrides the backoff when the server sends it.
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
            });
        }
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            FailureRatio = o.CircuitBreaker.FailureRatio,
            MinimumThroughput = o.CircuitBreaker.MinimumThroughput,
            SamplingDuration = o.CircuitBreaker.SamplingDuration,
            BreakDuration = o.CircuitBreaker.BreakDuration,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or TimeoutRejectedException
                || args.Outcome.Result is { StatusCode: >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests }),
        });
        builder.AddTimeout(o.AttemptTimeout);
        return builder.Build();
    }

    private bool ShouldRetry(ResilienceContext context, Outcome<HttpResponseMessage> outcome, TimeSpan maxRetryAfter)
    {
        if (!context.Properties.TryGetValue(MethodKey, out var method) || method != HttpMethod.Get || !IsTransient(outcome)) return false;
        // A server asking us to wait longer than the EHR will wait for the card: give up now rather than at the deadline.
        return RetryAfter(outcome.Result) is not { } wait || wait <= maxRetryAfter;
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException or TimeoutRejectedException
        || (outcome.Result is { } response && Transient.Contains(response.StatusCode));

    private TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }
}

/// <summary>Runs every FHIR HTTP call through its server's resilience pipeline.</summary>
public sealed class FhirResilienceHandler(FhirResiliencePipelines pipelines) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pipeline = pipelines.For(request.RequestUri ?? throw new InvalidOperationException("A FHIR request needs a URL."));
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(FhirResiliencePipelines.MethodKey, request.Method);
        try
        {
            return await pipeline.ExecuteAsync(
                static (ctx, state) => new ValueTask<HttpResponseMessage>(state.Handler.SendOnceAsync(state.Request, ctx.CancellationToken)),
                context, (Handler: this, Request: request)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}
