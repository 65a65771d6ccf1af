using CdsHooks.Api.Security;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CdsHooks.Api.Storage;

public static class StorageExtensions
{
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
        // Local files (card-log spool, development patient key): the SQLite file's folder, or <content root>/data.
        services.AddSingleton(sp => DataFolder.For(sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<IHostEnvironment>().ContentRootPath));
        // Registered before the card log writer, so the schema exists before anything is written.
        services.AddHostedService<SchemaMigrator>();
        services.AddSingleton<FeedbackStore>();
        services.AddSingleton<CardStatisticsQuery>();
        var health = services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: ["ready"]);

        services.AddOptions<RedisOptions>().Bind(configuration.GetSection(RedisOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>();
        if (configuration.GetSection(RedisOptions.Section).Get<RedisOptions>() is { IsConfigured: true })
        {
            services.AddSingleton<IConnectionMultiplexer>(sp =>
            {
                var o = ConfigurationOptions.Parse(sp.GetRequiredService<IOptions<RedisOptions>>().Value.ConnectionString);
                // Start even while Redis is briefly down (readiness reports it); commands fail until it is back.
                o.AbortOnConnectFail = false;
                return ConnectionMultiplexer.Connect(o);
            });
            services.AddSingleton<IJtiReplayStore, RedisJtiReplayStore>();
            health.AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        }
        return services;
    }
}

/// <summary>Ready when the database answers a trivial query.</summary>
public sealed class StorageHealthCheck(CdsDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var command = CdsDatabase.Command(connection, null, "SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy(database.Provider);
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy($"{database.Provider} at {database.Location} does not answer", ex);
        }
    }
}

/// <summary>Ready when Redis answers PING: without it no node can check a jti.</summary>
public sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"redis {latency.TotalMilliseconds:0.0} ms");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("redis does not answer", ex);
        }
    }
}
