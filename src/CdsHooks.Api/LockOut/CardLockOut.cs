using System.Diagnostics.Metrics;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.Security;
using CdsHooks.Protocol;
using CdsHooks.Storage;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.LockOut;

/// <summary>
/// Decides which of the cards the rules produced a hook call shows (issue "Relevant, not repeated"):
/// <list type="bullet">
/// <item>a card kind a clinician overrode for this patient is held back for that kind's lock-out
/// (<c>Analytics:LockOut:Days:&lt;kind&gt;</c>, default 30 days);</item>
/// <item>a reminder already shown for this patient in this encounter (by another hook call) is not shown again;</item>
/// <item>a card about a draft order (<see cref="Card.AboutDraftOrder"/>) or about data this call could not read
/// (<see cref="Card.AboutMissingData"/>) is always shown.</item>
/// </list>
/// One store lookup per hook call at most, none without a card that could be held back, bounded by
/// <c>Analytics:LockOut:LookupTimeoutMilliseconds</c>: when the store is slow or down the cards are shown (fail open),
/// counted in <c>cds.lock_out.lookups_unavailable</c>; after three failures in a row lookups pause for a second (on the
/// clock's timestamps) before the store is tried again, so an outage costs a failed lookup per second, not per hook call.
/// </summary>
public sealed partial class CardLockOut
{
    public const string MeterName = "CdsHooks.LockOut";
    /// <summary>Failed lookups in a row (timeouts or errors) after which the store is left alone for <see cref="PauseAfterFailures"/>.</summary>
    public const int FailuresBeforePause = 3;
    private static readonly TimeSpan PauseAfterFailures = TimeSpan.FromSeconds(1);

    private readonly LockOutOptions _options;
    private readonly PatientKeyring? _keyring;
    private readonly CardHistoryQuery _history;
    private readonly RecentReminders _recent = new(RecentReminders.DefaultCapacity);
    private readonly TimeProvider _clock;
    private readonly ILogger<CardLockOut> _logger;
    private readonly TimeSpan _lookupTimeout;
    private readonly Counter<long> _withheld;
    private readonly Counter<long> _unavailable;
    private long _pausedUntil;
    private int _failuresInARow;
    private int _paused;

    public CardLockOut(IOptions<AnalyticsOptions> options, PatientKeyring? keyring, CardHistoryQuery history, TimeProvider clock, IMeterFactory meters, ILogger<CardLockOut> logger)
    {
        _options = options.Value.LockOut;
        _keyring = _options.Enabled ? keyring : null;
        _history = history;
        _clock = clock;
        _logger = logger;
        _lookupTimeout = TimeSpan.FromMilliseconds(_options.LookupTimeoutMilliseconds);
        var meter = meters.Create(MeterName);
        _withheld = meter.CreateCounter<long>("cds.lock_out.withheld", "{card}", "Cards held back: reason lock-out (overridden within the kind's lock-out) or repeat (reminder already shown in the encounter).");
        _unavailable = meter.CreateCounter<long>("cds.lock_out.lookups_unavailable", "{call}", "Hook calls whose cards were shown without the store's history: outcome timeout, error or paused (after a failure).");
    }

    public bool Enabled => _keyring is not null;

    /// <summary>Splits <paramref name="cards"/> into those shown and those held back, with the keyed hashes the card log keeps.</summary>
    public async ValueTask<CardSelection> SelectAsync(string serviceId, string hookInstance, CdsClient? client, string patientId, string? encounterId, List<Card> cards, CancellationToken cancellationToken)
    {
        // No card: nothing to hold back, nothing to log, no hashing and no lookup.
        if (_keyring is null || cards.Count == 0) return CardSelection.AllShown(cards);
        var subject = _keyring.For(PatientKeyring.ScopeOf(client), patientId, encounterId);
        var now = _clock.GetUtcNow();
        var (repeatKey, remindersSince) = RepeatScope(subject, now);

        Dictionary<Card, WithholdReason>? withheld = null;
        List<string>? lookupKinds = null;
        var overridesSince = DateTimeOffset.MaxValue;
        foreach (var card in cards)
        {
            if (AlwaysShown(card)) continue; // a caution on an order being placed, or a gap in this call's data
            var kind = CardLogRecords.KindOf(card);
            if (repeatKey is not null && _recent.WasShown(repeatKey, kind, hookInstance, remindersSince!.Value))
            {
                (withheld ??= [])[card] = WithholdReason.Repeat;
                continue;
            }
            var lockOut = _options.LockOutOf(kind);
            if (lockOut > TimeSpan.Zero && now - lockOut < overridesSince) overridesSince = now - lockOut;
            if (lockOut > TimeSpan.Zero || repeatKey is not null)
            {
                lookupKinds ??= [];
                if (!lookupKinds.Contains(kind)) lookupKinds.Add(kind);
            }
        }

        if (lookupKinds is not null)
        {
            var request = new CardHistoryRequest(subject.Patient!, subject.Encounter, hookInstance, lookupKinds,
                overridesSince == DateTimeOffset.MaxValue ? null : overridesSince, remindersSince);
            if (await LookUpAsync(request, cancellationToken) is { } history)
            {
                foreach (var card in cards)
                {
                    if (AlwaysShown(card) || withheld?.ContainsKey(card) == true) continue;
                    var kind = CardLogRecords.KindOf(card);
                    if (history.LastOverride.TryGetValue(kind, out var overridden) && overridden >= now - _options.LockOutOf(kind))
                    {
                        (withheld ??= [])[card] = WithholdReason.LockOut;
                    }
                    else if (history.ShownAsReminder.Contains(kind))
                    {
                        (withheld ??= [])[card] = WithholdReason.Repeat;
                    }
                }
            }
        }

        var shown = withheld is null ? cards : cards.Where(c => !withheld.ContainsKey(c)).ToList();
        if (repeatKey is not null)
        {
            foreach (var card in shown)
            {
                if (!AlwaysShown(card)) _recent.Remember(repeatKey, CardLogRecords.KindOf(card), hookInstance, now);
            }
        }
        if (withheld is null) return CardSelection.AllShown(cards, subject);

        var held = new List<(Card, WithholdReason)>(withheld.Count);
        foreach (var card in cards)
        {
            if (!withheld.TryGetValue(card, out var reason)) continue;
            held.Add((card, reason));
            var code = WithheldCard.Code(reason);
            _withheld.Add(1, new("reason", code), new("card_kind", CardLogRecords.KindOf(card)), new("service", serviceId));
            LogWithheld(_logger, CardLogRecords.KindOf(card), code);
        }
        return new CardSelection(shown, held, subject);
    }

