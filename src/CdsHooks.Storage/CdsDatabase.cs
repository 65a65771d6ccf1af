using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace CdsHooks.Storage;

/// <summary>
/// The relational store behind feedback and the card log. The SQL is shared (both engines take <c>@name</c>
/// parameters, <c>BIGINT</c>, <c>TEXT</c> and <c>INSERT … ON CONFLICT DO NOTHING</c>); only connecting and locking differ.
/// </summary>
public abstract class CdsDatabase : IAsyncDisposable
{
    /// <summary><c>sqlite</c> or <c>postgres</c>.</summary>
    public abstract string Provider { get; }

    /// <summary>Where the data is, for logs (a file or host/database; never a password).</summary>
    public abstract string Location { get; }

    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and commits it: when this returns, the rows are durable
    /// (SQLite: WAL with synchronous=FULL; PostgreSQL: a committed transaction).
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on <paramref name="connection"/>, a connection the caller keeps open
    /// between writes (the card log's, from <see cref="OpenBulkWriterAsync"/>), and commits it.
    /// </summary>
    public async Task<T> WriteAsync<T>(DbConnection connection, Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        using var writer = await EnterWriterAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// A connection for one long-lived writer of append-only rows (the card log), kept open between its batches. SQLite
    /// relaxes it to <c>synchronous=NORMAL</c>: a commit survives a killed process but may be rolled back by a power
    /// loss or OS crash, which costs no more than the cards still queued in memory would. Feedback never uses it.
    /// </summary>
    public virtual Task<DbConnection> OpenBulkWriterAsync(CancellationToken cancellationToken) => OpenAsync(cancellationToken);

    /// <summary>A connection for a short read on the hook's path (the lock-out lookup): no per-connection set-up it does not need.</summary>
    public virtual Task<DbConnection> OpenReaderAsync(CancellationToken cancellationToken) => OpenAsync(cancellationToken);

    /// <summary>
    /// Called before each read on a connection the caller keeps open (the lock-out's lookups), as
    /// <see cref="EnterWriterAsync"/> is before each write: where a store may delay or refuse a read. Nothing here.
    /// </summary>
    protected internal virtual ValueTask EnterReaderAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Serialises writers where the engine allows one at a time (SQLite) so they queue here, not in busy retries.</summary>
    protected virtual ValueTask<IDisposable?> EnterWriterAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IDisposable?>(null);

    /// <summary>Keeps two nodes starting at once from migrating the schema at the same time.</summary>
    internal virtual Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    internal static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}

/// <summary>The embedded default: one SQLite file, WAL journal, every commit fsynced.</summary>
public sealed class SqliteCdsDatabase : CdsDatabase
{
    private readonly string _connectionString;
    private readonly string _bulkConnectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    public SqliteCdsDatabase(string connectionString, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = true };
        builder.DataSource = ResolveDataSource(builder.DataSource, contentRoot);
        if (Path.GetDirectoryName(builder.DataSource) is { Length: > 0 } folder) Directory.CreateDirectory(folder);
        _connectionString = builder.ToString();
        _bulkConnectionString = new SqliteConnectionStringBuilder(_connectionString) { Pooling = false }.ToString();
        Location = builder.DataSource;
    }

    public override string Provider => StorageOptions.Sqlite;

    /// <summary>The file a Data Source names: a relative path is taken from the content root; <c>:memory:</c> stays as it is.</summary>
    public static string ResolveDataSource(string dataSource, string contentRoot) =>
        Path.IsPathRooted(dataSource) || dataSource.StartsWith(':') ? dataSource : Path.GetFullPath(Path.Combine(contentRoot, dataSource));

    public override string Location { get; }

    // WAL is a property of the file (set once, kept); synchronous is per connection. FULL fsyncs the WAL at every
    // commit, so acknowledged feedback survives power loss as well as a killed process.
    public override Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        OpenAsync(_connectionString, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;", cancellationToken);

    // Not pooled: a connection relaxed to NORMAL must never go back to the pool, where a feedback write could get it.
    public override Task<DbConnection> OpenBulkWriterAsync(CancellationToken cancellationToken) =>
        OpenAsync(_bulkConnectionString, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;", cancellationToken);

    // WAL is kept by the file and synchronous matters only to writers: a pooled connection as it is serves a read.
    public override async Task<DbConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<DbConnection> OpenAsync(string connectionString, string pragmas, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragma = Command(connection, null, pragmas);
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override async ValueTask<IDisposable?> EnterWriterAsync(CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        return new Release(_writer);
    }

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open; release them so the file can be moved or deleted after shutdown.
        using (var connection = new SqliteConnection(_connectionString)) SqliteConnection.ClearPool(connection);
        _writer.Dispose();
        return base.DisposeAsync();
    }

    private sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        public void Dispose() => semaphore.Release();
    }
}

/// <summary>PostgreSQL: shared by every node of a scale-out deployment.</summary>
public sealed class PostgresCdsDatabase : CdsDatabase
{
    /// <summary>An arbitrary constant naming this service's schema-migration advisory lock.</summary>
    private const long SchemaLockKey = 0x_52_4C_53_43_44_53; // "RLSCDS"

    private readonly NpgsqlDataSource _dataSource;

    public PostgresCdsDatabase(string connectionString)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        Location = $"{b.Host}:{b.Port}/{b.Database}";
    }

    public override string Provider => StorageOptions.Postgres;

    public override string Location { get; }

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    internal override async Task LockSchemaAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT pg_advisory_xact_lock(@key)").With("key", SchemaLockKey);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await base.DisposeAsync();
    }
}

internal static class CommandParameters
{
    /// <summary>Adds <c>@name</c> (null as SQL NULL); both providers bind by name.</summary>
    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }
}

/// <summary>Instants are stored as microseconds since the Unix epoch (BIGINT): exact, sortable, the same on both engines.</summary>
public static class StoredTime
{
    public static long ToMicros(DateTimeOffset instant) => (instant.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset FromMicros(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
}
