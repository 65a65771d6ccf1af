using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CdsHooks.Api.Analytics;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Storage;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Tests.Analytics;

/// <summary>
/// The card log's queue, batch writer and spool, against a real SQLite file whose connections a test can hold back (a
/// hung store) or fail (a store outage). Waits are on the writer's own metrics (signals), never on sleeps.
/// </summary>
public sealed class CardLogWriterTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cds-tests", Guid.NewGuid().ToString("N"));
    private readonly LogCapture _logs = new();
    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private GatedDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = new GatedDatabase(new SqliteCdsDatabase("Data Source=" + Path.Combine(_folder, "cds.db"), _folder));
        await new SchemaMigrator(_database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _database.Heal();
        await _database.DisposeAsync();
        await _meters.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Record_StoreHung_ReturnsAtOnceAndTheCardsAreSpooledWithinTheWriteTimeout()
    {
        using var writer = CreateWriter(capacity: 100, writeTimeoutMs: 100);
        await writer.StartAsync(CancellationToken.None);
        var spooled = Sum("cds.card_log.spooled", 2);
        _database.Hold();

        var clock = Stopwatch.StartNew();
        writer.Record("svc", "hook-1", Shown(CardOf("iron-therapy"), CardOf("ssri-caution")));
        Assert.True(clock.ElapsedMilliseconds < 50, $"Record took {clock.ElapsedMilliseconds} ms");

        await spooled.WaitAsync(Bound);
        Assert.True(writer.Status.IsFailing);
        Assert.Equal(2, writer.Status.SpooledCards);
        Assert.Equal(0, await CountAsync());
        _database.Heal();
        await writer.FlushAsync(CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(2, await CountAsync());
        Assert.False(writer.Status.IsFailing);
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task StoreDown_CardsSpooled_ThenReplayedInIssueOrderWhenItAnswers()
    {
        using var writer = CreateWriter(capacity: 1000, batchSize: 7);
        await writer.StartAsync(CancellationToken.None);
        _database.Fail();
        var spooled = Sum("cds.card_log.spooled", 60);
        var recorded = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var (a, b) = (CardOf("a"), CardOf("b"));
            writer.Record("svc", $"hook-{i}", Shown(a, b));
            recorded.AddRange([a.Uuid!, b.Uuid!]);
        }
        await spooled.WaitAsync(Bound);
        Assert.True(new FileInfo(writer.SpoolPath).Length > 60 * 50, "the spool file holds the cards");

        _database.Heal();
        await writer.FlushAsync(CancellationToken.None).WaitAsync(Bound);

        // SQLite's rowid follows insertion: the store received the cards in the order they were issued.
        var stored = await StoreInspection.QueryAsync(_database, "SELECT card_uuid FROM card_log ORDER BY rowid");
        Assert.Equal(recorded, stored.Select(r => (string)r["card_uuid"]!));
        Assert.Equal(0, writer.Status.SpooledCards);
        Assert.Equal(8, new FileInfo(writer.SpoolPath).Length); // back to its header
        Assert.Contains(_logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("cards go to the spool", StringComparison.Ordinal));
        Assert.Contains(_logs.Lines, l => l.Contains("answers again", StringComparison.Ordinal));
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task StoreDown_RetryBackoffDoublesUpToTheCap_AndTheNextRetryAfterRecoveryStores()
    {
        var clock = new ManualTimeProvider();
        using var writer = CreateWriter(capacity: 100, retryMaxMs: 500, clock: clock);
        await writer.StartAsync(CancellationToken.None);
        _database.Fail();
        writer.Record("svc", "hook-1", Shown(CardOf("iron-studies")));

        // 100 ms doubling, capped at the configured 500 ms (the option allows at most 2 s).
        foreach (var ms in new[] { 100, 200, 400, 500, 500 })
        {
            await clock.WaitForTimerAsync(d => d == TimeSpan.FromMilliseconds(ms), Bound);
            Assert.Equal(0, await CountAsync());
            clock.Advance(TimeSpan.FromMilliseconds(ms));
        }
        await clock.WaitForTimerAsync(d => d == TimeSpan.FromMilliseconds(500), Bound);
        _database.Heal();
        var written = Sum("cds.card_log.written", 1);
        clock.Advance(TimeSpan.FromMilliseconds(500));

        await written.WaitAsync(Bound);
        Assert.Equal(1, await CountAsync());
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task SpoolFull_CardsBeyondItAreDroppedCountedAndLoggedOnce()
    {
        using var writer = CreateWriter(capacity: 1000, spoolMaxBytes: 2000);
        await writer.StartAsync(CancellationToken.None);
        _database.Fail();
        long spooledCount = 0;
        using var spooledListener = Listen("cds.card_log.spooled", v => Interlocked.Add(ref spooledCount, v));
        var handled = Sum(["cds.card_log.spooled", "cds.card_log.dropped"], 40);

        for (var i = 0; i < 20; i++) writer.Record("svc", $"hook-{i}", Shown(CardOf("a"), CardOf("b")));
        await handled.WaitAsync(Bound);

        var spooled = Interlocked.Read(ref spooledCount);
        Assert.InRange(spooled, 1, 39);
        Assert.Equal(40 - spooled, writer.Status.DroppedCards);
        Assert.True(new FileInfo(writer.SpoolPath).Length <= 2000);
        Assert.Single(_logs.Lines, l => l.Contains("is full", StringComparison.Ordinal));
        _database.Heal();
        await writer.FlushAsync(CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(spooled, await CountAsync());
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Stop_StoreDown_CardsStayInTheSpoolAndAreStoredByTheNextStart()
    {
        var writer = CreateWriter(capacity: 1000);
        await writer.StartAsync(CancellationToken.None);
        _database.Fail();
        for (var i = 0; i < 50; i++) writer.Record("svc", $"hook-{i}", Shown(CardOf("a"), CardOf("b")));

        await writer.StopAsync(CancellationToken.None).WaitAsync(Bound);
        writer.Dispose();
        Assert.Equal(0, await CountAsync());
        Assert.Contains(_logs.Lines, l => l.Contains("replayed at the next start", StringComparison.Ordinal));

        _database.Heal();
        using var next = CreateWriter(capacity: 1000);
        await next.StartAsync(CancellationToken.None);
        await next.FlushAsync(CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(100, await CountAsync());
        await next.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task QueueFull_WriterNotDraining_DropsCountsAndLogsOnceWithoutWaiting()
    {
        using var writer = CreateWriter(capacity: 2);
        long dropped = 0;
        using var listener = Listen("cds.card_log.dropped", v => Interlocked.Add(ref dropped, v));

        // Not started: nothing drains the queue. Two fit; the other two are dropped, and Record returns at once.
        writer.Record("svc", "hook-1", Shown(CardOf("a"), CardOf("b")));
        writer.Record("svc", "hook-2", Shown(CardOf("c")));
        writer.Record("svc", "hook-3", Shown(CardOf("d")));

        Assert.Equal(2, Interlocked.Read(ref dropped));
        Assert.Equal(2, writer.Status.DroppedCards);
        Assert.Single(_logs.Lines, l => l.Contains("Card log queue full", StringComparison.Ordinal));
        await writer.StartAsync(CancellationToken.None);
        await writer.FlushAsync(CancellationToken.None).WaitAsync(Bound);
        Assert.Equal(2, await CountAsync());
        await writer.StopAsync(CancellationToken.None);
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
    public async Task Stop_StoreUp_StoresEverythingQueued()
    {
        using var writer = CreateWriter(capacity: 1000);
        await writer.StartAsync(CancellationToken.None);
        for (var i = 0; i < 50; i++) writer.Record("svc", $"hook-{i}", Shown(CardOf("a"), CardOf("b")));

        await writer.StopAsync(CancellationToken.None);

        Assert.True(100 == await CountAsync(), string.Join("\n", _logs.Lines));
        Assert.Equal(8, new FileInfo(writer.SpoolPath).Length);
    }

    [Fact]
    public async Task StoreFailsOnce_BatchIsSpooledAndStoredNotLost()
    {
        using var writer = CreateWriter(capacity: 100);
        long failures = 0;
        using var listener = Listen("cds.card_log.write_failures", v => Interlocked.Add(ref failures, v));
        _database.FailNextOpen();
        await writer.StartAsync(CancellationToken.None);

        writer.Record("svc", "hook-1", Shown(CardOf("iron-studies")));
        await writer.FlushAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.Equal(1, await CountAsync());
        Assert.Equal(1, Interlocked.Read(ref failures));
        Assert.Contains(_logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("cards go to the spool", StringComparison.Ordinal));
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Record_WithoutFlush_IsStoredAfterTheLingerEvenWithAFrozenClock()
    {
        using var writer = CreateWriter(capacity: 100);
        await writer.StartAsync(CancellationToken.None);
        var written = Sum("cds.card_log.written", 1);

        writer.Record("svc", "hook-1", Shown(CardOf("iron-therapy")));

        await written.WaitAsync(Bound);
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

        for (var i = 0; i < 200; i++) writer.Record("svc", $"hook-{i}", Shown(CardOf("a")));
        await writer.FlushAsync(CancellationToken.None);

        Assert.Equal(1, _database.Opens - opensBefore);
        Assert.True(Interlocked.Read(ref batches) < 200, $"{batches} transactions for 200 cards");
        Assert.Equal(200, await CountAsync());
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Record_KeepsKindHookInstanceSuggestionsAndSubjectKeys_AndTheWithheldCards()
    {
        using var writer = CreateWriter(capacity: 10);
        await writer.StartAsync(CancellationToken.None);
        var card = CardOf("iron-therapy", "s-1", "s-2");
        var caution = CardOf("ssri-caution");
        caution.AboutDraftOrder = true;
        var held = CardOf("iron-studies");

        writer.Record("rls-iron-order-sign", "hook-9", new CardSelection([card, caution], [(held, WithholdReason.LockOut)], new SubjectKeys("patient-hash", "encounter-hash")));
        await writer.FlushAsync(CancellationToken.None);

        var rows = await StoreInspection.QueryAsync(_database, "SELECT * FROM card_log ORDER BY card_kind");
        var row = rows.Single(r => (string)r["card_uuid"]! == card.Uuid);
        Assert.Equal("rls-iron-order-sign", row["service_id"]);
        Assert.Equal("iron-therapy", row["card_kind"]);
        Assert.Equal("hook-9", row["hook_instance"]);
        Assert.Equal("s-1 s-2", row["suggestion_uuids"]);
        Assert.Equal(StoredTime.ToMicros(FixedTimeProvider.FixtureDate), row["issued_at"]);
        Assert.Equal("patient-hash", row["patient_key"]);
        Assert.Equal("encounter-hash", row["encounter_key"]);
        Assert.Equal(0L, row["about_draft_order"]);
        Assert.Equal(1L, rows.Single(r => (string)r["card_uuid"]! == caution.Uuid)["about_draft_order"]);
        var withheld = Assert.Single(await StoreInspection.QueryAsync(_database, "SELECT * FROM card_withheld"));
        Assert.Equal(held.Uuid, withheld["card_uuid"]);
        Assert.Equal("iron-studies", withheld["card_kind"]);
        Assert.Equal("lock-out", withheld["reason"]);
        Assert.Equal("rls-iron-order-sign", withheld["service_id"]);
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void Spool_TornTailAfterACrash_IsCutOffAndTheWholeRecordsKept()
    {
        var path = Path.Combine(_folder, "torn.spool");
        IssuedCard[] cards = [.. Enumerable.Range(0, 3).Select(i => new IssuedCard(Guid.NewGuid().ToString(), "svc", "iron-therapy", $"hook-{i}",
            FixedTimeProvider.FixtureDate, ["s-1"], "p", i == 0 ? null : "e", i == 2))];
        WithheldCard held = new(Guid.NewGuid().ToString(), "svc", "iron-studies", WithholdReason.Repeat, FixedTimeProvider.FixtureDate);
        using (var spool = CardLogSpool.Open(path, 1 << 20, out _))
        {
            Assert.Equal(4, spool.Append([.. cards, held]));
        }
        // A crash during the next append: half a record at the end.
        using (var file = new FileStream(path, FileMode.Append)) file.Write([40, 0, 0, 0, 1, 2, 3, 4, 5, 6]);

        using var reopened = CardLogSpool.Open(path, 1 << 20, out var discarded);
        var read = reopened.Read(100, out var next, out var consumed);

        Assert.Equal(10, discarded);
        Assert.Equal(4, consumed);
        Assert.Equal(4, reopened.PendingRecords);
        Assert.Equal(cards.Select(c => (c.CardUuid, c.PatientKey, c.EncounterKey, c.AboutDraftOrder, c.IssuedAt, string.Join(' ', c.SuggestionUuids))),
            read.OfType<IssuedCard>().Select(c => (c.CardUuid, c.PatientKey, c.EncounterKey, c.AboutDraftOrder, c.IssuedAt, string.Join(' ', c.SuggestionUuids))));
        Assert.Equal(held, read[3]);
        reopened.Advance(next, consumed);
        Assert.True(reopened.IsEmpty);
        Assert.Equal(8, new FileInfo(path).Length);
    }

    [Fact]
    public void Spool_OpenTwice_SecondIsRefused()
    {
        var path = Path.Combine(_folder, "locked.spool");
        using var first = CardLogSpool.Open(path, 1 << 20, out _);

        Assert.ThrowsAny<IOException>(() => CardLogSpool.Open(path, 1 << 20, out _));
    }

    [Fact]
    public void Spool_NotASpoolFile_IsRefusedNamingTheKey()
    {
        var path = Path.Combine(_folder, "other.txt");
        Directory.CreateDirectory(_folder);
        File.WriteAllText(path, "some other file");

        var error = Assert.Throws<InvalidDataException>(() => CardLogSpool.Open(path, 1 << 20, out _));
        Assert.Contains("Analytics:CardLogSpoolPath", error.Message);
    }

    private CardLogWriter CreateWriter(int capacity, int batchSize = 16, int writeTimeoutMs = 2000, int retryMaxMs = 50, long spoolMaxBytes = 1 << 20, TimeProvider? clock = null)
    {
        var options = Options.Create(new AnalyticsOptions
        {
            CardLogQueueCapacity = capacity,
            CardLogBatchSize = batchSize,
            CardLogWriteTimeoutMilliseconds = writeTimeoutMs,
            CardLogRetryMaxMilliseconds = retryMaxMs,
            CardLogSpoolMaxBytes = spoolMaxBytes,
        });
        var loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));
        return new CardLogWriter(_database, options, new DataFolder(_folder), clock ?? new FixedTimeProvider(), _meters.GetRequiredService<IMeterFactory>(), loggerFactory.CreateLogger<CardLogWriter>());
    }

    private static CardSelection Shown(params Card[] cards) => CardSelection.AllShown([.. cards]);

    private MeterListener Listen(string instrument, Action<long> measured) => Listen([instrument], measured);

    private MeterListener Listen(string[] instruments, Action<long> measured)
    {
        var factory = _meters.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Scope == factory && instruments.Contains(i.Name)) l.EnableMeasurementEvents(i);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => measured(value));
        listener.Start();
        return listener;
    }

    private Task Sum(string instrument, long target) => Sum([instrument], target);

    /// <summary>Completes once the instruments' measurements add up to <paramref name="target"/>: a signal, not a poll.</summary>
    private Task Sum(string[] instruments, long target)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long total = 0;
        MeterListener? listener = null;
        listener = Listen(instruments, v =>
        {
            if (Interlocked.Add(ref total, v) >= target && reached.TrySetResult()) listener?.Dispose();
        });
        return reached.Task;
    }

    private async Task<long> CountAsync() =>
        Convert.ToInt64((await StoreInspection.QueryAsync(_database.Inner, "SELECT COUNT(*) AS n FROM card_log"))[0]["n"]);

    internal static Card CardOf(string kind, params string[] suggestions) => new()
    {
        Uuid = Guid.NewGuid().ToString(),
        Summary = kind,
        Indicator = Indicator.Info,
        Source = new CardSource { Label = "test", Topic = new Coding("urn:rls-iron-cds:card-kind", kind) },
        Suggestions = suggestions.Length == 0 ? null : [.. suggestions.Select(s => new Suggestion { Label = s, Uuid = s })],
    };
}

/// <summary>
/// A real database whose connections a test can hold back (a hung store), fail (a store outage) or fail once. What the
/// test reads goes to <see cref="Inner"/>, which is never held.
/// </summary>
public sealed class GatedDatabase(CdsDatabase inner) : CdsDatabase
{
    private static readonly Task Opened = Task.CompletedTask;
    private volatile TaskCompletionSource? _gate;
    private volatile bool _failing;
    private int _failNext;
    private int _opens;

    public CdsDatabase Inner => inner;
    public override string Provider => inner.Provider;
    public override string Location => inner.Location;

    /// <summary>Connections opened so far.</summary>
    public int Opens => Volatile.Read(ref _opens);

    /// <summary>Opens wait (until cancelled or <see cref="Heal"/>): a store that does not answer.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Opens fail at once: a store that is down.</summary>
    public void Fail() => _failing = true;

    public void FailNextOpen() => Interlocked.Exchange(ref _failNext, 1);

    public void Heal()
    {
        _failing = false;
        _gate?.TrySetResult();
        _gate = null;
    }

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await (_gate?.Task ?? Opened).WaitAsync(cancellationToken);
        Interlocked.Increment(ref _opens);
        if (_failing || Interlocked.Exchange(ref _failNext, 0) == 1) throw Simulated();
        return await inner.OpenAsync(cancellationToken);
    }

    /// <summary>Every transaction too, so a connection kept open (the card log's) meets the outage as well.</summary>
    protected override async ValueTask<IDisposable?> EnterWriterAsync(CancellationToken cancellationToken)
    {
        await (_gate?.Task ?? Opened).WaitAsync(cancellationToken);
        if (_failing) throw Simulated();
        return null;
    }

    /// <summary>And every read on a kept connection (the lock-out's).</summary>
    protected internal override async ValueTask EnterReaderAsync(CancellationToken cancellationToken)
    {
        await (_gate?.Task ?? Opened).WaitAsync(cancellationToken);
        if (_failing) throw Simulated();
    }

    private static Microsoft.Data.Sqlite.SqliteException Simulated() => new("disk I/O error (simulated)", 10);

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
