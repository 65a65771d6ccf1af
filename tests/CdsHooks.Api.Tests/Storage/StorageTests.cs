using System.Net;
using System.Text;
using CdsHooks.Api.Tests.Feedback;
using CdsHooks.Protocol;
using CdsHooks.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Tests.Storage;

/// <summary>Storage configuration, schema migration and the embedded SQLite store.</summary>
[Collection(BootFailureCollection.Name)]
public sealed class StorageTests
{
    [Theory]
    [InlineData("mysql", null, "Storage:Provider")]
    [InlineData("postgres", null, "Storage:ConnectionString is required")]
    [InlineData("postgres", "Database=cds", "must name a Host")]
    [InlineData("postgres", "Hots=db", "Storage:ConnectionString")]
    [InlineData("sqlite", "Mode=ReadOnly;Data Source=x.db", "read-only")]
    [InlineData("sqlite", "Nonsense Key=1", "Storage:ConnectionString")]
    public void StorageValidator_BadSettings_FailNamingTheKey(string provider, string? connectionString, string expected)
    {
        var result = new StorageOptionsValidator().Validate(null, new StorageOptions { Provider = provider, ConnectionString = connectionString });
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sqlite", null)]
    [InlineData("SQLite", "Data Source=/tmp/x.db")]
    [InlineData("postgres", "Host=127.0.0.1;Port=5432;Database=cds;Username=cds")]
    public void StorageValidator_GoodSettings_Pass(string provider, string? connectionString) =>
        Assert.True(new StorageOptionsValidator().Validate(null, new StorageOptions { Provider = provider, ConnectionString = connectionString }).Succeeded);

    [Theory]
    [InlineData("", true)]
    [InlineData("127.0.0.1:6379,abortConnect=false", true)]
    [InlineData("127.0.0.1:6379,notAnOption=1", false)]
    [InlineData(",,,", false)]
    public void RedisValidator_ChecksTheConfigurationString(string value, bool valid) =>
        Assert.Equal(valid, new RedisOptionsValidator().Validate(null, new RedisOptions { ConnectionString = value }).Succeeded);

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(1001)]
    public void RedisValidator_OperationTimeoutOutOfRange_FailsNamingTheKey(int milliseconds)
    {
        var result = new RedisOptionsValidator().Validate(null, new RedisOptions { ConnectionString = "127.0.0.1:6379", OperationTimeoutMilliseconds = milliseconds });
        Assert.True(result.Failed);
        Assert.Contains("Redis:OperationTimeoutMilliseconds", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void RedisOperationTimeoutOutOfRange_StopsTheStartWithTheKeyInTheMessage()
    {
        using var host = new ConfiguredHost(("Redis:OperationTimeoutMilliseconds", "5000"));
        var error = Assert.Throws<OptionsValidationException>(() => host.Client);
        Assert.Contains("Redis:OperationTimeoutMilliseconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadStorageProvider_StopsTheStartWithTheKeyInTheMessage()
    {
        using var host = new ConfiguredHost(("Storage:Provider", "oracle"));
        var error = Assert.Throws<OptionsValidationException>(() => host.Client);
        Assert.Contains("Storage:Provider", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_TwiceOnTheSameFile_AppliesEachVersionOnce()
    {
        await using var scratch = new ScratchSqlite();
        var migrator = new SchemaMigrator(scratch.Database, NullLogger<SchemaMigrator>.Instance);

        Assert.Equal(SchemaMigrator.LatestVersion, await migrator.MigrateAsync(CancellationToken.None));
        Assert.Equal(SchemaMigrator.LatestVersion, await migrator.MigrateAsync(CancellationToken.None));

        var versions = await StoreInspection.QueryAsync(scratch.Database, "SELECT version FROM schema_version");
        Assert.Equal(SchemaMigrator.Migrations.Count, versions.Count);
        var journal = await StoreInspection.QueryAsync(scratch.Database, "PRAGMA journal_mode");
        Assert.Equal("wal", journal[0]["journal_mode"]);
    }

    [Fact]
    public async Task Migrate_DatabaseFromANewerBuild_RefusesToStart()
    {
        await using var scratch = new ScratchSqlite();
        var migrator = new SchemaMigrator(scratch.Database, NullLogger<SchemaMigrator>.Instance);
        await migrator.MigrateAsync(CancellationToken.None);
        await scratch.Database.WriteAsync(async (c, t) =>
        {
            await using var insert = c.CreateCommand();
            insert.Transaction = t;
            insert.CommandText = "INSERT INTO schema_version (version, description, applied_at) VALUES (999, 'future', 0)";
            return await insert.ExecuteNonQueryAsync();
        }, CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => migrator.MigrateAsync(CancellationToken.None));
        Assert.Contains("schema version 999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SqliteConnections_UseFullSynchronousCommits()
    {
        await using var scratch = new ScratchSqlite();
        var rows = await StoreInspection.QueryAsync(scratch.Database, "PRAGMA synchronous");
        Assert.Equal(2L, rows[0]["synchronous"]); // 2 = FULL
    }

    [Fact]
    public async Task SqliteCardLogConnection_IsRelaxedToNormal_AndNeverHandsThatToFeedbackWrites()
    {
        await using var scratch = new ScratchSqlite();
        await using (var bulk = await scratch.Database.OpenBulkWriterAsync(CancellationToken.None))
        {
            Assert.Equal(1L, await PragmaAsync(bulk, "synchronous")); // 1 = NORMAL
        }

        // A feedback write opens after the card log's connection was closed: it must still fsync every commit.
        await using var next = await scratch.Database.OpenAsync(CancellationToken.None);
        Assert.Equal(2L, await PragmaAsync(next, "synchronous"));
    }

    private static async Task<object?> PragmaAsync(System.Data.Common.DbConnection connection, string pragma)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + pragma;
        return await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task RelativeSqlitePath_IsUnderTheContentRoot_AndCreatedWhenMissing()
    {
        var root = Path.Combine(Path.GetTempPath(), "cds-tests", Guid.NewGuid().ToString("N"));
        await using (var database = new SqliteCdsDatabase("Data Source=" + Path.Combine("data", "cds.db"), root))
        {
            Assert.Equal(Path.Combine(root, "data", "cds.db"), database.Location);
            await new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
        }
        Assert.True(File.Exists(Path.Combine(root, "data", "cds.db")));
        Directory.Delete(root, recursive: true);
    }

    /// <summary>A throwaway migrated-on-demand SQLite file.</summary>
    private sealed class ScratchSqlite : IAsyncDisposable
    {
        private readonly string _folder = Path.Combine(Path.GetTempPath(), "cds-tests", Guid.NewGuid().ToString("N"));

        public ScratchSqlite() => Database = new SqliteCdsDatabase("Data Source=" + Path.Combine(_folder, "cds.db"), _folder);

        public SqliteCdsDatabase Database { get; }

        public async ValueTask DisposeAsync()
        {
            await Database.DisposeAsync();
            Directory.Delete(_folder, recursive: true);
        }
    }
}

/// <summary>A host whose store a test can take down after start-up (the schema is migrated while it is up).</summary>
public sealed class StoreDownHost : CdsServiceHost
{
    public SwitchableDatabase Database { get; private set; } = null!;

    protected override void ConfigureTestServices(IServiceCollection services) =>
        services.AddSingleton<CdsDatabase>(sp =>
            Database = new SwitchableDatabase(new SqliteCdsDatabase("Data Source=" + DatabasePath, Path.GetTempPath())));

    public sealed class SwitchableDatabase(CdsDatabase inner) : CdsDatabase
    {
        public volatile bool Down;

        public override string Provider => inner.Provider;
        public override string Location => inner.Location;

        public override Task<System.Data.Common.DbConnection> OpenAsync(CancellationToken cancellationToken) =>
            Down ? throw new SqliteException("unable to open database file (simulated)", 14) : inner.OpenAsync(cancellationToken);

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}

/// <summary>When the store fails: feedback 503 with Retry-After (nothing acknowledged that was not stored), analytics 503, not ready.</summary>
public sealed class StoreDownTests(StoreDownHost host) : IClassFixture<StoreDownHost>
{
    [Fact]
    public async Task StoreDown_FeedbackAnalyticsAndReadiness_Return503()
    {
        _ = host.Client;
        host.Database.Down = true;
        try
        {
            using var content = new StringContent(FeedbackTests.Body(FeedbackTests.Accepted(Guid.NewGuid().ToString(), Guid.NewGuid().ToString())), Encoding.UTF8, "application/json");
            using var feedback = await host.Client.PostAsync("/cds-services/rls-iron-order-select/feedback", content);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, feedback.StatusCode);
            Assert.NotNull(feedback.Headers.RetryAfter);

            using var analytics = await host.Client.GetAsync("/analytics/cards");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, analytics.StatusCode);

            using var ready = await host.Client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }
        finally
        {
            host.Database.Down = false;
        }
    }
}
