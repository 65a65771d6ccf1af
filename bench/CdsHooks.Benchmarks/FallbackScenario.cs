using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Benchmarks;

/// <summary>
/// Scenario (b): the hook call carries no prefetch, so the service reads all six keys from a FHIR server.
/// The server is the tests' stub (real Kestrel on loopback, every fixture's data) with a fixed latency per answer.
/// </summary>
public static class FallbackScenario
{
    public static async Task<int> RunStubAsync(string[] args)
    {
        var port = int.Parse(Arg(args, "--port") ?? "5187", System.Globalization.CultureInfo.InvariantCulture);
        var latency = int.Parse(Arg(args, "--latency-ms") ?? "20", System.Globalization.CultureInfo.InvariantCulture);
        await using var stub = await StubFhirServer.StartAsync(loadFixtures: true, port: port);
        stub.Latency = TimeSpan.FromMilliseconds(latency);
        Console.WriteLine($"stub FHIR server at {stub.BaseUrl} adding {latency} ms per answer");
        var stop = new TaskCompletionSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
        await stop.Task;
        return 0;
    }

    public static int StripPrefetch(string[] args)
    {
        var input = Arg(args, "--in") ?? throw new ArgumentException("--in is required");
        var output = Arg(args, "--out") ?? throw new ArgumentException("--out is required");
        var fhir = Arg(args, "--fhir") ?? throw new ArgumentException("--fhir is required");
        var request = JsonNode.Parse(File.ReadAllText(input))!.AsObject();
        request.Remove("prefetch");
        request["fhirServer"] = fhir;
        File.WriteAllText(output, request.ToJsonString());
        return 0;
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