    /// <summary>
    /// Never held back: a caution on a draft order (shown whenever the order is) and a card saying what this call's data
    /// could not tell (held back, the answer would read as "nothing to worry about").
    /// </summary>
    private static bool AlwaysShown(Card card) => card.AboutDraftOrder || card.AboutMissingData;

    /// <summary>
    /// One lookup for nobody at start-up, so the first hook calls do not pay for compiling the query path and opening the
    /// first connection within their bound. At most 2 s; a store that is down at boot is the writer's and readiness's
    /// business, not a reason to refuse to start.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        if (_keyring is null) return;
        var subject = _keyring.For(PatientKeyring.OpenScope, "warm-up", "warm-up");
        var now = _clock.GetUtcNow();
        var request = new CardHistoryRequest(subject.Patient!, subject.Encounter, "warm-up", [CardLogRecords.UnknownKind], now, now);
        try
        {
            await Task.Run(() => _history.FindAsync(request, cancellationToken), cancellationToken).WaitAsync(TimeSpan.FromSeconds(2), TimeProvider.System, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogWarmUpFailed(_logger, ex.GetType().Name);
        }
    }

    /// <summary>
    /// Where a repeat is looked for: the encounter (for <c>EncounterHours</c>), or without one the patient's calls
    /// without an encounter (for <c>NoEncounterMinutes</c>); none when that setting is 0.
    /// </summary>
    private (string? Key, DateTimeOffset? Since) RepeatScope(SubjectKeys subject, DateTimeOffset now)
    {
        if (subject.Encounter is { } encounter)
        {
            return _options.EncounterHours > 0 ? ("e:" + encounter, now - TimeSpan.FromHours(_options.EncounterHours)) : (null, null);
        }
        return _options.NoEncounterMinutes > 0 ? ("p:" + subject.Patient, now - TimeSpan.FromMinutes(_options.NoEncounterMinutes)) : (null, null);
    }

    /// <summary>
    /// The store's history, or null (fail open) when it does not answer within the bound. The query runs on the thread
    /// pool, so nothing synchronous in a driver (all of SQLite's async calls) can hold the hook past the bound.
    /// A query past the bound is abandoned, not cancelled: cancelling an Npgsql command sends a cancel request from the
    /// token's callback, which under a dying server stalled the whole process (bench/outage.sh); the command's own
    /// timeout ends it. After <see cref="FailuresBeforePause"/> failures in a row the store is left alone for a second.
    /// </summary>
    private async Task<CardHistory?> LookUpAsync(CardHistoryRequest request, CancellationToken cancellationToken)
    {
        if (_clock.GetTimestamp() < Volatile.Read(ref _pausedUntil))
        {
            _unavailable.Add(1, new KeyValuePair<string, object?>("outcome", "paused"));
            return null;
        }
        // Always on the thread pool: SQLite's async calls complete synchronously, and a driver that does any part of
        // opening a connection synchronously (a paused server) must not hold the hook's own thread past the bound either.
        var lookup = Task.Run(() => _history.FindAsync(request, CancellationToken.None), CancellationToken.None);
        try
        {
            var history = await lookup.WaitAsync(_lookupTimeout, TimeProvider.System, cancellationToken);
            Volatile.Write(ref _failuresInARow, 0);
            if (Interlocked.Exchange(ref _paused, 0) == 1) LogLookupBack(_logger);
            return history;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(lookup);
            throw; // the caller went away
        }
        catch (Exception ex)
        {
            Observe(lookup);
            var outcome = ex is TimeoutException ? "timeout" : "error";
            _unavailable.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
            if (Interlocked.Increment(ref _failuresInARow) >= FailuresBeforePause)
            {
                Volatile.Write(ref _pausedUntil, _clock.GetTimestamp() + (long)(PauseAfterFailures.TotalSeconds * _clock.TimestampFrequency));
                if (Interlocked.Exchange(ref _paused, 1) == 0) LogLookupFailing(_logger, ex, outcome, _lookupTimeout.TotalMilliseconds);
            }
            return null;
        }
    }

    /// <summary>An abandoned lookup's failure is not left unobserved.</summary>
    private static void Observe(Task lookup) =>
        lookup.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Withheld a {CardKind} card ({Reason})")]
    private static partial void LogWithheld(ILogger logger, string cardKind, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lock-out: the store's card history is unavailable ({Outcome}, bound {BoundMs} ms, 3 lookups in a row): cards are shown without lock-outs or repeat checks until it answers. Logged once per episode.")]
    private static partial void LogLookupFailing(ILogger logger, Exception exception, string outcome, double boundMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lock-out: the warm-up lookup at start-up failed ({Error}); the first hook calls may fail open")]
    private static partial void LogWarmUpFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lock-out: the store's card history answers again")]
    private static partial void LogLookupBack(ILogger logger);
}
