using System.Diagnostics;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.LockOut;
using CdsHooks.Api.Security;
using CdsHooks.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CdsHooks.Api.Telemetry;

/// <summary>
/// Traces and metrics over OpenTelemetry, exported with OTLP when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is
/// set and not collected at all otherwise (no provider listens, so a span is a null check and a counter an
/// <c>Enabled</c> test). What is recorded never holds a token, a JWT, a patient id or a query value: spans carry
/// codes, counts, resource types and server authorities, and <see cref="TelemetryRedaction"/> cuts every URL an
/// instrumentation library records down to its authority before any exporter sees it.
/// </summary>
public static class CdsTelemetry
{
    /// <summary>The spans of a hook call: authentication, FHIR reads, rules, lock-out lookup, card-log enqueue, feedback writes.</summary>
    public const string ActivitySourceName = "CdsHooks.Api";

    /// <summary>The service name when <c>OTEL_SERVICE_NAME</c> is not set.</summary>
    public const string DefaultServiceName = "rls-iron-cds";

    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Polly's meter (Polly.Extensions): the FHIR client's resilience events (retries, attempt timeouts, circuit
    /// changes) and attempt and pipeline durations. Its tags are the pipeline's name and instance (the FHIR server's
    /// authority), strategy and event names, attempt numbers and exception types: no URL path or query (tested).
    /// </summary>
    public const string PollyMeterName = "Polly";

    /// <summary>Every meter of the service: its own and those of the card log, the stores, security, lock-outs and the FHIR client's resilience.</summary>
    public static readonly IReadOnlyList<string> MeterNames =
        [CdsMetrics.MeterName, ClientAuthenticationMetrics.MeterName, CardLogWriter.MeterName, StoreHealth.MeterName, CardLockOut.MeterName, PollyMeterName];

    public static readonly ActivitySource Source = new(ActivitySourceName);

    // Span names (low cardinality: what varies goes into attributes).
    public const string AuthenticateSpan = "cds.authenticate";
    public const string FhirReadSpan = "fhir.read";
    public const string RulesSpan = "cds.rules";
    public const string LockOutSpan = "cds.lock_out.select";
    public const string CardLogEnqueueSpan = "cds.card_log.enqueue";
    /// <summary>A root span per card-log batch written to the store (in the background, after the hook calls).</summary>
    public const string CardLogWriteSpan = "cds.card_log.write";
    public const string FeedbackStoreSpan = "cds.feedback.store";

    // Attribute (and metric tag) names.
    public const string ServiceId = "cds.service.id";
    public const string Hook = "cds.hook";
    public const string HookInstance = "cds.hook_instance";
    public const string CardCount = "cds.cards.count";
    public const string CardKinds = "cds.cards.kinds";
    public const string CardsWithheld = "cds.cards.withheld";
    public const string CardKind = "cds.card.kind";
    public const string PreconditionReasons = "cds.precondition.reasons";
    public const string PreconditionReason = "cds.precondition.reason";
    public const string AuthOutcome = "cds.auth.outcome";
    public const string AuthReason = "cds.auth.reason";
    public const string ClientIssuer = "cds.client.issuer";
    public const string CardLogRows = "cds.card_log.rows";
    public const string CardLogSource = "cds.card_log.source";
    public const string CardLogOutcome = "cds.card_log.outcome";
    public const string StoreProvider = "db.system.name";
    public const string FeedbackOutcome = "cds.feedback.outcome";
    public const string FeedbackReports = "cds.feedback.reports";
    public const string FeedbackStored = "cds.feedback.stored";
    public const string FhirResourceType = "fhir.resource_type";
    public const string FhirInteraction = "fhir.interaction";
    public const string FhirOutcome = "fhir.outcome";
    public const string FhirAttempts = "fhir.attempts";
    public const string FhirAttempt = "fhir.attempt";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";
    public const string HttpStatus = "http.response.status_code";
    public const string ErrorType = "error.type";

    /// <summary>Whether anything records this service's spans (false while telemetry is off).</summary>
    public static bool Tracing => Source.HasListeners();

    /// <summary>
    /// The instruments always (they cost nothing unobserved); the OpenTelemetry providers with an OTLP exporter only
    /// when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. The exporter reads the other standard variables itself
    /// (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>_HEADERS</c>, <c>OTEL_METRIC_EXPORT_INTERVAL</c>, <c>OTEL_TRACES_SAMPLER</c>...).
    /// </summary>
    public static IServiceCollection AddCdsTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<CdsMetrics>();
        if (!string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]))
        {
            services.AddCdsTelemetryPipeline()
                .WithTracing(t => t.AddOtlpExporter())
                .WithMetrics(m => m.AddOtlpExporter());
        }
        return services;
    }

    /// <summary>
    /// Observes the hook endpoint (<see cref="HookCallTelemetry"/>) when a telemetry provider is configured, and adds
    /// nothing otherwise: an endpoint filter, even one that returns at once, makes each call box its arguments.
    /// </summary>
    public static RouteHandlerBuilder WithHookCallTelemetry(this RouteHandlerBuilder endpoint, IServiceProvider services) =>
        services.GetService<TracerProvider>() is null && services.GetService<MeterProvider>() is null
            ? endpoint
            : endpoint.AddEndpointFilter<HookCallTelemetry>();

    /// <summary>
    /// The providers without an exporter: which sources, meters and instrumentations, the resource, the redaction.
    /// <see cref="AddCdsTelemetry"/> adds OTLP to it; a test host adds an in-memory exporter instead.
    /// </summary>
    public static OpenTelemetryBuilder AddCdsTelemetryPipeline(this IServiceCollection services)
    {
        services.TryAddSingleton<CdsMetrics>();
        return services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read after the default name, win over it.
            .ConfigureResource(r => r.AddService(DefaultServiceName).AddEnvironmentVariableDetector())
            .WithTracing(t => t
                .AddSource(ActivitySourceName)
                // Probes would be most of the spans and say nothing.
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase))
                .AddHttpClientInstrumentation()
                // Added before any exporter, so it runs first when a span ends.
                .AddProcessor(new TelemetryRedaction()))
            .WithMetrics(m => m
                .AddMeter([.. MeterNames])
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation());
    }
}
