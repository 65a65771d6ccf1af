using CdsHooks.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace CdsHooks.Storage.Tests;

/// <summary>The embedded SQLite store: fsynced commits, the card log's relaxed connection, the file's location.</summary>
public sealed class SqliteCdsDatabaseTests
{
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
}
