using System.Collections.Concurrent;
using System.Net;
using System.Text;
using CdsHooks.Storage;
using CdsHooks.Testing;
using Xunit.Abstractions;

namespace CdsHooks.Api.Tests.Feedback;

/// <summary>
/// Acknowledged feedback survives SIGKILL: writers post feedback continuously to the real service process, which is
/// killed mid-stream and restarted several times; every report answered 200 must then be in the store.
/// </summary>
public sealed class FeedbackDurabilityTests(ITestOutputHelper output) : IDisposable
{
    private const int Cycles = 3;
    private const int AcknowledgedBeforeKill = 150;
    private const int Writers = 4;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cds-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task FeedbackAcknowledgedBeforeSigkill_IsAllPresentAfterRestart()
    {
        var database = Path.Combine(_folder, "cds.db");
        var environment = new Dictionary<string, string> { ["Storage__ConnectionString"] = "Data Source=" + database };
        var acknowledged = new ConcurrentDictionary<string, bool>();
        var failedInFlight = 0;

        for (var cycle = 1; cycle <= Cycles; cycle++)
        {
            await using var node = await ServiceProcess.StartAsync(environment);
            var ackedThisCycle = 0;
            var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

            async Task WriteAsync()
            {
                while (!stop.IsCancellationRequested)
                {
                    var card = Guid.NewGuid().ToString();
                    try
                    {
                        using var content = new StringContent(FeedbackTests.Body(FeedbackTests.Accepted(card, Guid.NewGuid().ToString())), Encoding.UTF8, "application/json");
                        using var response = await node.Client.PostAsync("/cds-services/rls-iron-order-select/feedback", content, stop.Token);
                        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                        acknowledged[card] = true;
                        if (Interlocked.Increment(ref ackedThisCycle) == AcknowledgedBeforeKill) enough.TrySetResult();
                    }
                    catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                    {
                        Interlocked.Increment(ref failedInFlight);
                        return; // the process is gone: this report was never acknowledged
                    }
                }
            }

            var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteAsync)).ToArray();
            await enough.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await node.KillAsync(); // while the writers are still posting
            await stop.CancelAsync();
            await Task.WhenAll(writers);
            output.WriteLine($"cycle {cycle}: {ackedThisCycle} acknowledged before SIGKILL");
        }

        // Restart on the same file: it must open (WAL recovery) and answer.
        await using (var restarted = await ServiceProcess.StartAsync(environment))
        {
            using var ready = await restarted.Client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await using var store = new SqliteCdsDatabase("Data Source=" + database, _folder);
        var rows = await StoreInspection.QueryAsync(store, "SELECT card_uuid FROM feedback");
        var stored = rows.Select(r => (string)r["card_uuid"]!).ToHashSet(StringComparer.Ordinal);
        var present = acknowledged.Keys.Count(stored.Contains);
        output.WriteLine($"acknowledged {acknowledged.Count}, present after restart {present}, rows stored {stored.Count} "
            + $"(stored but unacknowledged: {stored.Count - present}), requests cut by the kill {failedInFlight}");

        Assert.True(acknowledged.Count >= Cycles * AcknowledgedBeforeKill);
        Assert.Equal(acknowledged.Count, present);
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
