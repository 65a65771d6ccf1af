using System.Buffers;
using System.Text.Json;
using CdsHooks.Api.Explain;
using CdsHooks.Api.Fhir;
using CdsHooks.Api.Services;
using CdsHooks.Protocol;
using CdsHooks.Rls;
using CdsHooks.Rls.Knowledge;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Operations;

public static class OperationsExtensions
{
    /// <summary>The clinical knowledge, rules, service catalog and data gathering.</summary>
    public static IServiceCollection AddRlsCds(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RlsOptions>().Bind(configuration.GetSection(RlsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RlsOptions>, RlsOptionsValidator>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<RlsOptions>>().Value;
            return RlsKnowledge.Load(string.IsNullOrWhiteSpace(o.KnowledgePath) ? null : o.KnowledgePath, o.AcceptPreliminaryResults, o.IronStudiesWindowDays);
        });
        services.AddSingleton<RlsAdvisor>();
        services.AddSingleton<CdsServiceCatalog>();
        services.AddSingleton<PatientDataGatherer>();
        services.AddSingleton<ExplainLinks>();
        services.AddFhirFallback(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddHealthChecks().AddCheck<KnowledgeHealthCheck>("knowledge", tags: ["ready"]);
        return services;
    }

    /// <summary>System.Text.Json source generation for every body, omitting nulls and empty lists.</summary>
    public static IServiceCollection AddCdsJson(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(o => CdsJson.Configure(o.SerializerOptions));

    /// <summary>
    /// Liveness says the process answers; readiness says it can give advice, and when not, why: a JSON body with each
    /// check's status and description (the checks run in parallel, each with its own short timeout).
    /// </summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).WithTags("Operations");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteReadinessAsync })
            .WithTags("Operations");
        return app;
    }

    /// <summary><c>{"status":"Unhealthy","checks":{"redis":{"status":"Unhealthy","description":"redis: no answer within 250 ms","durationMs":250.4},…}}</c></summary>
    private static async Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                if (entry.Description is { } description) json.WriteString("description", description);
                json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }
}

/// <summary>Ready once the knowledge file is loaded and compiled.</summary>
public sealed class KnowledgeHealthCheck(RlsKnowledge knowledge) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy($"knowledge {knowledge.Version}"));
}
