using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text;

namespace CdsHooks.Storage;

/// <summary>What the lock-out asks about one patient (keyed hash) and the card kinds a hook call produced.</summary>
/// <param name="PatientKey">The patient's keyed hash.</param>
/// <param name="Kinds">The card kinds the rules produced that could be held back (no card about a draft order).</param>
/// <param name="OverridesSince">Overrides from this instant on count (null: no lock-out for these kinds).</param>
/// <param name="RemindersSince">Reminders shown from this instant on count (null: no de-duplication for this call).</param>
/// <param name="EncounterKey">The encounter's keyed hash; null means "calls without an encounter".</param>
/// <param name="HookInstance">The calling hook instance: its own cards are never a repeat (a retried call answers the same).</param>
public sealed record CardHistoryRequest(
    string PatientKey,
    string? EncounterKey,
    string HookInstance,
    IReadOnlyList<string> Kinds,
    DateTimeOffset? OverridesSince,
    DateTimeOffset? RemindersSince);

/// <summary>The answer: per card kind, the latest override (its earlier of outcome and receipt time), and the kinds already shown as reminders.</summary>
public sealed record CardHistory(IReadOnlyDictionary<string, DateTimeOffset> LastOverride, IReadOnlySet<string> ShownAsReminder);

/// <summary>
/// The one query a hook call makes for the lock-out: overrides of these card kinds for this patient (feedback joined to
/// the card log on the card uuid, at read time, so a card overridden before its log row was written counts as soon as
/// the row is there) and reminders of these kinds already shown in this encounter. Both halves run in one statement on
/// the partial index <c>ix_card_log_patient (patient_key, card_kind, issued_at)</c>, one index range per kind.
/// Connections are kept (up to <see cref="MaxKeptConnections"/>) with their statements prepared once per shape: parsing
/// and planning the statement on every hook call cost more CPU than the rest of the lookup (bench/README.md).
/// </summary>
public sealed class CardHistoryQuery(CdsDatabase database) : IAsyncDisposable
{
    /// <summary>Connections kept open between lookups (more are opened under a burst, then closed).</summary>
    public const int MaxKeptConnections = 8;

    private static readonly ConcurrentDictionary<int, string> Statements = new();
    private readonly ConcurrentBag<KeptReader> _idle = [];
    private volatile bool _disposed;

