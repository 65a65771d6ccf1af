using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.LockOut;
using CdsHooks.Api.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests;

/// <summary>
/// The service on SQLite behind <see cref="GatedDatabase"/>, so a test can make the store hang or fail while hook calls
/// keep coming. The production bounds: the lock-out lookup 50 ms; store writes shortened to 300 ms and retries capped
/// at 200 ms so an outage test takes seconds.
/// </summary>
public sealed class FaultySqliteHost : CdsServiceHost
{
    public GatedDatabase Database => (GatedDatabase)Services.GetRequiredService<CdsDatabase>();

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("Analytics:LockOut:LookupTimeoutMilliseconds", "50"),
        new("Analytics:CardLogWriteTimeoutMilliseconds", "300"),
        new("Analytics:CardLogRetryMaxMilliseconds", "200"),
    ];

    protected override void ConfigureTestServices(IServiceCollection services) =>
        services.AddSingleton<CdsDatabase>(_ => new GatedDatabase(new SqliteCdsDatabase("Data Source=" + DatabasePath, Path.GetDirectoryName(DatabasePath)!)));
}

public sealed class LockOutFailOpenTests(FaultySqliteHost host) : IClassFixture<FaultySqliteHost>
{
    [Fact]
    public async Task LookupStoreHung_CardsShownWithinTheBound_CountedAndLoggedOnce()
    {
        // A first call while the store answers: the hook path is compiled before anything is timed.
        await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: LockOutScenarios.NewPatient(), encounterId: "visit-0"));
        using var unavailable = new MeasurementLog(host, CardLockOut.MeterName, "cds.lock_out.lookups_unavailable", "outcome");
        host.Database.Hold();
        try
        {
            // The store would never answer: the lookup gives up after 50 ms and the cards are shown.
            var clock = Stopwatch.StartNew();
            var cards = await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: LockOutScenarios.NewPatient(), encounterId: "visit-1"));
            var first = clock.Elapsed;
            Assert.Contains("iron-therapy", LockOutScenarios.Kinds(cards));
            // Within the next second the store is not asked at all.
            clock.Restart();
            cards = await HookCalls.CallAsync(host.Client, HookCalls.Request(patientId: LockOutScenarios.NewPatient(), encounterId: "visit-1"));
            var second = clock.Elapsed;
            Assert.Contains("iron-therapy", LockOutScenarios.Kinds(cards));

            Assert.True(first < TimeSpan.FromSeconds(1), $"first call {first.TotalMilliseconds:0} ms");
            Assert.True(second < TimeSpan.FromSeconds(1), $"second call {second.TotalMilliseconds:0} ms");
            Assert.Equal(["timeout", "paused"], unavailable.Tags);
            Assert.Single(host.Logs.Lines, l => l.Contains("card history is unavailable", StringComparison.Ordinal));
        }
        finally
        {
            host.Database.Heal();
        }
    }
}

/// <summary>Records, in order, one tag of each measurement of one instrument of a host's meters.</summary>
public sealed class MeasurementLog : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<string?> _tags = new();

    public MeasurementLog(CdsServiceHost host, string meter, string instrument, string tag)
    {
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Scope == factory && i.Meter.Name == meter && i.Name == instrument) l.EnableMeasurementEvents(i);
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == tag) _tags.Enqueue(t.Value?.ToString());
            }
        });
        _listener.Start();
    }

    public IReadOnlyList<string?> Tags => [.. _tags];

    public void Dispose() => _listener.Dispose();
}
