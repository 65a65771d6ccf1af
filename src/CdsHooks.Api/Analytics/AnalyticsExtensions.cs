using CdsHooks.Api.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Analytics;

public static class AnalyticsExtensions
{
    /// <summary>The card log (a bounded queue and its background batch writer) and the analytics endpoint's options.</summary>
    public static IServiceCollection AddCardAnalytics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AnalyticsOptions>().Bind(configuration.GetSection(AnalyticsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AnalyticsOptions>, AnalyticsOptionsValidator>();
        services.AddSingleton<CardLogWriter>();
        services.AddSingleton<ICardLog>(sp => sp.GetRequiredService<CardLogWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<CardLogWriter>());
        services.AddSingleton<CardReportQuery>();
        // Lock-outs are not recorded by this build; the lock-out store registers its own ILockOutStatistics.
        services.TryAddSingleton<ILockOutStatistics, LockOutsNotRecorded>();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, AnalyticsJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, CardReportJsonContext.Default);
        });
        return services;
    }
}