    public async Task<CardHistory> FindAsync(CardHistoryRequest request, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var reminders = new HashSet<string>(StringComparer.Ordinal);
        if (request.Kinds.Count == 0 || (request.OverridesSince is null && request.RemindersSince is null)) return new CardHistory(overrides, reminders);

        var kept = _idle.TryTake(out var idle) ? idle : new KeptReader(await database.OpenReaderAsync(cancellationToken));
        var healthy = false;
        try
        {
            await database.EnterReaderAsync(cancellationToken);
            var command = kept.Command(Shape(request), request);
            Bind(command.Parameters, request);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var kind = reader.GetString(0);
                    if (reader.GetInt32(1) == 1) overrides[kind] = StoredTime.FromMicros(Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture));
                    else reminders.Add(kind);
                }
            }
            healthy = true;
            return new CardHistory(overrides, reminders);
        }
        finally
        {
            // A connection that failed may be broken: only a healthy one goes back.
            if (healthy && !_disposed && _idle.Count < MaxKeptConnections) _idle.Add(kept);
            else await kept.DisposeAsync();
        }
    }

    /// <summary>Parameters in the order <see cref="Names"/> gives them.</summary>
    private static void Bind(DbParameterCollection parameters, CardHistoryRequest request)
    {
        var i = 0;
        parameters[i++].Value = request.PatientKey;
        foreach (var kind in request.Kinds) parameters[i++].Value = kind;
        if (request.OverridesSince is { } overridesSince) parameters[i++].Value = StoredTime.ToMicros(overridesSince);
        if (request.RemindersSince is not { } remindersSince) return;
        parameters[i++].Value = StoredTime.ToMicros(remindersSince);
        parameters[i++].Value = request.HookInstance;
        if (request.EncounterKey is { } encounter) parameters[i].Value = encounter;
    }

    private static IEnumerable<string> Names(CardHistoryRequest request)
    {
        yield return "patient";
        for (var i = 0; i < request.Kinds.Count; i++) yield return "k" + i.ToString(CultureInfo.InvariantCulture);
        if (request.OverridesSince is not null) yield return "overridesSince";
        if (request.RemindersSince is null) yield break;
        yield return "remindersSince";
        yield return "hook";
        if (request.EncounterKey is not null) yield return "encounter";
    }

    /// <summary>Number of kinds and which halves: requests of one shape share one statement.</summary>
    private static int Shape(CardHistoryRequest request) =>
        request.Kinds.Count * 8 + (request.OverridesSince is null ? 0 : 1) + (request.RemindersSince is null ? 0 : 2) + (request.EncounterKey is null ? 0 : 4);

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryTake(out var kept)) await kept.DisposeAsync();
    }

    /// <summary>A connection kept between lookups, with the statements prepared on it.</summary>
    private sealed class KeptReader(DbConnection connection) : IAsyncDisposable
    {
        private readonly Dictionary<int, DbCommand> _commands = [];

        /// <summary>The statement of this shape, prepared on first use (with the request's values, which type its parameters).</summary>
        public DbCommand Command(int shape, CardHistoryRequest request)
        {
            if (_commands.TryGetValue(shape, out var command)) return command;
            command = CdsDatabase.Command(connection, null, Sql(shape, request));
            // A lookup past the hook's bound is abandoned, not cancelled (CardLockOut): this ends it on the server.
            command.CommandTimeout = 5;
            foreach (var name in Names(request)) command.With(name, null);
            Bind(command.Parameters, request);
            command.Prepare();
            _commands[shape] = command;
            return command;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var command in _commands.Values) await command.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    /// <summary>The statement for this shape of request (number of kinds, which halves), built once per shape.</summary>
    private static string Sql(int shape, CardHistoryRequest request) =>
        Statements.GetOrAdd(shape, static (_, r) => Build(r.Kinds.Count, r.OverridesSince is not null, r.RemindersSince is not null, r.EncounterKey is not null), request);

    private static string Build(int kinds, bool overrides, bool reminders, bool encounter)
    {
        var inKinds = string.Join(", ", Enumerable.Range(0, kinds).Select(i => "@k" + i.ToString(CultureInfo.InvariantCulture)));
        var sql = new StringBuilder();
        if (overrides)
        {
            // An override counts from the earlier of when the client says it happened and when it reached us: a clock
            // ahead (or a made-up future timestamp) cannot stretch a lock-out.
            sql.Append(CultureInfo.InvariantCulture, $"""
                SELECT c.card_kind, 1, MAX(CASE WHEN f.outcome_at < f.received_at THEN f.outcome_at ELSE f.received_at END)
                FROM card_log c JOIN feedback f ON f.card_uuid = c.card_uuid
                WHERE c.patient_key = @patient AND c.card_kind IN ({inKinds}) AND c.issued_at >= @overridesSince
                  AND f.outcome = 'overridden' AND f.outcome_at >= @overridesSince AND f.received_at >= @overridesSince
                GROUP BY c.card_kind
                """);
        }
        if (overrides && reminders) sql.Append("\nUNION ALL\n");
        if (reminders)
        {
            sql.Append(CultureInfo.InvariantCulture, $"""
                SELECT c.card_kind, 2, MAX(c.issued_at)
                FROM card_log c
                WHERE c.patient_key = @patient AND c.card_kind IN ({inKinds}) AND c.issued_at >= @remindersSince
                  AND c.about_draft_order = 0 AND c.hook_instance <> @hook AND c.encounter_key {(encounter ? "= @encounter" : "IS NULL")}
                GROUP BY c.card_kind
                """);
        }
        return sql.ToString();
    }
}
