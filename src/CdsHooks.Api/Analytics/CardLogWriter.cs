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
public sealed partial class CardLogWriter : BackgroundService, ICardLog
{
    public const string MeterName = "CdsHooks.CardLog";
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(30);

    private readonly Channel<IssuedCard> _queue;
    private readonly CardLogStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<CardLogWriter> _logger;
    private readonly int _capacity;
    private readonly int _batchSize;
    private readonly Counter<long> _queueFull;
    private readonly Counter<long> _written;
    private readonly Counter<long> _writeFailures;
    private readonly CancellationTokenSource _giveUp = new();
    private int _fullEpisode;

    public CardLogWriter(CardLogStore store, IOptions<AnalyticsOptions> options, TimeProvider clock, IMeterFactory meters, ILogger<CardLogWriter> logger)
    {
        _store = store;
        _clock = clock;
        _logger = logger;
        _capacity = options.Value.CardLogQueueCapacity;
        _batchSize = options.Value.CardLogBatchSize;
        _queue = Channel.CreateBounded<IssuedCard>(new BoundedChannelOptions(_capacity)
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
            if (_queue.Writer.TryWrite(issued)) continue;

            _queueFull.Add(1);
            if (Interlocked.Exchange(ref _fullEpisode, 1) == 0) LogQueueFull(_logger, _capacity);
            try
            {
                await _queue.Writer.WriteAsync(issued, cancellationToken);
            }
            catch (ChannelClosedException)
            {
                // Only after shutdown has begun (the server stops taking requests first): nothing left to wait for.
                LogClosed(_logger, cards.Count);
                return;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<IssuedCard>(_batchSize);
        // Not cancelled by stoppingToken: StopAsync completes the queue, and the loop ends once it is drained.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < _batchSize && _queue.Reader.TryRead(out var card)) batch.Add(card);
            await StoreAsync(batch, stoppingToken);
            batch.Clear();
            if (_queue.Reader.Count <= _capacity / 2) Interlocked.Exchange(ref _fullEpisode, 0);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        LogDraining(_logger, _queue.Reader.Count);
        // Retries go on while the host's shutdown timeout allows; after it, what is left is logged as lost.
        await using var giveUp = cancellationToken.Register(_giveUp.Cancel);
        await base.StopAsync(cancellationToken);
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
                    while (_queue.Reader.TryRead(out _)) { }
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

    public override void Dispose()
    {
        _giveUp.Dispose();
        base.Dispose();
    }

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
