using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CdsHooks.Storage;

/// <summary>Where feedback and the card log are kept (section <c>Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary><c>sqlite</c> (default: an embedded file, zero setup) or <c>postgres</c> (shared by every node).</summary>
    public string Provider { get; set; } = Sqlite;

    /// <summary>
    /// A Microsoft.Data.Sqlite connection string (default <c>Data Source=&lt;content root&gt;/data/cds.db</c>; a relative
    /// path is taken from the content root) or an Npgsql one (required for <c>postgres</c>).
    /// </summary>
    public string? ConnectionString { get; set; }

    public bool IsPostgres => string.Equals(Provider, Postgres, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Cross-node state (section <c>Redis</c>); unset means this process keeps it in memory.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    public const int MinOperationTimeoutMilliseconds = 10;
    public const int MaxOperationTimeoutMilliseconds = 1000;

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>redis1:6379,password=…,ssl=true</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The longest a call waits for one Redis operation (a jti check, the readiness probe) before it is answered 503:
    /// a hung Redis must cost a caller a fraction of a second, never its whole timeout.
    /// </summary>
    public int OperationTimeoutMilliseconds { get; set; } = 250;

    public TimeSpan OperationTimeout => TimeSpan.FromMilliseconds(OperationTimeoutMilliseconds);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString);
}

/// <summary>A bad storage configuration stops the service at boot with a message naming the key.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var provider = options.Provider?.Trim() ?? "";
        if (!provider.Equals(StorageOptions.Sqlite, StringComparison.OrdinalIgnoreCase) && !options.IsPostgres)
        {
            return ValidateOptionsResult.Fail($"Storage:Provider must be '{StorageOptions.Sqlite}' or '{StorageOptions.Postgres}', not '{provider}'.");
        }
        if (options.IsPostgres)
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                return ValidateOptionsResult.Fail("Storage:ConnectionString is required when Storage:Provider is 'postgres' (e.g. Host=db;Database=cds;Username=cds;Password=…).");
            }
            try
            {
                var b = new NpgsqlConnectionStringBuilder(options.ConnectionString);
                if (string.IsNullOrWhiteSpace(b.Host)) return ValidateOptionsResult.Fail("Storage:ConnectionString must name a Host for PostgreSQL.");
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail($"Storage:ConnectionString is not a valid PostgreSQL connection string: {ex.Message}");
            }
            return ValidateOptionsResult.Success;
        }
        if (options.ConnectionString is { } cs)
        {
            try
            {
                var b = new SqliteConnectionStringBuilder(cs);
                if (string.IsNullOrWhiteSpace(b.DataSource)) return ValidateOptionsResult.Fail("Storage:ConnectionString must name a Data Source (the SQLite file).");
                if (b.Mode is SqliteOpenMode.ReadOnly) return ValidateOptionsResult.Fail("Storage:ConnectionString must not open SQLite read-only: feedback is written to it.");
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail($"Storage:ConnectionString is not a valid SQLite connection string: {ex.Message}");
            }
        }
        return ValidateOptionsResult.Success;
    }
}

internal sealed class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        if (options.OperationTimeoutMilliseconds is < RedisOptions.MinOperationTimeoutMilliseconds or > RedisOptions.MaxOperationTimeoutMilliseconds)
        {
            return ValidateOptionsResult.Fail($"Redis:OperationTimeoutMilliseconds must be between {RedisOptions.MinOperationTimeoutMilliseconds} and " +
                $"{RedisOptions.MaxOperationTimeoutMilliseconds} (how long a call waits for Redis before it is answered 503), not {options.OperationTimeoutMilliseconds}.");
        }
        if (!options.IsConfigured) return ValidateOptionsResult.Success;
        try
        {
            var parsed = StackExchange.Redis.ConfigurationOptions.Parse(options.ConnectionString!);
            return parsed.EndPoints.Count == 0
                ? ValidateOptionsResult.Fail("Redis:ConnectionString must name at least one host:port.")
                : ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail($"Redis:ConnectionString is not a valid StackExchange.Redis configuration: {ex.Message}");
        }
    }
}
