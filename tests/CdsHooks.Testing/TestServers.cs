using CdsHooks.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;
using Xunit;

namespace CdsHooks.Testing;

/// <summary>
/// The real PostgreSQL and Redis that <c>scripts/test-services.sh</c> starts on loopback, found through
/// <c>CDS_TEST_POSTGRES</c> and <c>CDS_TEST_REDIS</c>. Without them a developer's run reports those tests as skipped;
/// in CI (<c>CI=true</c>) they run and fail, so a missing server can never pass unnoticed.
/// </summary>
public static class TestServers
{
    public const string PostgresVariable = "CDS_TEST_POSTGRES";
    public const string RedisVariable = "CDS_TEST_REDIS";

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string Postgres => Required(PostgresVariable);

    public static string Redis => Required(RedisVariable);

    /// <summary>Why a test needing <paramref name="variable"/> is skipped here, or null when it must run.</summary>
    public static string? SkipReason(string variable) =>
        string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(variable)) && !InCi
            ? $"{variable} is not set: start the servers with scripts/test-services.sh start (see .ci/run)"
            : null;

    /// <summary>A new, empty database on the test server (one per fixture, so parallel classes never share rows).</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "cds_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = new NpgsqlConnection(Postgres))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(Postgres) { Database = name }.ToString();
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(Postgres);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A node's own connection to the test Redis, as the service makes it (fail fast), with the longest operation bound a
    /// node may have and warmed up by one write: the first commands of a fresh test process pay for JIT compilation, which
    /// the bound is not there to absorb (these tests are about what Redis answers; the fault tests are about time).
    /// </summary>
    public static async Task<RedisConnection> ConnectRedisAsync()
    {
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var health = new StoreHealth(TimeProvider.System, meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), NullLogger<StoreHealth>.Instance);
        // 1 s, not the default 250 ms: a test process starting beside four others on two cores missed 250 ms on its first
        // SET NX once in CI, after the warm-up write. The 250 ms bound itself is tested over HTTP (RedisFaultTests).
        var options = new RedisOptions { ConnectionString = Redis, OperationTimeoutMilliseconds = RedisOptions.MaxOperationTimeoutMilliseconds };
        var connection = new RedisConnection(Options.Create(options), health, NullLogger<RedisConnection>.Instance);
        await connection.FirstAttempt;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await connection.RunAsync(db => db.StringSetAsync("cds:test-warm-up", 1, TimeSpan.FromSeconds(5), When.NotExists), CancellationToken.None);
                return connection;
            }
            catch (StoreUnavailableException) when (attempt < 20)
            {
            }
        }
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set and CI=true: scripts/test-services.sh must start the test servers.");
}

/// <summary>A fact that needs the real PostgreSQL: skipped (never passed) when it is absent outside CI.</summary>
public sealed class RequiresPostgresFactAttribute : FactAttribute
{
    public RequiresPostgresFactAttribute() => Skip = TestServers.SkipReason(TestServers.PostgresVariable);
}

/// <summary>A fact that needs the real Redis: skipped (never passed) when it is absent outside CI.</summary>
public sealed class RequiresRedisFactAttribute : FactAttribute
{
    public RequiresRedisFactAttribute() => Skip = TestServers.SkipReason(TestServers.RedisVariable);
}

/// <summary>A fact that needs both servers (scale-out).</summary>
public sealed class RequiresPostgresAndRedisFactAttribute : FactAttribute
{
    public RequiresPostgresAndRedisFactAttribute() =>
        Skip = TestServers.SkipReason(TestServers.PostgresVariable) ?? TestServers.SkipReason(TestServers.RedisVariable);
}
