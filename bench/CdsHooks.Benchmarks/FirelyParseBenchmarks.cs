using System.Text.Json;
using BenchmarkDotNet.Attributes;
using CdsHooks.Protocol;
using CdsHooks.Testing;
using Hl7.Fhir.Serialization;
using FirelyResource = Hl7.Fhir.Model.Resource;

namespace CdsHooks.Benchmarks;

/// <summary>
/// The service's FHIR reader against the Firely SDK (Hl7.Fhir.R4) on the same request bytes, scenario a's 37 KB
/// order-select request: why Firely serves as the tests' oracle and not on the request path. The service parses the
/// whole request into its model; Firely is given every FHIR resource in it (each prefetch value and
/// <c>context.draftOrders</c>) straight from the same bytes, so both sides tokenise the whole body once.
/// Run with <c>firely</c> (CPU time per parse) or <c>micro --filter *Firely*</c>.
/// </summary>
[MemoryDiagnoser]
public class FirelyParseBenchmarks
{
    private byte[] _body = [];

    [GlobalSetup]
    public void Setup()
    {
        _body = File.ReadAllBytes(FixtureFiles.FixturePath("requests/order-select-sertraline-big-benchmark.json"));
        // Default mode refuses non-conformant input; this fixture is conformant, so every mode reads all of it.
        var resources = ReadWithFirely(FhirJsonDeserializer.DEFAULT);
        if (resources.Count < 2) throw new InvalidOperationException("The benchmark request has no prefetch to parse.");
    }

    public static FirelyParseBenchmarks Create()
    {
        var benchmarks = new FirelyParseBenchmarks();
        benchmarks.Setup();
        return benchmarks;
    }

    [Benchmark(Description = "service reader: request -> CdsRequest (CdsJson.RequestInfo)", Baseline = true)]
    public CdsRequest? Service() => JsonSerializer.Deserialize(_body, CdsJson.RequestInfo);

    [Benchmark(Description = "Firely SyntaxOnly: every resource of the request")]
    public List<FirelyResource> FirelySyntaxOnly() => ReadWithFirely(FhirJsonDeserializer.SYNTAXONLY);

    [Benchmark(Description = "Firely Recoverable: every resource of the request")]
    public List<FirelyResource> FirelyRecoverable() => ReadWithFirely(FhirJsonDeserializer.RECOVERABLE);

    [Benchmark(Description = "Firely default: every resource of the request")]
    public List<FirelyResource> FirelyDefault() => ReadWithFirely(FhirJsonDeserializer.DEFAULT);

    /// <summary>Walks the CDS Hooks envelope and hands Firely each resource (prefetch values, context.draftOrders) in place.</summary>
    private List<FirelyResource> ReadWithFirely(FhirJsonDeserializer deserializer)
    {
        var resources = new List<FirelyResource>();
        var reader = new Utf8JsonReader(_body);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prefetch"u8))
            {
                reader.Read();
                ReadMembers(ref reader, deserializer, resources, all: true);
            }
            else if (reader.ValueTextEquals("context"u8))
            {
                reader.Read();
                ReadMembers(ref reader, deserializer, resources, all: false);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return resources;
    }

    /// <summary>Reads every object member of the object the reader is on (<paramref name="all"/>) or only draftOrders.</summary>
    private static void ReadMembers(ref Utf8JsonReader reader, FhirJsonDeserializer deserializer, List<FirelyResource> resources, bool all)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var wanted = all || reader.ValueTextEquals("draftOrders"u8);
            reader.Read();
            if (wanted && reader.TokenType == JsonTokenType.StartObject) resources.Add(deserializer.DeserializeResource(ref reader));
            else reader.Skip();
        }
    }
}
