using System.Diagnostics.Metrics;
using System.Threading.Channels;
using CdsHooks.Api.Storage;
using CdsHooks.Protocol;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Analytics;

/// <summary>
/// The card log: hook calls put cards in a bounded queue and return; this background writer stores them in batches.
/// A full queue makes callers wait (never drops a card), counts <c>cds.card_log.queue_full</c> and logs once per
/// episode. A failed batch is retried with backoff; on graceful shutdown the queue is drained before the process exits.
/// </summary>
public sealed partial class CardLogWriter : IHostedService, ICardLog, IDisposable
{
    public const string MeterName = "CdsHooks.CardLog";
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(30);

    private readonly Channel<Entry> _queue;
    private readonly CardLogStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<CardLogWriter> _logger;
    private readonly int _capacity;
    private readonly int _batchSize;
    private readonly Counter<long> _queueFull;
    private readonly Counter<long> _written;
    private readonly Counter<long> _writeFailures;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _giveUp = new();
    private Task _loop = Task.CompletedTask;
    private readonly TimeSpan _linger;
    private int _fullEpisode;
    private int _flushesWaiting;

    public CardLogWriter(CardLogStore store, IOptions<AnalyticsOptions> options, TimeProvider clock, IMeterFactory meters, ILogger<CardLogWriter> logger)
    {
        _store = store;
        _clock = clock;
        _logger = logger;
        _capacity = options.Value.CardLogQueueCapacity;
        _batchSize = options.Value.CardLogBatchSize;
        _linger = TimeSpan.FromMilliseconds(options.Value.CardLogLingerMilliseconds);
        _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(_capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        var meter = meters.Create(MeterName);
        _queueFull = meter.CreateCounter<long>("cds.card_log.queue_full", "{card}", "Cards that had to wait for room in the full card-log queue.");
        _written = meter.CreateCounter<long>("cds.card_log.written", "{card}", "Cards stored in the card log.");
        _writeFailures = meter.CreateCounter<long>("cds.card_log.write_failures", "{batch}", "Card-log batches that failed to store and were retried.");
        meter.CreateObservableGauge("cds.card_log.queue_length", () => _queue.Reader.Count, "{card}", "Cards waiting to be stored.");
    }

    /// <summary>Cards queued and not yet stored.</summary>
    public int Pending => _queue.Reader.Count;

    public async ValueTask RecordAsync(string serviceId, string hookInstance, IReadOnlyList<Card> cards, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        foreach (var card in cards)
        {
            if (card.Uuid is null) continue; // nothing could refer to it: feedback names cards by uuid
            var issued = new IssuedCard(card.Uuid, serviceId, card.Source.Topic?.Code ?? IssuedCard.UnknownKind, hookInstance, now,
                [.. (card.Suggestions ?? []).Select(s => s.Uuid).OfType<string>()]);
            var entry = new Entry(issued, null);
            if (_queue.Writer.TryWrite(entry)) continue;

            _queueFull.Add(1);
            if (Interlocked.Exchange(ref _fullEpisode, 1) == 0) LogQueueFull(_logger, _capacity);
            try
            {
                await _queue.Writer.WriteAsync(entry, cancellationToken);
            }
            catch (ChannelClosedException)
            {
                // Only after shutdown has begun (the server stops taking requests first): nothing left to wait for.
                LogClosed(_logger, cards.Count);
                return;
            }
        }
    }

    /// <summary>
    /// Starts the loop directly (not BackgroundService, whose loop may never start when stopped early, which would
    /// lose the queue).
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = WriteLoopAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private async Task WriteLoopAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var batch = new List<IssuedCard>(_batchSize);
        try
        {
            // Not cancelled by stoppingToken: StopAsync completes the queue, and the loop ends once it is drained.
            while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
            {
                await LingerAsync(stoppingToken);
                await WriteBatchAsync(batch, stoppingToken);
            }
        }
        finally
        {
            await _store.CloseAsync();
        }
    }

    /// <summary>
    /// Under load cards arrive one hook call at a time; waiting a moment for more turns a transaction per call into one
    /// per few milliseconds. Not when the batch is already full, a flush is waiting, or the host is stopping. Real time,
    /// not the injected clock: this is I/O pacing, and a test's frozen clock must not stall the log.
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

    private async Task WriteBatchAsync(List<IssuedCard> batch, CancellationToken stoppingToken)
    {
        TaskCompletionSource? flushed = null;
        while (batch.Count < _batchSize && flushed is null && _queue.Reader.TryRead(out var entry))
        {
            if (entry.Card is { } card) batch.Add(card);
            else flushed = entry.Flushed;
        }
        if (batch.Count > 0) await StoreAsync(batch, stoppingToken);
        batch.Clear();
        if (flushed is not null)
        {
            Interlocked.Decrement(ref _flushesWaiting);
            flushed.TrySetResult();
        }
        if (_queue.Reader.Count <= _capacity / 2) Interlocked.Exchange(ref _fullEpisode, 0);
    }

    /// <summary>Completes once every card queued before this call is stored (tests, and callers that need read-your-writes).</summary>
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

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (_queue.Reader.Count > 0) LogDraining(_logger, _queue.Reader.Count);
        await _stopping.CancelAsync();
        // Retries go on while the host's shutdown timeout allows; after it, what is left is logged as lost.
        await using var giveUp = cancellationToken.Register(_giveUp.Cancel);
        await _loop.WaitAsync(cancellationToken);
    }

    private async Task StoreAsync(List<IssuedCard> batch, CancellationToken stoppingToken)
    {
        var delay = FirstRetry;
        while (true)
        {
            try
            {
                await _store.AppendAsync(batch, CancellationToken.None);
                _written.Add(batch.Count);
                return;
            }
            catch (Exception ex)
            {
                // Any failure (store down, disk full, a bug) must not stop the writer: the queue would fill and hook calls wait.
                _writeFailures.Add(1);
                if (_giveUp.IsCancellationRequested)
                {
                    LogLostAtShutdown(_logger, ex, batch.Count + _queue.Reader.Count);
                    while (_queue.Reader.TryRead(out var abandoned)) abandoned.Flushed?.TrySetException(ex);
                    return;
                }
                LogWriteFailed(_logger, ex, batch.Count, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, _clock, stoppingToken.IsCancellationRequested ? _giveUp.Token : stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    // Shutdown began (retry now) or its timeout passed (one last attempt, then give up).
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastRetry.Ticks));
            }
        }
    }

    /// <summary>
    /// The container may dispose this before the host has called <see cref="StopAsync"/> (a host disposed right after
    /// it started): so disposal only stops the loop, and leaves the token sources usable for a later StopAsync. They
    /// hold no timers, so nothing leaks by not disposing them.
    /// </summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stopping.Cancel();
    }

    /// <summary>A card to store, or a flush marker completed once everything before it is stored.</summary>
    private readonly record struct Entry(IssuedCard? Card, TaskCompletionSource? Flushed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Card log queue full ({Capacity} cards): hook calls wait for the writer. The store is slow or down.")]
    private static partial void LogQueueFull(ILogger logger, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Card log closed during shutdown: {Count} cards of a late hook call not recorded")]
    private static partial void LogClosed(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Card log: storing {Count} queued cards before shutdown")]
    private static partial void LogDraining(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Card log: storing {Count} cards failed; retrying in {DelaySeconds:0.0} s")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Card log: the store failed during shutdown; {Count} cards were not recorded")]
    private static partial void LogLostAtShutdown(ILogger logger, Exception exception, int count);
}
