using System.Diagnostics.Metrics;
using CdsHooks.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace CdsHooks.Storage.Tests;

/// <summary>The shared store-health signal: one log line per episode, every failure counted, readiness' view of it.</summary>
public sealed class StoreHealthTests : IDisposable
{
    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly LogCapture _logs = new();
    private readonly StoreHealth _health;

    public StoreHealthTests() =>
        _health = new StoreHealth(new FixedTimeProvider(), _meters.GetRequiredService<IMeterFactory>(), LoggerFactory.Create(b => b.AddProvider(_logs)).CreateLogger<StoreHealth>());

    public void Dispose() => _meters.Dispose();

    [Fact]
    public void ManyFailures_OneEpisode_LoggedOnceCountedEachTime_RecoveryLoggedOnce()
    {
        long counted = 0;
        using var listener = Listen(v => Interlocked.Add(ref counted, v));

        for (var i = 0; i < 50; i++) _health.ReportFailure(StoreHealth.Feedback, "SQLite Error 13: 'database or disk is full'.");
        _health.ReportSuccess(StoreHealth.Feedback);
        _health.ReportSuccess(StoreHealth.Feedback);

        Assert.Equal(50, counted);
        Assert.Single(_logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Store feedback is failing: SQLite Error 13", StringComparison.Ordinal));
        Assert.Single(_logs.Lines, l => l.Contains("Store feedback recovered", StringComparison.Ordinal) && l.Contains("50 failed operations", StringComparison.Ordinal));
    }

    [Fact]
    public void Failing_ListsEachComponentWithItsLatestReason_UntilItRecovers()
    {
        _health.ReportFailure(StoreHealth.Feedback, "first");
        _health.ReportFailure(StoreHealth.Redis, "no answer within 250 ms");
        _health.ReportFailure(StoreHealth.Feedback, "second");

        Assert.True(_health.IsFailing(StoreHealth.Feedback));
        Assert.Equal([(StoreHealth.Feedback, "second", 2L), (StoreHealth.Redis, "no answer within 250 ms", 1L)],
            _health.Failing.Select(f => (f.Component, f.Reason, f.Failures)));

        _health.ReportSuccess(StoreHealth.Feedback);
        Assert.False(_health.IsFailing(StoreHealth.Feedback));
        Assert.Equal(StoreHealth.Redis, Assert.Single(_health.Failing).Component);
        _health.ReportSuccess(StoreHealth.Redis);
        Assert.False(_health.AnyFailing);
        Assert.Empty(_health.Failing);
    }

    [Fact]
    public async Task WhenChanged_CompletesAtTheStartAndTheEndOfAnEpisode_NotOnRepeats()
    {
        var start = _health.WhenChanged;
        _health.ReportSuccess(StoreHealth.Feedback);
        Assert.False(start.IsCompleted);
        _health.ReportFailure(StoreHealth.Feedback, "down");
        await start.WaitAsync(TimeSpan.FromSeconds(5));

        var end = _health.WhenChanged;
        _health.ReportFailure(StoreHealth.Feedback, "still down");
        Assert.False(end.IsCompleted);
        _health.ReportSuccess(StoreHealth.Feedback);
        await end.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Describe_NamesTheErrorButNoHostOrPath()
    {
        Assert.Equal("SQLite Error 13: 'database or disk is full'.", StoreHealth.Describe(new SqliteException("SQLite Error 13: 'database or disk is full'.", 13)));
        var refused = new NpgsqlException("Failed to connect to 10.1.2.3:5432", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
        Assert.Equal("PostgreSQL connection failed (ConnectionRefused)", StoreHealth.Describe(refused));
        var redis = new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "It was not possible to connect to redis-secret.internal:6379", null, CommandStatus.Unknown);
        Assert.Equal("not connected (UnableToConnect)", StoreHealth.Describe(redis));
        Assert.Equal("IOException", StoreHealth.Describe(new IOException("/var/lib/secret/cds.db")));
    }

    [Fact]
    public void LongReason_IsCut()
    {
        _health.ReportFailure(StoreHealth.Redis, new string('r', 1000));
        Assert.True(Assert.Single(_health.Failing).Reason.Length <= 201);
    }

    private MeterListener Listen(Action<long> measured)
    {
        var factory = _meters.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Scope == factory && i.Name == "cds.store.failures") l.EnableMeasurementEvents(i);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => measured(value));
        listener.Start();
        return listener;
    }
}
