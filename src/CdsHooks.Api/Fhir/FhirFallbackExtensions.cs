using System.Net;
using CdsHooks.Api.Security;
using CdsHooks.Api.Services;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly.Telemetry;

namespace CdsHooks.Api.Fhir;

public static class FhirFallbackExtensions
{
    /// <summary>
    /// Reading prefetch gaps from the EHR's FHIR server: options (validated at boot), the allowlist, and the HttpClient
    /// with its resilience pipeline per server authority (Microsoft.Extensions.Http.Resilience).
    /// </summary>
    public static IServiceCollection AddFhirFallback(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FhirOptions>()
            .Bind(configuration.GetSection(FhirOptions.Section))
            // https only, except in Development (a local FHIR sandbox) or when explicitly allowed (tests on loopback).
            .PostConfigure<IHostEnvironment>((o, env) => o.AllowInsecureHttp ??= env.IsDevelopment())
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<FhirOptions>, FhirOptionsValidator>();
        services.AddSingleton<FhirServerAllowlist>();
        services.AddHttpClient(FhirPrefetchFallback.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan) // the deadline governs
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // A 3xx could lead off the allowlist and carry the bearer token there: never follow one.
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.All,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            // The default HttpClient logs carry URLs, and FHIR URLs carry patient ids; the fallback logs hosts only.
            .RemoveAllLoggers()
            .AddResilienceHandler(FhirResiliencePipeline.Name, (builder, context) => FhirResiliencePipeline.Configure(builder, context.GetOptions<FhirOptions>()))
            .SelectPipelineByAuthority();
        // Added last, so innermost (below the resilience pipeline): it sees each HTTP attempt.
        services.AddHttpClient(FhirPrefetchFallback.HttpClientName).AddHttpMessageHandler(sp => new Telemetry.FhirAttemptTelemetry(sp.GetRequiredService<Telemetry.CdsMetrics>()));
        services.Configure<TelemetryOptions>(o => o.SeverityProvider = FhirResiliencePipeline.Severity);
        services.AddSingleton<IPrefetchFallback, FhirPrefetchFallback>();
        return services;
    }
}
