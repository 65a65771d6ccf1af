using CdsHooks.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CdsHooks.Storage.Tests;

/// <summary>Schema migration: each version once, a newer database refused, several nodes at once on PostgreSQL.</summary>
public sealed class SchemaMigratorTests
{
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

    [RequiresPostgresFact]
    public async Task Migrate_ManyNodesAtOnceOnAnEmptyDatabase_EachVersionAppliedOnce()
    {
        var connectionString = await TestServers.CreateDatabaseAsync();
        try
        {
            var nodes = Enumerable.Range(0, 4).Select(_ => new PostgresCdsDatabase(connectionString)).ToList();
            await Task.WhenAll(nodes.Select(n => new SchemaMigrator(n, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None)));

            var versions = await StoreInspection.QueryAsync(nodes[0], "SELECT version FROM schema_version");
            Assert.Equal(SchemaMigrator.Migrations.Count, versions.Count);
            foreach (var n in nodes) await n.DisposeAsync();
        }
        finally
        {
            await TestServers.DropDatabaseAsync(connectionString);
        }
    }
}
