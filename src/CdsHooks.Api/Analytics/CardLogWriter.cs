using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using CdsHooks.Api.Telemetry;
using CdsHooks.Storage;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Analytics;

/// <summary>
/// The card log. Hook calls hand their cards to a bounded in-memory queue and return: <see cref="Record"/> never waits.
/// This background writer stores them in batches. When a write fails or takes longer than
/// <c>Analytics:CardLogWriteTimeoutMilliseconds</c>, or the queue is half full (the store cannot keep up), cards go to a
/// local durable spool (<see cref="CardLogSpool"/>) instead, and everything after them follows them there, so the store
/// receives cards in the order they were issued: the writer retries the store with a backoff capped at
/// <c>Analytics:CardLogRetryMaxMilliseconds</c> (≤ 2 s) and replays the spool as soon as it answers. Cards are dropped
/// only past the spool's bound (or, if the writer itself is stuck, past the queue's): counted in
/// <c>cds.card_log.dropped</c> and logged once per episode. On shutdown what the store does not take stays in the spool
/// and is replayed at the next start.
/// </summary>
public sealed partial class CardLogWriter : IHostedService, ICardLog, ICardLogHealth, IDisposable
{
    public const string MeterName = "CdsHooks.CardLog";
    public const string SpoolFileName = "card-log.spool";
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    /// <summary>Records moved from the queue to the spool per write (and fsync).</summary>
    private const int SpoolChunk = 4096;

    private readonly Channel<Entry> _queue;
    private readonly CdsDatabase _database;
    private readonly TimeProvider _clock;
    private readonly ILogger<CardLogWriter> _logger;
    private readonly int _capacity;
    private readonly int _batchSize;
    private readonly TimeSpan _linger;
    private readonly TimeSpan _writeTimeout;
    private readonly TimeSpan _retryMax;
    private readonly long _spoolMaxBytes;
    private readonly Counter<long> _written;
    private readonly Counter<long> _writeFailures;
    private readonly Counter<long> _spooled;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _dropped;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<(long Offset, TaskCompletionSource Done)> _flushesInSpool = [];
    private CardLogStore _store;
    private CardLogSpool? _spool;
    private Task _loop = Task.CompletedTask;
    private TimeSpan _retryDelay = FirstRetry;
    /// <summary>Completes when the next attempt at the store is due (a timer on the injected clock, or done: due now).</summary>
    private Task _retryDue = Task.CompletedTask;
    private int _queueFullEpisode;
    private int _spoolFullEpisode;
    private int _flushesWaiting;
    private long _droppedTotal;
    private volatile bool _closed;
    private volatile StoreFailure? _failure;

