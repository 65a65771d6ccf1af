using Microsoft.Data.Sqlite;

namespace CdsHooks.Storage;

/// <summary>
/// Where the service keeps its local files (the card-log spool, a development patient key): the SQLite file's folder, or
/// <c>&lt;content root&gt;/data</c> with PostgreSQL (in Docker both are <c>/app/data</c>, the volume).
/// </summary>
public sealed record DataFolder(string Path)
{
    public const string Default = "data";

    /// <summary><paramref name="path"/> when absolute, else the same path under this folder.</summary>
    public string Resolve(string path) => System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, path));

    public static DataFolder For(StorageOptions options, string contentRoot)
    {
        if (!options.IsPostgres)
        {
            var dataSource = new SqliteConnectionStringBuilder(options.ConnectionString ?? "Data Source=" + System.IO.Path.Combine(Default, "cds.db")).DataSource;
            var file = SqliteCdsDatabase.ResolveDataSource(dataSource, contentRoot);
            if (System.IO.Path.IsPathRooted(file) && System.IO.Path.GetDirectoryName(file) is { Length: > 0 } folder) return new DataFolder(folder);
        }
        return new DataFolder(System.IO.Path.GetFullPath(System.IO.Path.Combine(contentRoot, Default)));
    }
}
