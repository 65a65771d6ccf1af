using System.Data.Common;
using CdsHooks.Api.Analytics;

namespace CdsHooks.Api.Storage;

/// <summary>
/// Card log rows. A card uuid is derived from the service, hookInstance and finding, so a retried hook call logs
/// its cards once. Written by one caller at a time (the card log's writer loop), which this store lets keep one
/// connection and one prepared insert across batches: opening a connection per batch, re-running its pragmas and
/// re-preparing the insert per row cost more CPU than the hook call's own rules (bench/README.md).
/// </summary>
public sealed class CardLogStore(CdsDatabase database) : IAsyncDisposable
{
    private const string Insert = """
        INSERT INTO card_log (card_uuid, service_id, card_kind, hook_instance, issued_at, suggestion_uuids, suggestion_keys)
        VALUES (@card, @service, @kind, @hookInstance, @at, @suggestions, @keys)
        ON CONFLICT DO NOTHING
        """;

    private static readonly string[] Columns = ["card", "service", "kind", "hookInstance", "at", "suggestions", "keys"];

    private DbConnection? _connection;
    private DbCommand? _insert;

    /// <summary>Stores <paramref name="cards"/> in one transaction; returns how many were new. Not for concurrent callers.</summary>
    public async Task<int> AppendAsync(IReadOnlyList<IssuedCard> cards, CancellationToken cancellationToken)
    {
        try
        {
            _connection ??= await database.OpenBulkWriterAsync(cancellationToken);
            return await database.WriteAsync(_connection, (connection, transaction) => connection.CanCreateBatch
                ? InsertAsBatchAsync(connection, transaction, cards, cancellationToken)
                : InsertRowByRowAsync(connection, transaction, cards, cancellationToken), cancellationToken);
        }
        catch
        {
            // The connection may be broken (server restarted, file replaced): the next batch starts afresh.
            await CloseAsync();
            throw;
        }
    }

    /// <summary>One prepared statement executed per row: SQLite runs in-process, so a row costs no round trip.</summary>
    private async Task<int> InsertRowByRowAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<IssuedCard> cards, CancellationToken cancellationToken)
    {
        if (_insert is null)
        {
            _insert = CdsDatabase.Command(connection, transaction, Insert);
            foreach (var column in Columns) _insert.With(column, null);
        }
        _insert.Transaction = transaction;
        var written = 0;
        foreach (var card in cards)
        {
            Bind(_insert.Parameters, card);
            written += await _insert.ExecuteNonQueryAsync(cancellationToken);
        }
        return written;
    }

    /// <summary>Every row in one round trip where the provider batches commands (PostgreSQL).</summary>
    private static async Task<int> InsertAsBatchAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<IssuedCard> cards, CancellationToken cancellationToken)
    {
        await using var batch = connection.CreateBatch();
        batch.Transaction = transaction;
        foreach (var card in cards)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = Insert;
            foreach (var column in Columns)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = column;
                command.Parameters.Add(parameter);
            }
            Bind(command.Parameters, card);
            batch.BatchCommands.Add(command);
        }
        return await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Bind(DbParameterCollection parameters, IssuedCard card)
    {
        parameters[0].Value = card.CardUuid;
        parameters[1].Value = card.ServiceId;
        parameters[2].Value = card.CardKind;
        parameters[3].Value = card.HookInstance;
        parameters[4].Value = StoredTime.ToMicros(card.IssuedAt);
        parameters[5].Value = string.Join(' ', card.SuggestionUuids);
        parameters[6].Value = SuggestionKeys.Format(card.SuggestionKeys, card.SuggestionUuids.Count) ?? (object)DBNull.Value;
    }

    /// <summary>Closes the kept connection (the writer loop ends, or a batch failed). The next batch reopens.</summary>
    public async ValueTask CloseAsync()
    {
        if (_insert is not null) await _insert.DisposeAsync();
        if (_connection is not null) await _connection.DisposeAsync();
        _insert = null;
        _connection = null;
    }

    public ValueTask DisposeAsync() => CloseAsync();
}