    public CardLogWriter(CdsDatabase database, IOptions<AnalyticsOptions> options, DataFolder dataFolder, TimeProvider clock, IMeterFactory meters, ILogger<CardLogWriter> logger)
    {
        var o = options.Value;
        _database = database;
        _store = new CardLogStore(database);
        _clock = clock;
        _logger = logger;
        _capacity = o.CardLogQueueCapacity;
        _batchSize = o.CardLogBatchSize;
        _linger = TimeSpan.FromMilliseconds(o.CardLogLingerMilliseconds);
        _writeTimeout = TimeSpan.FromMilliseconds(o.CardLogWriteTimeoutMilliseconds);
        _retryMax = TimeSpan.FromMilliseconds(o.CardLogRetryMaxMilliseconds);
        _spoolMaxBytes = o.CardLogSpoolMaxBytes;
        SpoolPath = dataFolder.Resolve(o.CardLogSpoolPath ?? SpoolFileName);
        _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(_capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        var meter = meters.Create(MeterName);
        _written = meter.CreateCounter<long>("cds.card_log.written", "{card}", "Cards stored in the card log (directly or replayed from the spool).");
        _writeFailures = meter.CreateCounter<long>("cds.card_log.write_failures", "{attempt}", "Card-log writes that failed or timed out (their cards went to the spool).");
        _spooled = meter.CreateCounter<long>("cds.card_log.spooled", "{card}", "Cards written to the local spool while the store was failing or behind.");
        _replayed = meter.CreateCounter<long>("cds.card_log.replayed", "{card}", "Cards replayed from the spool into the store.");
        _dropped = meter.CreateCounter<long>("cds.card_log.dropped", "{card}", "Cards not recorded: the spool was at its bound (reason spool-full) or the writer was stuck (queue-full).");
        meter.CreateObservableGauge("cds.card_log.queue_length", () => _queue.Reader.Count, "{card}", "Cards waiting in memory.");
        meter.CreateObservableGauge("cds.card_log.spool_records", () => _spool?.PendingRecords ?? 0, "{card}", "Cards in the spool waiting for the store.");
        meter.CreateObservableGauge("cds.card_log.spool_bytes", () => _spool?.SizeBytes ?? 0, "By", "Size of the spool file.");
    }

    /// <summary>The spool file (absolute).</summary>
    public string SpoolPath { get; }

    /// <summary>Cards queued in memory and not yet stored or spooled.</summary>
    public int Pending => _queue.Reader.Count;

    public CardLogStatus Status => new(_failure?.Since, _failure?.Error, _spool?.PendingRecords ?? 0, _queue.Reader.Count, Interlocked.Read(ref _droppedTotal));

    public void Record(string serviceId, string hookInstance, CardSelection selection)
    {
        var now = _clock.GetUtcNow();
        var (patient, encounter) = selection.Subject;
        foreach (var card in selection.Shown)
        {
            if (card.Uuid is null) continue; // nothing could refer to it: feedback names cards by uuid
            Enqueue(new IssuedCard(card.Uuid, serviceId, CardLogRecords.KindOf(card), hookInstance, now,
                [.. (card.Suggestions ?? []).Select(s => s.Uuid).OfType<string>()], patient, encounter, card.AboutDraftOrder)
            {
                SuggestionKeys = CardLogRecords.SuggestionKeysOf(card.Suggestions),
            });
        }
        foreach (var (card, reason) in selection.Withheld)
        {
            if (card.Uuid is null) continue;
            Enqueue(new WithheldCard(card.Uuid, serviceId, CardLogRecords.KindOf(card), reason, now));
        }
    }

    private void Enqueue(CardLogRecord record)
    {
        if (_queue.Writer.TryWrite(new Entry(record, null))) return;
        Drop(1, _closed ? "shutdown" : "queue-full");
        if (_closed) LogClosed(_logger, record.CardKind);
        else if (Interlocked.Exchange(ref _queueFullEpisode, 1) == 0) LogQueueFull(_logger, _capacity);
    }

    /// <summary>
    /// Opens the spool (replaying what a previous run left in it first) and starts the loop directly (not
    /// BackgroundService, whose loop may never start when stopped early, which would lose the queue).
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _spool = CardLogSpool.Open(SpoolPath, _spoolMaxBytes, out var discarded);
            if (discarded > 0) LogSpoolTornTail(_logger, SpoolPath, discarded);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new InvalidOperationException(
                $"Analytics:CardLogSpoolPath: the card-log spool {SpoolPath} cannot be opened ({ex.Message}). Each process needs its own spool file.", ex);
        }
        if (!_spool.IsEmpty) LogSpoolFound(_logger, _spool.PendingRecords, SpoolPath);
        _loop = WriteLoopAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private async Task WriteLoopAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var spool = _spool!;
        var batch = new List<CardLogRecord>(_batchSize);
        var flushes = new List<TaskCompletionSource>();
        try
        {
            while (true)
            {
                if (spool.IsEmpty)
                {
                    // Normal: queue -> store. Not cancelled by stoppingToken: StopAsync completes the queue, and the loop
                    // ends once it is drained.
                    if (!await _queue.Reader.WaitToReadAsync(CancellationToken.None)) break;
                    await LingerAsync(stoppingToken);
                    Take(batch, flushes, _batchSize);
                    // Half full: the store does not keep up; the spool takes the load and replay catches up.
                    var stored = batch.Count == 0 || (_queue.Reader.Count < _capacity / 2 && await TryStoreAsync(batch, fromSpool: false));
                    if (!stored) Spool(batch, replayNow: _failure is null);
                    batch.Clear();
                    FinishFlushes(flushes);
                    if (_queue.Reader.Count <= _capacity / 2) Interlocked.Exchange(ref _queueFullEpisode, 0);
                    continue;
                }

                // The store failed, fell behind, or a previous run left cards: everything goes through the spool, in order.
                MoveQueueToSpool(batch, flushes);
                if (stoppingToken.IsCancellationRequested)
                {
                    // What the store takes now is stored; the rest waits in the spool for the next start.
                    while (!spool.IsEmpty && _failure is null && await TryReplayAsync()) { }
                    if (!spool.IsEmpty) LogLeftInSpool(_logger, spool.PendingRecords, SpoolPath);
                    if (_queue.Reader.Completion.IsCompleted) break;
                    continue;
                }
                if (_retryDue.IsCompleted)
                {
                    if (await TryReplayAsync()) continue;
                    ScheduleRetry();
                }
                await WaitForCardsOrRetryAsync(stoppingToken);
            }
        }
        finally
        {
            await _store.CloseAsync();
            // Their cards wait in the spool for the next start.
            foreach (var (_, done) in _flushesInSpool) done.TrySetCanceled();
            spool.Dispose();
        }
    }

    /// <summary>
    /// Under load cards arrive one hook call at a time; waiting a moment for more turns a transaction (or an fsync of the
    /// spool) per call into one per few milliseconds. Not when the batch is already full, a flush is waiting, or the
    /// host is stopping. Real time, not the injected clock: this is I/O pacing, and a test's frozen clock must not
    /// stall the log.
    /// </summary>
    private async Task LingerAsync(CancellationToken stoppingToken)
    {
        if (_linger <= TimeSpan.Zero || _queue.Reader.Count >= _batchSize || Volatile.Read(ref _flushesWaiting) > 0 || stoppingToken.IsCancellationRequested) return;
        try
        {
            await Task.Delay(_linger, TimeProvider.System, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping: write what is there now.
        }
    }

    /// <summary>Up to <paramref name="max"/> records into <paramref name="batch"/>; stops after a flush marker.</summary>
    private void Take(List<CardLogRecord> batch, List<TaskCompletionSource> flushes, int max)
    {
        while (batch.Count < max && _queue.Reader.TryRead(out var entry))
        {
            if (entry.Record is { } record)
            {
                batch.Add(record);
                continue;
            }
            flushes.Add(entry.Flushed!);
            Interlocked.Decrement(ref _flushesWaiting);
            return;
        }
    }

    /// <summary>
    /// One store write, bounded: past <c>CardLogWriteTimeoutMilliseconds</c> it is abandoned (with its connection; the
    /// command's own timeout ends it) and a fresh store is used next time. Not cancelled: an Npgsql cancellation sends a
    /// cancel request from the token's callback, which under a dying server stalled the process (see CardLockOut). Run on
    /// the thread pool because SQLite's "async" calls complete synchronously, which no timeout could interrupt.
    /// Each write is a root span (<see cref="CdsTelemetry.CardLogWriteSpan"/>): it runs after the hook calls whose cards
    /// it stores, outside any of them.
    /// </summary>
    private async Task<bool> TryStoreAsync(IReadOnlyList<CardLogRecord> records, bool fromSpool)
    {
        using var span = StartWriteSpan(records.Count, fromSpool);
        var store = _store;
        var attempt = Task.Run(() => store.AppendAsync(records, CancellationToken.None), CancellationToken.None);
        try
        {
            await attempt.WaitAsync(_writeTimeout, TimeProvider.System);
            span?.SetTag(CdsTelemetry.CardLogOutcome, "stored");
            _written.Add(records.Count);
            if (_failure is { } failure)
            {
                _failure = null;
                LogStoreBack(_logger, (_clock.GetUtcNow() - failure.Since).TotalSeconds, _spool?.PendingRecords ?? 0);
            }
            _retryDelay = FirstRetry;
            return true;
        }
        catch (Exception ex)
        {
            // Any failure (store down, disk full, a hung server, a bug) must not stop the writer.
            if (ex is TimeoutException)
            {
                _store = new CardLogStore(_database);
                _ = attempt.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                ex = new TimeoutException($"The card-log store did not answer within {_writeTimeout.TotalMilliseconds:0} ms.", ex);
            }
            _writeFailures.Add(1);
            span?.SetTag(CdsTelemetry.CardLogOutcome, ex is TimeoutException ? "timeout" : "failed");
            span?.SetTag(CdsTelemetry.ErrorType, ex.GetType().Name);
            span?.SetStatus(ActivityStatusCode.Error);
            if (_failure is null)
            {
                _failure = new StoreFailure(_clock.GetUtcNow(), Describe(ex));
                LogStoreFailing(_logger, ex, records.Count, SpoolPath, _retryMax.TotalSeconds);
            }
            else
            {
                _failure = _failure with { Error = Describe(ex) };
                LogStoreStillFailing(_logger, ex.GetType().Name, _spool?.PendingRecords ?? 0);
            }
            return false;
        }
    }

    private static string Describe(Exception ex)
    {
        var text = $"{ex.GetType().Name}: {ex.Message}";
        return text.Length <= 300 ? text : text[..300] + "…";
    }

    /// <summary>Appends <paramref name="records"/> to the spool; what does not fit is dropped (counted, logged once per episode).</summary>
    private void Spool(List<CardLogRecord> records, bool replayNow)
    {
        if (records.Count == 0) return;
        var spool = _spool!;
        var wasEmpty = spool.IsEmpty;
        var appended = 0;
        try
        {
            appended = spool.Append(records);
        }
        catch (IOException ex)
        {
            LogSpoolWriteFailed(_logger, ex, records.Count, SpoolPath);
        }
        if (appended > 0) _spooled.Add(appended);
        if (appended < records.Count)
        {
            if (Interlocked.Exchange(ref _spoolFullEpisode, 1) == 0) LogSpoolFull(_logger, SpoolPath, spool.SizeBytes, _spoolMaxBytes);
            Drop(records.Count - appended, "spool-full");
        }
        if (wasEmpty && !spool.IsEmpty)
        {
            if (replayNow) _retryDue = Task.CompletedTask;
            else ScheduleRetry();
        }
    }

    private void Drop(int count, string reason)
    {
        _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
        Interlocked.Add(ref _droppedTotal, count);
    }

    /// <summary>Everything queued now goes to the spool, after what is there; a flush waits for the records before it.</summary>
    private void MoveQueueToSpool(List<CardLogRecord> batch, List<TaskCompletionSource> flushes)
    {
        while (_queue.Reader.Count > 0)
        {
            Take(batch, flushes, SpoolChunk);
            Spool(batch, replayNow: false);
            batch.Clear();
            FinishFlushes(flushes);
        }
        if (_queue.Reader.Count <= _capacity / 2) Interlocked.Exchange(ref _queueFullEpisode, 0);
    }

    /// <summary>Flushes whose records are all stored complete now; those with records in the spool wait for replay.</summary>
    private void FinishFlushes(List<TaskCompletionSource> flushes)
    {
        foreach (var done in flushes)
        {
            if (_spool!.IsEmpty) done.TrySetResult();
            else _flushesInSpool.Add((_spool.EndOffset, done));
        }
        flushes.Clear();
    }

    /// <summary>A root span for one store write: the rows, where they came from (the queue or the spool) and the store.</summary>
    private Activity? StartWriteSpan(int rows, bool fromSpool)
    {
        if (!CdsTelemetry.Tracing) return null;
        // The writer's loop never runs under a hook call's span; this makes sure the write is a trace of its own.
        Activity.Current = null;
        var span = CdsTelemetry.Source.StartActivity(CdsTelemetry.CardLogWriteSpan, ActivityKind.Internal, parentContext: default);
        span?.SetTag(CdsTelemetry.CardLogRows, rows);
        span?.SetTag(CdsTelemetry.CardLogSource, fromSpool ? "spool" : "queue");
        span?.SetTag(CdsTelemetry.StoreProvider, _database.Provider);
        return span;
    }

    /// <summary>Stores the spool's next batch; true when it was stored (or the spool was empty).</summary>
    private async Task<bool> TryReplayAsync()
    {
        var spool = _spool!;
        if (spool.IsEmpty) return true;
        var records = spool.Read(_batchSize, out var next, out var consumed);
        if (records.Count > 0 && !await TryStoreAsync(records, fromSpool: true)) return false;
        _replayed.Add(records.Count);
        try
        {
            spool.Advance(next, consumed);
        }
        catch (IOException ex)
        {
            // The records are stored; replaying them again later is harmless (a card is stored once).
            LogSpoolWriteFailed(_logger, ex, 0, SpoolPath);
        }
        if (spool.IsEmpty)
        {
            LogSpoolReplayed(_logger, SpoolPath);
            Interlocked.Exchange(ref _spoolFullEpisode, 0);
            foreach (var (_, done) in _flushesInSpool) done.TrySetResult();
            _flushesInSpool.Clear();
        }
        else
        {
            _flushesInSpool.RemoveAll(f =>
            {
                if (f.Offset > spool.ReadOffset) return false;
                f.Done.TrySetResult();
                return true;
            });
        }
        return true;
    }

    /// <summary>The next attempt falls due after the backoff (stopping makes it due at once); the backoff doubles up to its cap.</summary>
    private void ScheduleRetry()
    {
        _retryDue = Task.Delay(_retryDelay, _clock, _stopping.Token);
        _retryDelay = TimeSpan.FromTicks(Math.Min(_retryDelay.Ticks * 2, _retryMax.Ticks));
    }

    /// <summary>Sleeps until cards arrive (they go to the spool, then this waits again), the retry falls due, or the host stops.</summary>
    private async Task WaitForCardsOrRetryAsync(CancellationToken stoppingToken)
    {
        if (_retryDue.IsCompleted) return;
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var cards = _queue.Reader.WaitToReadAsync(wake.Token).AsTask();
        var first = await Task.WhenAny(_retryDue, cards);
        await wake.CancelAsync();
        // Cards: gather a few milliseconds' worth, so a steady stream costs one spool fsync per linger, not per call.
        if (first == cards && cards.IsCompletedSuccessfully && cards.Result) await LingerAsync(stoppingToken);
    }

    /// <summary>Completes once every card recorded before this call is stored (tests, and callers that need read-your-writes).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref _flushesWaiting);
        try
        {
            await _queue.Writer.WriteAsync(new Entry(null, flushed), cancellationToken);
        }
        catch
        {
            Interlocked.Decrement(ref _flushesWaiting);
            throw;
        }
        await flushed.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Stores what is queued if the store answers, else puts it in the spool (kept for the next start); never retries
    /// beyond one pass, so shutdown is quick whatever the store's state.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _closed = true;
        _queue.Writer.TryComplete();
        if (_queue.Reader.Count > 0) LogDraining(_logger, _queue.Reader.Count);
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// The container may dispose this before the host has called <see cref="StopAsync"/> (a host disposed right after
    /// it started): so disposal only stops the loop, and leaves the token source usable for a later StopAsync. It holds
    /// no timer, so nothing leaks by not disposing it.
    /// </summary>
    public void Dispose()
    {
        _closed = true;
        _queue.Writer.TryComplete();
        _stopping.Cancel();
    }

    /// <summary>A card-log row to store, or a flush marker completed once everything before it is stored.</summary>
    private readonly record struct Entry(CardLogRecord? Record, TaskCompletionSource? Flushed);

    private sealed record StoreFailure(DateTimeOffset Since, string Error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Card log queue full ({Capacity} cards) and the writer is not draining it: cards are dropped (cds.card_log.dropped) until it does. Logged once per episode.")]
    private static partial void LogQueueFull(ILogger logger, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Card log closed during shutdown: a {CardKind} card of a late hook call was not recorded")]
    private static partial void LogClosed(ILogger logger, string cardKind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Card log: storing {Count} queued cards before shutdown")]
    private static partial void LogDraining(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Card log: the store failed storing {Count} cards; cards go to the spool {SpoolPath} until it answers again (retried every {RetryMaxSeconds:0.##} s at most)")]
    private static partial void LogStoreFailing(ILogger logger, Exception exception, int count, string spoolPath, double retryMaxSeconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Card log: the store still fails ({Error}); {Spooled} cards in the spool")]
    private static partial void LogStoreStillFailing(ILogger logger, string error, int spooled);

    [LoggerMessage(Level = LogLevel.Information, Message = "Card log: the store answers again after {Seconds:0.0} s; replaying {Spooled} spooled cards")]
    private static partial void LogStoreBack(ILogger logger, double seconds, int spooled);

    [LoggerMessage(Level = LogLevel.Information, Message = "Card log: the spool {SpoolPath} is replayed; cards go straight to the store again")]
    private static partial void LogSpoolReplayed(ILogger logger, string spoolPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "Card log: {Count} cards left in the spool {SpoolPath} by an earlier run are replayed first")]
    private static partial void LogSpoolFound(ILogger logger, int count, string spoolPath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Card log: stopping with {Count} cards in the spool {SpoolPath}; they are replayed at the next start")]
    private static partial void LogLeftInSpool(ILogger logger, int count, string spoolPath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Card log: {Bytes} bytes of a record torn by a crash cut off the end of the spool {SpoolPath}")]
    private static partial void LogSpoolTornTail(ILogger logger, string spoolPath, long bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Card log: the spool {SpoolPath} is full ({Bytes} of {MaxBytes} bytes): cards are dropped (cds.card_log.dropped) until the store takes the spool back. Logged once per episode.")]
    private static partial void LogSpoolFull(ILogger logger, string spoolPath, long bytes, long maxBytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Card log: writing {Count} cards to the spool {SpoolPath} failed")]
    private static partial void LogSpoolWriteFailed(ILogger logger, Exception exception, int count, string spoolPath);
}
