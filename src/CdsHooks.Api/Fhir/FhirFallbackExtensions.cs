using System.Net;
using CdsHooks.Api.Services;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Fhir;

public static class FhirFallbackExtensions
{
    /// <summary>
    /// Reading prefetch gaps from the EHR's FHIR server: options (validated at boot), the allowlist, the per-server
    /// resilience pipelines and the HttpClient they wrap.
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
        services.AddSingleton<FhirResiliencePipelines>();
        services.AddTransient<FhirResilienceHandler>();
        services.AddHttpClient(FhirPrefetchFallback.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan) // the deadline governs
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // A 3xx could lead off the allowlist and carry the bearer token there: never follow one.
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.All,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .AddHttpMessageHandler<FhirResilienceHandler>()
            .AddHttpMessageHandler(sp => new Telemetry.FhirAttemptTelemetry(sp.GetRequiredService<Telemetry.CdsMetrics>())) // innermost: each attempt
            // The default HttpClient logs carry URLs, and FHIR URLs carry patient ids; the fallback logs hosts only.
            .RemoveAllLoggers();
        services.AddSingleton<IPrefetchFallback, FhirPrefetchFallback>();
        return services;
    }
}
