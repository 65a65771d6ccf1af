using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.LockOut;
using CdsHooks.Api.Services;
using CdsHooks.Protocol;
using CdsHooks.Rls;
using CdsHooks.Rls.Cards;
using CdsHooks.Rls.Knowledge;
using CdsHooks.Rls.Rules;
using CdsHooks.Rls.Snapshot;
using CdsHooks.Storage;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsHooks.Benchmarks;

/// <summary>
/// Each stage of one hook call, in the order the service runs them, on a realistic request: by default
/// order-select with the 31-resource (~37 KB) prefetch selecting sertraline (load scenario a). Every stage
/// starts from the previous stage's output computed once in setup, so the figures add up to the whole pipeline.
/// Every benchmark returns a reference so <see cref="CpuTimeRunner"/> can call it through one delegate type.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private byte[] _body = [];
    private CdsRequest _request = null!;
    private CdsServiceDefinition _service = null!;
    private PatientDataGatherer _gatherer = null!;
    private RlsAdvisor _advisor = null!;
    private CardBuilder _cardBuilder = null!;
    private PatientRecord _record = null!;
    private PatientSnapshot _snapshot = null!;
    private IReadOnlyList<Finding> _findings = [];
    private CardContext _context = null!;
    private CdsResponse _response = null!;
    private CardLockOut _lockOut = null!;
    private readonly ArrayBufferWriter<byte> _output = new(16 * 1024);
    private Utf8JsonWriter _writer = null!;

    /// <summary>The request fixture (fhir-fixtures/requests) and the service it is sent to.</summary>
    [Params("order-select-sertraline-big-benchmark.json")]
    public string Fixture { get; set; } = "order-select-sertraline-big-benchmark.json";

    [GlobalSetup]
    public void Setup()
    {
        _body = File.ReadAllBytes(FixtureFiles.FixturePath("requests/" + Fixture));
        var knowledge = RlsKnowledge.Default;
        var catalog = new CdsServiceCatalog(knowledge);
        _request = JsonSerializer.Deserialize(_body, CdsJson.RequestInfo)!;
        _service = catalog.Services.First(s => s.Hook == _request.Hook);
        _gatherer = new PatientDataGatherer(new FullPrefetchOnly());
        _advisor = new RlsAdvisor(knowledge);
        _cardBuilder = new CardBuilder(knowledge);
        _record = Gather();
        _context = new CardContext(_service.Id, _request.HookInstance!, _service.Kind, _request.Context!.PatientId!, _request.Context.EncounterId, _request.Context.UserId);
        _snapshot = _advisor.Snapshot(_record, FixedTimeProvider.FixtureDate);
        _findings = _advisor.Assess(_snapshot, _service.Kind).Findings;
        _response = new CdsResponse { Cards = _cardBuilder.Build(_findings, _snapshot, _context) };
        _writer = new Utf8JsonWriter(_output);
        if (_response.Cards.Count == 0) throw new InvalidOperationException(Fixture + " gives no cards: not a representative request.");
        _lockOut = CreateLockOut();
    }

    /// <summary>
    /// The lock-out on a scratch SQLite file (the service's default store), as the load benchmark runs it: the same
    /// hookInstance every time, so every call makes the lookup (its own cards are never a repeat) and finds nothing.
    /// </summary>
    private static CardLockOut CreateLockOut()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"cds-bench-lockout-{Environment.ProcessId}");
        var database = new SqliteCdsDatabase("Data Source=" + Path.Combine(folder, "cds.db"), folder);
        new SchemaMigrator(database, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        return new CardLockOut(Options.Create(new AnalyticsOptions { LockOut = { LookupTimeoutMilliseconds = 1000 } }),
            new PatientKeyring(new byte[32]), new CardHistoryQuery(database), new FixedTimeProvider(), meters, NullLogger<CardLockOut>.Instance);
    }

    [Benchmark(Description = "1 parse: JSON bytes -> CdsRequest")]
    public CdsRequest? Parse() => JsonSerializer.Deserialize(_body, CdsJson.RequestInfo);

    /// <summary>The floor under any parser: every token of the body read once, nothing built.</summary>
    [Benchmark(Description = "1t tokenise only (Utf8JsonReader over the body, the floor for 1)")]
    public object Tokenise()
    {
        var reader = new Utf8JsonReader(_body);
        long tokens = 0;
        while (reader.Read()) tokens++;
        return tokens;
    }

    [Benchmark(Description = "1s parse from a stream (as DeserializeAsync reads a request body)")]
    public CdsRequest? ParseFromStream() =>
        JsonSerializer.DeserializeAsync(new MemoryStream(_body, writable: false), CdsJson.RequestInfo).AsTask().GetAwaiter().GetResult();

    [Benchmark(Description = "2 validate request")]
    public Dictionary<string, string[]> Validate() => RequestValidator.Validate(_request, _service);

    [Benchmark(Description = "3 gather: prefetch -> PatientRecord")]
    public PatientRecord GatherRecord() => Gather();

    [Benchmark(Description = "4 snapshot")]
    public PatientSnapshot Snapshot() => _advisor.Snapshot(_record, FixedTimeProvider.FixtureDate);

    [Benchmark(Description = "5 rules")]
    public IReadOnlyList<Finding> Rules() => _advisor.Assess(_snapshot, _service.Kind).Findings;

    [Benchmark(Description = "6 cards")]
    public List<Card> Cards() => _cardBuilder.Build(_findings, _snapshot, _context);

    [Benchmark(Description = "7 serialise response")]
    public ArrayBufferWriter<byte> Serialise()
    {
        _output.ResetWrittenCount();
        _writer.Reset();
        JsonSerializer.Serialize(_writer, _response, CdsJson.ResponseInfo);
        return _output;
    }

    [Benchmark(Description = "8 lock-out: keyed hashes + one SQLite lookup")]
    public CardSelection LockOut() =>
        _lockOut.SelectAsync(_service.Id, _request.HookInstance!, null, _request.Context!.PatientId!, _request.Context.EncounterId, _response.Cards, CancellationToken.None)
            .AsTask().GetAwaiter().GetResult();

    [Benchmark(Description = "whole pipeline (1-7)", Baseline = true)]
    public ArrayBufferWriter<byte> WholePipeline()
    {
        var request = JsonSerializer.Deserialize(_body, CdsJson.RequestInfo)!;
        if (RequestValidator.Validate(request, _service).Count > 0) throw new InvalidOperationException("invalid");
        var record = _gatherer.GatherAsync(request, _service, CancellationToken.None).GetAwaiter().GetResult().Record!;
        var context = new CardContext(_service.Id, request.HookInstance!, _service.Kind, request.Context!.PatientId!, request.Context.EncounterId, request.Context.UserId);
        var response = new CdsResponse { Cards = _advisor.Advise(record, context, FixedTimeProvider.FixtureDate).Cards };
        _output.ResetWrittenCount();
        _writer.Reset();
        JsonSerializer.Serialize(_writer, response, CdsJson.ResponseInfo);
        return _output;
    }

    // The gatherer completes synchronously when prefetch holds every key (no FHIR fallback call).
    private PatientRecord Gather() => _gatherer.GatherAsync(_request, _service, CancellationToken.None).GetAwaiter().GetResult().Record
        ?? throw new InvalidOperationException(Fixture + ": prefetch is incomplete.");
}

/// <summary>The benchmarked request carries every prefetch key, so the FHIR fallback must never be asked.</summary>
internal sealed class FullPrefetchOnly : IPrefetchFallback
{
    private static readonly Task<FallbackResult> Nothing = Task.FromResult(FallbackResult.Nothing);

    public Task<FallbackResult> FetchAsync(CdsRequest request, IReadOnlyList<PrefetchEntry> entries, CancellationToken cancellationToken)
    {
        foreach (var entry in entries)
        {
            if (entry.NeedsFetch || entry.NextPage is not null)
            {
                throw new InvalidOperationException($"The benchmark request lacks prefetch '{entry.Key.Name}'; it would measure the FHIR fallback.");
            }
        }
        return Nothing; // what the real fallback answers when prefetch is complete
    }
}
