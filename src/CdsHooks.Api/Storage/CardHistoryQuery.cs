using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace CdsHooks.Api.Storage;

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
/// </summary>
public sealed class CardHistoryQuery(CdsDatabase database)
{
    /// <summary>Whether a bounded caller must run <see cref="FindAsync"/> on the thread pool (see <see cref="CdsDatabase.BlocksOnAsyncCalls"/>).</summary>
    public bool BlocksOnAsyncCalls => database.BlocksOnAsyncCalls;

    private static readonly ConcurrentDictionary<int, string> Statements = new();

    public async Task<CardHistory> FindAsync(CardHistoryRequest request, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var reminders = new HashSet<string>(StringComparer.Ordinal);
        if (request.Kinds.Count == 0 || (request.OverridesSince is null && request.RemindersSince is null)) return new CardHistory(overrides, reminders);

        await using var connection = await database.OpenReaderAsync(cancellationToken);
        await using var command = CdsDatabase.Command(connection, null, Sql(request));
        // A lookup past the hook's bound is abandoned, not cancelled (CardLockOut): this ends it on the server.
        command.CommandTimeout = 5;
        command.With("patient", request.PatientKey);
        for (var i = 0; i < request.Kinds.Count; i++) command.With("k" + i.ToString(CultureInfo.InvariantCulture), request.Kinds[i]);
        if (request.OverridesSince is { } overridesSince) command.With("overridesSince", StoredTime.ToMicros(overridesSince));
        if (request.RemindersSince is { } remindersSince)
        {
            command.With("remindersSince", StoredTime.ToMicros(remindersSince)).With("hook", request.HookInstance);
            if (request.EncounterKey is not null) command.With("encounter", request.EncounterKey);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var kind = reader.GetString(0);
            if (reader.GetInt32(1) == 1) overrides[kind] = StoredTime.FromMicros(Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture));
            else reminders.Add(kind);
        }
        return new CardHistory(overrides, reminders);
    }

    /// <summary>The statement for this shape of request (number of kinds, which halves), built once per shape.</summary>
    private static string Sql(CardHistoryRequest request)
    {
        var shape = request.Kinds.Count * 8 + (request.OverridesSince is null ? 0 : 1) + (request.RemindersSince is null ? 0 : 2) + (request.EncounterKey is null ? 0 : 4);
        return Statements.GetOrAdd(shape, static (_, r) => Build(r.Kinds.Count, r.OverridesSince is not null, r.RemindersSince is not null, r.EncounterKey is not null), request);
    }

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
