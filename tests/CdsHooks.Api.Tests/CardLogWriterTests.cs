using System.Data.Common;
using System.Diagnostics.Metrics;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.Storage;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Tests;

/// <summary>The card log's queue and batch writer, against a real SQLite file whose writes a test can hold back.</summary>
public sealed class CardLogWriterTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cds-tests", Guid.NewGuid().ToString("N"));
    private readonly LogCapture _logs = new();
    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private GatedDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = new GatedDatabase(new SqliteCdsDatabase("Data Source=" + Path.Combine(_folder, "cds.db"), _folder));
        _database.Open();
        await new SchemaMigrator(_database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _database.Open();
        await _database.DisposeAsync();
        await _meters.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Record_StoreBlocked_ReturnsWithoutWaiting()
    {
        using var writer = CreateWriter(capacity: 100);
        await writer.StartAsync(CancellationToken.None);
        _database.Hold();

        var record = writer.RecordAsync("svc", "hook-1", [CardOf("iron-therapy"), CardOf("ssri-caution")], CancellationToken.None);

        Assert.True(record.IsCompletedSuccessfully, "a hook call waited for the store");
        _database.Open();
        await writer.FlushAsync(CancellationToken.None);
        Assert.Equal(2, await CountAsync());
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task QueueFull_WaitsRatherThanDrops_CountsAndLogsOnce()
    {
        using var writer = CreateWriter(capacity: 2);
        long waits = 0;
        using var listener = Listen("cds.card_log.queue_full", v => Interlocked.Add(ref waits, v));

        // The writer is not started yet, so nothing drains the queue: two fit, the third and fourth must wait.
        await writer.RecordAsync("svc", "hook-1", [CardOf("a"), CardOf("b")], CancellationToken.None);
        var third = writer.RecordAsync("svc", "hook-2", [CardOf("c")], CancellationToken.None).AsTask();
        var fourth = writer.RecordAsync("svc", "hook-3", [CardOf("d")], CancellationToken.None).AsTask();

        Assert.False(third.IsCompleted);
        Assert.False(fourth.IsCompleted);
        Assert.Equal(2, Interlocked.Read(ref waits));
        Assert.Single(_logs.Lines, l => l.Contains("Card log queue full", StringComparison.Ordinal));

        await writer.StartAsync(CancellationToken.None);
        await Task.WhenAll(third, fourth);
        await writer.FlushAsync(CancellationToken.None);
        Assert.Equal(4, await CountAsync());
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task QueueFull_CallerCancels_RecordStopsWaiting()
    {
        using var writer = CreateWriter(capacity: 1);
        await writer.RecordAsync("svc", "hook-1", [CardOf("a")], CancellationToken.None);
        using var aborted = new CancellationTokenSource();

        var waiting = writer.RecordAsync("svc", "hook-2", [CardOf("b")], aborted.Token).AsTask();
        await aborted.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Stop_AfterTheContainerDisposedTheWriter_CompletesWithoutThrowing()
    {
        // A host that fails while starting disposes its services, then still stops its hosted services.
        var writer = CreateWriter(capacity: 10);
        await writer.StartAsync(CancellationToken.None);
        writer.Dispose();

        var error = await Record.ExceptionAsync(() => writer.StopAsync(CancellationToken.None));

        Assert.Null(error);
    }

    [Fact]
    public async Task Stop_DrainsEverythingQueued()
    {
        using var writer = CreateWriter(capacity: 1000);
        await writer.StartAsync(CancellationToken.None);
        _database.Hold();
        for (var i = 0; i < 50; i++) await writer.RecordAsync("svc", $"hook-{i}", [CardOf("a"), CardOf("b")], CancellationToken.None);

        var stopping = writer.StopAsync(CancellationToken.None);
        Assert.False(stopping.IsCompleted);
        _database.Open();
        await stopping;

        Assert.True(100 == await CountAsync(), string.Join("\n", _logs.Lines));
    }

    [Fact]
    public async Task StoreFails_BatchIsRetriedNotLost()
    {
        using var writer = CreateWriter(capacity: 100);
        long failures = 0;
        using var listener = Listen("cds.card_log.write_failures", v => Interlocked.Add(ref failures, v));
        _database.FailNextOpen();
        await writer.StartAsync(CancellationToken.None);

        await writer.RecordAsync("svc", "hook-1", [CardOf("iron-studies")], CancellationToken.None);
        await writer.FlushAsync(CancellationToken.None);

        Assert.Equal(1, await CountAsync());
        Assert.Equal(1, Interlocked.Read(ref failures));
        Assert.Contains(_logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("retrying", StringComparison.Ordinal));
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Record_WithoutFlush_IsStoredAfterTheLingerEvenWithAFrozenClock()
    {
        using var writer = CreateWriter(capacity: 100);
        await writer.StartAsync(CancellationToken.None);

        await writer.RecordAsync("svc", "hook-1", [CardOf("iron-therapy")], CancellationToken.None);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await CountAsync() == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(1, await CountAsync());
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ManyHookCalls_ShareTransactions_AndKeepOneConnection()
    {
        using var writer = CreateWriter(capacity: 1000);
        await writer.StartAsync(CancellationToken.None);
        long batches = 0;
        using var listener = Listen("cds.card_log.written", _ => Interlocked.Increment(ref batches));
        var opensBefore = _database.Opens;

        for (var i = 0; i < 200; i++) await writer.RecordAsync("svc", $"hook-{i}", [CardOf("a")], CancellationToken.None);
        await writer.FlushAsync(CancellationToken.None);

        Assert.Equal(1, _database.Opens - opensBefore);
        Assert.True(Interlocked.Read(ref batches) < 200, $"{batches} transactions for 200 cards");
        Assert.Equal(200, await CountAsync());
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Record_KeepsKindHookInstanceAndSuggestionUuids()
    {
        using var writer = CreateWriter(capacity: 10);
        await writer.StartAsync(CancellationToken.None);
        var card = CardOf("iron-therapy", "s-1", "s-2");

        await writer.RecordAsync("rls-iron-order-sign", "hook-9", [card], CancellationToken.None);
        await writer.FlushAsync(CancellationToken.None);

        var row = Assert.Single(await StoreInspection.QueryAsync(_database, "SELECT * FROM card_log"));
        Assert.Equal(card.Uuid, row["card_uuid"]);
        Assert.Equal("rls-iron-order-sign", row["service_id"]);
        Assert.Equal("iron-therapy", row["card_kind"]);
        Assert.Equal("hook-9", row["hook_instance"]);
        Assert.Equal("s-1 s-2", row["suggestion_uuids"]);
        Assert.Equal(StoredTime.ToMicros(FixedTimeProvider.FixtureDate), row["issued_at"]);
        await writer.StopAsync(CancellationToken.None);
    }

    private CardLogWriter CreateWriter(int capacity)
    {
        var options = Options.Create(new AnalyticsOptions { CardLogQueueCapacity = capacity, CardLogBatchSize = 16 });
        var loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs));
        return new CardLogWriter(new CardLogStore(_database), options, new FixedTimeProvider(), _meters.GetRequiredService<IMeterFactory>(), loggerFactory.CreateLogger<CardLogWriter>());
    }

    private MeterListener Listen(string instrument, Action<long> measured)
    {
        var factory = _meters.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Scope == factory && i.Name == instrument) l.EnableMeasurementEvents(i);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => measured(value));
        listener.Start();
        return listener;
    }

    private async Task<long> CountAsync() =>
        Convert.ToInt64((await StoreInspection.QueryAsync(_database, "SELECT COUNT(*) AS n FROM card_log"))[0]["n"]);

    internal static Card CardOf(string kind, params string[] suggestions) => new()
    {
        Uuid = Guid.NewGuid().ToString(),
        Summary = kind,
        Indicator = Indicator.Info,
        Source = new CardSource { Label = "test", Topic = new Coding("urn:rls-iron-cds:card-kind", kind) },
        Suggestions = suggestions.Length == 0 ? null : [.. suggestions.Select(s => new Suggestion { Label = s, Uuid = s })],
    };

    /// <summary>A real database whose connections a test can hold back (a slow store) or fail once (a store outage).</summary>
    private sealed class GatedDatabase(CdsDatabase inner) : CdsDatabase
    {
        private volatile TaskCompletionSource _gate = Opened();
        private int _failNext;

        public override string Provider => inner.Provider;
        public override string Location => inner.Location;

        public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _gate.TrySetResult();

        public void FailNextOpen() => Interlocked.Exchange(ref _failNext, 1);

        /// <summary>Connections opened so far.</summary>
        public int Opens => Volatile.Read(ref _opens);

        private int _opens;

        public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
        {
            await _gate.Task.WaitAsync(cancellationToken);
            Interlocked.Increment(ref _opens);
            if (Interlocked.Exchange(ref _failNext, 0) == 1) throw new Microsoft.Data.Sqlite.SqliteException("disk I/O error (simulated)", 10);
            return await inner.OpenAsync(cancellationToken);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }

        private static TaskCompletionSource Opened()
        {
            var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            open.SetResult();
            return open;
        }
    }
}
