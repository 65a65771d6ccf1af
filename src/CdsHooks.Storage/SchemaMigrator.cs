using System.Data.Common;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CdsHooks.Storage;

/// <summary>
/// Creates or upgrades the schema at start-up, before the service answers: each migration runs once, in order, in
/// one transaction with its row in <c>schema_version</c>. A database newer than this build stops the start-up.
/// </summary>
public sealed partial class SchemaMigrator(CdsDatabase database, ILogger<SchemaMigrator> logger) : IHostedService
{
    /// <summary>Append only: a released migration is never edited.</summary>
    internal static readonly IReadOnlyList<(int Version, string Description, string Sql)> Migrations =
    [
        (1, "card log and feedback", """
            CREATE TABLE card_log (
                card_uuid        TEXT   NOT NULL PRIMARY KEY,
                service_id       TEXT   NOT NULL,
                card_kind        TEXT   NOT NULL,
                hook_instance    TEXT   NOT NULL,
                issued_at        BIGINT NOT NULL,
                suggestion_uuids TEXT   NOT NULL
            );
            CREATE INDEX ix_card_log_issued_at ON card_log (issued_at);
            CREATE TABLE feedback (
                service_id           TEXT   NOT NULL,
                card_uuid            TEXT   NOT NULL,
                outcome              TEXT   NOT NULL,
                outcome_at           BIGINT NOT NULL,
                report_detail        TEXT   NOT NULL,
                accepted_suggestions TEXT   NULL,
                reason_system        TEXT   NULL,
                reason_code          TEXT   NULL,
                reason_display       TEXT   NULL,
                received_at          BIGINT NOT NULL,
                PRIMARY KEY (service_id, card_uuid, outcome, outcome_at, report_detail)
            );
            CREATE INDEX ix_feedback_outcome_at ON feedback (outcome_at);
            CREATE INDEX ix_feedback_card_uuid ON feedback (card_uuid);
            """),
        // The dashboard: which suggestion a clinician took, and weekly counts by kind read from an index alone.
        (2, "dashboard: suggestion keys in the card log, covering index for weekly counts", """
            ALTER TABLE card_log ADD COLUMN suggestion_keys TEXT NULL;
            CREATE INDEX ix_card_log_issued_kind ON card_log (issued_at, card_kind, service_id);
            DROP INDEX ix_card_log_issued_at;
            """),
        // Lock-out after override and one reminder per encounter (README "Relevant, not repeated"): keyed hashes of
        // the patient and encounter, never the ids; the partial index serves the one lookup a hook call makes.
        (3, "card log patient and encounter keys, withheld cards", """
            ALTER TABLE card_log ADD COLUMN patient_key TEXT NULL;
            ALTER TABLE card_log ADD COLUMN encounter_key TEXT NULL;
            ALTER TABLE card_log ADD COLUMN about_draft_order SMALLINT NOT NULL DEFAULT 0;
            CREATE INDEX ix_card_log_patient ON card_log (patient_key, card_kind, issued_at) WHERE patient_key IS NOT NULL;
            CREATE TABLE card_withheld (
                card_uuid   TEXT   NOT NULL PRIMARY KEY,
                service_id  TEXT   NOT NULL,
                card_kind   TEXT   NOT NULL,
                reason      TEXT   NOT NULL,
                withheld_at BIGINT NOT NULL
            );
            CREATE INDEX ix_card_withheld_at ON card_withheld (withheld_at);
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;

    public Task StartAsync(CancellationToken cancellationToken) => MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        var (from, to) = await database.WriteAsync(async (connection, transaction) =>
        {
            await database.LockSchemaAsync(connection, transaction, cancellationToken);
            await ExecuteAsync(connection, transaction, """
                CREATE TABLE IF NOT EXISTS schema_version (
                    version     INTEGER NOT NULL PRIMARY KEY,
                    description TEXT    NOT NULL,
                    applied_at  BIGINT  NOT NULL
                )
                """, cancellationToken);
            await using var read = CdsDatabase.Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
            var current = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            if (current > LatestVersion)
            {
                throw new InvalidOperationException(
                    $"The {database.Provider} database at {database.Location} has schema version {current}; this build knows up to {LatestVersion}. Deploy the newer build or point Storage:ConnectionString elsewhere.");
            }
            foreach (var (version, description, sql) in Migrations.Where(m => m.Version > current))
            {
                await ExecuteAsync(connection, transaction, sql, cancellationToken);
                await using var record = CdsDatabase.Command(connection, transaction,
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (@version, @description, @at)");
                record.With("version", version);
                record.With("description", description);
                record.With("at", StoredTime.ToMicros(DateTimeOffset.UtcNow));
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            return (current, LatestVersion);
        }, cancellationToken);

        if (from == to) LogSchemaCurrent(logger, database.Provider, database.Location, to);
        else LogSchemaMigrated(logger, database.Provider, database.Location, from, to);
        return to;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = CdsDatabase.Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage: {Provider} at {Location}, schema version {Version}")]
    private static partial void LogSchemaCurrent(ILogger logger, string provider, string location, int version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage: {Provider} at {Location}, schema migrated from version {From} to {To}")]
    private static partial void LogSchemaMigrated(ILogger logger, string provider, string location, int from, int to);
}
