using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CdsHooks.Storage;

public static class StorageExtensions
{
    /// <summary>
    /// Each readiness check gives up after this long (they run in parallel), so <c>/health/ready</c> answers within
    /// a second even when a database or Redis hangs.
    /// </summary>
    public static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The relational store (SQLite file by default, PostgreSQL when configured) with its schema migrated at start-up,
    /// and, when <c>Redis:ConnectionString</c> is set, Redis for state every node must share (the jti replay store).
    /// </summary>
    public static IServiceCollection AddCdsStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<CdsDatabase>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            if (o.IsPostgres) return new PostgresCdsDatabase(o.ConnectionString!);
            var contentRoot = sp.GetRequiredService<IHostEnvironment>().ContentRootPath;
            return new SqliteCdsDatabase(o.ConnectionString ?? "Data Source=" + Path.Combine("data", "cds.db"), contentRoot);
        });
        services.AddMetrics();
        services.AddSingleton<StoreHealth>();
        // Local files (card-log spool, development patient key): the SQLite file's folder, or <content root>/data.
        services.AddSingleton(sp => DataFolder.For(sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<IHostEnvironment>().ContentRootPath));
        // Registered before the card log writer, so the schema exists before anything is written.
        services.AddHostedService<SchemaMigrator>();
        services.AddSingleton<FeedbackStore>();
        services.AddSingleton<CardStatisticsQuery>();
        var health = services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: ["ready"], timeout: HealthCheckTimeout);

        services.AddOptions<RedisOptions>().Bind(configuration.GetSection(RedisOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>();
        if (configuration.GetSection(RedisOptions.Section).Get<RedisOptions>() is { IsConfigured: true })
        {
            // Connects in the background when the host starts: start-up never waits for Redis (readiness reports it).
            services.AddSingleton<RedisConnection>();
            services.AddHostedService(sp => sp.GetRequiredService<RedisConnection>());
            services.AddSingleton<IJtiReplayStore, RedisJtiReplayStore>();
            health.AddCheck<RedisHealthCheck>("redis", tags: ["ready"], timeout: HealthCheckTimeout);
        }
        return services;
    }
}
