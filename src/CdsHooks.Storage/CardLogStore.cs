using System.Data.Common;
using System.Globalization;

namespace CdsHooks.Storage;

/// <summary>
/// Card log rows: cards shown (<c>card_log</c>) and cards held back (<c>card_withheld</c>). A card uuid is derived from
/// the service, hookInstance and finding, so a retried hook call (or a spool replayed twice) stores its cards once.
/// Written by one caller at a time (the card log's writer loop), which this store lets keep one connection and one
/// prepared insert per table across batches: opening a connection per batch, re-running its pragmas and re-preparing
/// the insert per row cost more CPU than the hook call's own rules (bench/README.md).
/// </summary>
public sealed class CardLogStore(CdsDatabase database) : IAsyncDisposable
{
    private const string InsertIssued = """
        INSERT INTO card_log (card_uuid, service_id, card_kind, hook_instance, issued_at, suggestion_uuids, suggestion_keys, patient_key, encounter_key, about_draft_order)
        VALUES (@card, @service, @kind, @hookInstance, @at, @suggestions, @keys, @patient, @encounter, @draft)
        ON CONFLICT DO NOTHING
        """;

    private const string InsertWithheld = """
        INSERT INTO card_withheld (card_uuid, service_id, card_kind, reason, withheld_at)
        VALUES (@card, @service, @kind, @reason, @at)
        ON CONFLICT DO NOTHING
        """;

    private static readonly string[] IssuedColumns = ["card", "service", "kind", "hookInstance", "at", "suggestions", "keys", "patient", "encounter", "draft"];
    private static readonly string[] WithheldColumns = ["card", "service", "kind", "reason", "at"];

    private DbConnection? _connection;
    private DbCommand? _insertIssued;
    private DbCommand? _insertWithheld;

    /// <summary>Stores <paramref name="records"/> in one transaction; returns how many were new. Not for concurrent callers.</summary>
    public async Task<int> AppendAsync(IReadOnlyList<CardLogRecord> records, CancellationToken cancellationToken)
    {
        try
        {
            _connection ??= await database.OpenBulkWriterAsync(cancellationToken);
            return await database.WriteAsync(_connection, (connection, transaction) => connection.CanCreateBatch
                ? InsertAsBatchAsync(connection, transaction, records, cancellationToken)
                : InsertRowByRowAsync(connection, transaction, records, cancellationToken), cancellationToken);
        }
        catch
        {
            // The connection may be broken (server restarted, file replaced): the next batch starts afresh.
            await CloseAsync();
            throw;
        }
    }

    /// <summary>Cards shown so far (<c>card_log</c> rows): demo data goes into an empty store only.</summary>
    public async Task<long> CountIssuedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = CdsDatabase.Command(connection, null, "SELECT COUNT(*) FROM card_log");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>One prepared statement per table executed per row: SQLite runs in-process, so a row costs no round trip.</summary>
    private async Task<int> InsertRowByRowAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<CardLogRecord> records, CancellationToken cancellationToken)
    {
        var written = 0;
        foreach (var record in records)
        {
            var insert = record is IssuedCard
                ? _insertIssued ??= Prepare(connection, InsertIssued, IssuedColumns)
                : _insertWithheld ??= Prepare(connection, InsertWithheld, WithheldColumns);
            insert.Transaction = transaction;
            Bind(insert.Parameters, record);
            written += await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        return written;
    }

    private static DbCommand Prepare(DbConnection connection, string sql, string[] columns)
    {
        var command = CdsDatabase.Command(connection, null, sql);
        foreach (var column in columns) command.With(column, null);
        return command;
    }

    /// <summary>Every row in one round trip where the provider batches commands (PostgreSQL).</summary>
    private static async Task<int> InsertAsBatchAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<CardLogRecord> records, CancellationToken cancellationToken)
    {
        await using var batch = connection.CreateBatch();
        batch.Transaction = transaction;
        foreach (var record in records)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = record is IssuedCard ? InsertIssued : InsertWithheld;
            foreach (var column in record is IssuedCard ? IssuedColumns : WithheldColumns)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = column;
                command.Parameters.Add(parameter);
            }
            Bind(command.Parameters, record);
            batch.BatchCommands.Add(command);
        }
        return await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Bind(DbParameterCollection parameters, CardLogRecord record)
    {
        parameters[0].Value = record.CardUuid;
        parameters[1].Value = record.ServiceId;
        parameters[2].Value = record.CardKind;
        switch (record)
        {
            case IssuedCard card:
                parameters[3].Value = card.HookInstance;
                parameters[4].Value = StoredTime.ToMicros(card.IssuedAt);
                parameters[5].Value = string.Join(' ', card.SuggestionUuids);
                parameters[6].Value = SuggestionKeys.Format(card.SuggestionKeys, card.SuggestionUuids.Count) ?? (object)DBNull.Value;
                parameters[7].Value = (object?)card.PatientKey ?? DBNull.Value;
                parameters[8].Value = (object?)card.EncounterKey ?? DBNull.Value;
                parameters[9].Value = card.AboutDraftOrder ? (short)1 : (short)0;
                break;
            case WithheldCard withheld:
                parameters[3].Value = withheld.ReasonCode;
                parameters[4].Value = StoredTime.ToMicros(withheld.WithheldAt);
                break;
        }
    }

    /// <summary>Closes the kept connection (the writer loop ends, or a batch failed). The next batch reopens.</summary>
    public async ValueTask CloseAsync()
    {
        if (_insertIssued is not null) await _insertIssued.DisposeAsync();
        if (_insertWithheld is not null) await _insertWithheld.DisposeAsync();
        if (_connection is not null) await _connection.DisposeAsync();
        _insertIssued = null;
        _insertWithheld = null;
        _connection = null;
    }

    public ValueTask DisposeAsync() => CloseAsync();
}
