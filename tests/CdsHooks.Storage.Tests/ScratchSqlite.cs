namespace CdsHooks.Storage.Tests;

/// <summary>A throwaway migrated-on-demand SQLite file.</summary>
internal sealed class ScratchSqlite : IAsyncDisposable
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
