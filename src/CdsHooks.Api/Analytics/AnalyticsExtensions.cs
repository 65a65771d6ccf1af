using CdsHooks.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using CdsHooks.Api.LockOut;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Analytics;

public static class AnalyticsExtensions
{
    /// <summary>
    /// The card log (a bounded queue, its background batch writer and its spool), its readiness entry, the lock-out that
    /// reads it, and the analytics endpoint's options.
    /// </summary>
    public static IServiceCollection AddCardAnalytics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AnalyticsOptions>().Bind(configuration.GetSection(AnalyticsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AnalyticsOptions>, AnalyticsOptionsValidator>();
        services.AddSingleton<CardLogWriter>();
        services.AddSingleton<ICardLog>(sp => sp.GetRequiredService<CardLogWriter>());
        services.AddSingleton<ICardLogHealth>(sp => sp.GetRequiredService<CardLogWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<CardLogWriter>());
        services.AddSingleton<CardReportQuery>();
        // The lock-out after override records what it held back: the report counts it per kind.
        services.TryAddSingleton<ILockOutStatistics>(sp => new LockOutCountQuery(
            sp.GetRequiredService<CdsDatabase>(), sp.GetRequiredService<IOptions<AnalyticsOptions>>().Value.LockOut.Enabled));
        services.AddHealthChecks().AddCheck<CardLogHealthCheck>("card-log", tags: ["ready"]);
        services.AddCardLockOut();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, AnalyticsJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, CardReportJsonContext.Default);
        });
        return services;
    }
}
