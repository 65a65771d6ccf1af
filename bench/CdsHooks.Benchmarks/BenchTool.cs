using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace CdsHooks.Benchmarks;

/// <summary>
/// <c>micro [BenchmarkDotNet args]</c>: the pipeline micro benchmarks.
/// <c>cpu [--filter text] [--iterations N]</c>: CPU time and allocation per stage (robust on a busy machine).
/// <c>firely [--filter text] [--iterations N]</c>: the same for the service's FHIR reader against the Firely SDK.
/// <c>rate ...</c>: the fixed-rate open-loop load generator used by bench/run.sh.
/// <c>alloc ...</c>: bytes allocated per HTTP request by the real service on an in-process Kestrel socket.
/// <c>stub --port P --latency-ms N</c>: the tests' stub FHIR server (every fixture's data) adding N ms to each answer.
/// <c>floor --port P --response FILE</c>: a bare Kestrel endpoint that reads the body and answers a fixed response (the ceiling).
/// <c>strip-prefetch --in F --out G --fhir URL</c>: a fixture request without prefetch, pointing at a FHIR server.
/// <c>tokens --alg ES384|RS384 --count N[,N...] --out FILE[,FILE...] --issuer ISS --aud URL --jwks-out FILE [--lifetime-s 900]</c>:
/// single-use client JWTs and the JWKS that verifies them, for the authenticated load scenarios.
/// </summary>
public static class BenchTool
{
    public static async Task<int> Main(string[] args)
    {
        var command = args.Length > 0 ? args[0] : "micro";
        var rest = args.Length > 0 ? args[1..] : [];
        switch (command)
        {
            case "micro":
                // In-process: no per-run project generation and rebuild (slow on 2 shared cores, and the generated
                // project would not inherit this repository's build settings).
                var config = DefaultConfig.Instance
                    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
                        .WithWarmupCount(3).WithIterationCount(10).WithId("InProcess"))
                    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
                BenchmarkSwitcher.FromAssembly(typeof(BenchTool).Assembly).Run(rest.Length == 0 ? ["--filter", "*"] : rest, config);
                return 0;
            case "cpu":
                return CpuTimeRunner.Run(rest);
            case "firely":
                return CpuTimeRunner.Run(rest, FirelyParseBenchmarks.Create);
            case "rate":
                return await OpenLoopLoad.RunAsync(rest);
            case "alloc":
                return await AllocationProbe.RunAsync(rest);
            case "stub":
                return await FallbackScenario.RunStubAsync(rest);
            case "floor":
                return await FloorServer.RunAsync(rest);
            case "strip-prefetch":
                return FallbackScenario.StripPrefetch(rest);
            case "tokens":
                return TokenGenerator.Run(rest);
            default:
                await Console.Error.WriteLineAsync("usage: micro [BenchmarkDotNet args] | cpu|firely [--filter text] [--iterations N] | rate --url U --body FILE --rate N --seconds S [--tokens FILE] [--vary KEY,KEY] [--timeline FILE] | alloc --body FILE --path P --requests N | stub --port P --latency-ms N | floor --port P --response FILE | strip-prefetch --in F --out G --fhir URL | tokens --alg ES384|RS384 --count N[,N...] --out FILE[,FILE...] --issuer ISS --aud URL --jwks-out FILE [--lifetime-s S]");
                return 2;
        }
    }
}
