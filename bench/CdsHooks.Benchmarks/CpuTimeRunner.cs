using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace CdsHooks.Benchmarks;

/// <summary>
/// Runs the [Benchmark] methods of <see cref="PipelineBenchmarks"/> (or of another benchmark class, e.g.
/// <see cref="FirelyParseBenchmarks"/>) and reports process CPU time and bytes
/// allocated per call. On a machine shared with other builds, wall-clock timings (what BenchmarkDotNet
/// reports) swell with every other process; CPU time charged to this process barely does, so this is the
/// figure to compare before/after a change there (the fastest of five rounds). Single-threaded; includes GC work
/// done on other threads.
/// </summary>
public static class CpuTimeRunner
{
    private const int Rounds = 5;

    public static int Run(string[] args) => Run(args, () =>
    {
        var bench = new PipelineBenchmarks();
        bench.Setup();
        return bench;
    });

    /// <param name="args"><c>[--filter text] [--iterations N]</c></param>
    /// <param name="create">The benchmark object, set up.</param>
    public static int Run<TBenchmarks>(string[] args, Func<TBenchmarks> create) where TBenchmarks : class
    {
        var o = CommandLine.Parse(args);
        var iterations = int.Parse(o.GetValueOrDefault("iterations", "2000"), CultureInfo.InvariantCulture);
        var filter = o.GetValueOrDefault("filter", "");
        var bench = create();
        Console.WriteLine($"| Stage | CPU µs/op | Allocated B/op |");
        Console.WriteLine($"|---|---:|---:|");
        foreach (var method in typeof(TBenchmarks).GetMethods())
        {
            if (method.GetCustomAttribute<BenchmarkAttribute>() is not { } attribute) continue;
            var name = attribute.Description ?? method.Name;
            if (!name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
            var call = method.CreateDelegate<Func<object?>>(bench);
            // JIT and tiered compilation: tier-1 code arrives in the background some 100 ms after calls stop being new.
            var warm = Stopwatch.GetTimestamp();
            for (int i = 0; i < 200 || Stopwatch.GetElapsedTime(warm).TotalSeconds < 2; i++) call();
            // The fastest of several rounds: interference from other processes only ever adds time.
            var cpuPerOp = double.MaxValue;
            var bytesPerOp = 0.0;
            for (int round = 0; round < Rounds; round++)
            {
                GC.Collect();
                var allocated = GC.GetAllocatedBytesForCurrentThread();
                var cpu = Environment.CpuUsage.TotalTime;
                for (int i = 0; i < iterations / Rounds; i++) call();
                cpuPerOp = Math.Min(cpuPerOp, (Environment.CpuUsage.TotalTime - cpu).TotalMicroseconds / (iterations / Rounds));
                bytesPerOp = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)(iterations / Rounds);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {cpuPerOp:0.0} | {bytesPerOp:0} |"));
        }
        return 0;
    }
}
