using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Testing;

namespace CdsHooks.Fhir.Tests;

/// <summary>
/// <see cref="FhirReader"/> against the metadata path it replaced (<see cref="MetadataReading"/>): every resource of
/// every fixture request and spec example, and each of them changed one element at a time (wrong types, nulls,
/// single values for arrays, duplicates, escaped and miscased names), must read to the same serialisation, or fail
/// with a <see cref="JsonException"/> at the same place; read whole and streamed a few bytes at a time.
/// </summary>
public sealed class FhirReaderDifferentialTests
{
    /// <summary>The serializer fills its buffer before parsing; a tiny one makes it refill (and grow) mid-resource.</summary>
    private const int StreamBufferSize = 16;

    private static readonly JsonSerializerOptions StreamedOptions = new(FhirJson.Options) { DefaultBufferSize = StreamBufferSize };
    private static readonly JsonSerializerOptions StreamedMetadataOptions = new(MetadataReading.Options) { DefaultBufferSize = StreamBufferSize };

    /// <summary>The files that hold resources (some spec examples hold only a context of ids, or keys).</summary>
    public static TheoryData<string> Files() => [.. FilesWithResources()];

    private static IEnumerable<string> FilesWithResources() => FileNames().Where(f => ResourcesIn(ReadFile(f)).Count > 0);

    /// <summary>The files that are whole CDS Hooks requests (the spec examples also hold bare contexts and keys).</summary>
    public static TheoryData<string> Requests() =>
        [.. FileNames().Where(f => f.StartsWith("requests/", StringComparison.Ordinal) || f.EndsWith(".request.json", StringComparison.Ordinal))];

    private static List<string> FileNames()
    {
        var specExamples = FixtureFiles.SpecExamplesDirectory ?? throw new InvalidOperationException("../shared/spec-examples is missing");
        return
        [
            .. Directory.GetFiles(FixtureFiles.FixturePath("requests"), "*.json").Select(p => "requests/" + Path.GetFileName(p)),
            .. Directory.GetFiles(specExamples, "*.json").Select(p => "spec-examples/" + Path.GetFileName(p)),
            EveryElementName,
        ];
    }

    private const string EveryElementName = "model/every-element";

    private static string ReadFile(string name) =>
        name == EveryElementName ? EveryElement.Json()
        : name.StartsWith("spec-examples/", StringComparison.Ordinal) ? File.ReadAllText(Path.Combine(FixtureFiles.SpecExamplesDirectory!, name["spec-examples/".Length..]))
        : FixtureFiles.ReadFixture(name);

    /// <summary>The raw text of every object with a string <c>resourceType</c>, nested ones included.</summary>
    private static List<string> ResourcesIn(string json)
    {
        var resources = new List<string>();
        using var document = JsonDocument.Parse(json);
        Collect(document.RootElement);
        return resources;

        void Collect(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                if (element.TryGetProperty("resourceType", out var type) && type.ValueKind == JsonValueKind.String)
                {
                    resources.Add(element.GetRawText());
                }
                foreach (var property in element.EnumerateObject()) Collect(property.Value);
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray()) Collect(item);
            }
        }
    }

    [Fact]
    public void Files_CoverFixturesAndSpecExamplesWithResources()
    {
        var files = FilesWithResources().ToList();

        Assert.Equal(Directory.GetFiles(FixtureFiles.FixturePath("requests"), "*.json").Length, files.Count(f => f.StartsWith("requests/", StringComparison.Ordinal)));
        Assert.Contains("spec-examples/sandbox-order-select.request.json", files);
        Assert.Contains(EveryElementName, files);
        Assert.True(files.Sum(f => ResourcesIn(ReadFile(f)).Count) > 300);
    }

    [Fact]
    public void MetadataReading_NestedResources_GoThroughTheReplacedPath()
    {
        var before = MetadataReading.ResourcesRead;

        var bundle = JsonSerializer.Deserialize("""
            {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation", "contained": [{"resourceType": "Medication"}]}}]}
            """, MetadataReading.ResourceInfo);

        Assert.IsType<Bundle>(bundle);
        Assert.Equal(3, MetadataReading.ResourcesRead - before);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task EveryResource_ReadsAsTheMetadataPathRead(string file)
    {
        var resources = ResourcesIn(ReadFile(file));

        foreach (var json in resources)
        {
            var expected = Outcome(() => JsonSerializer.Deserialize(json, MetadataReading.ResourceInfo));
            Assert.DoesNotContain("JsonException", expected, StringComparison.Ordinal);
            Assert.Equal(expected, Outcome(() => JsonSerializer.Deserialize(json, FhirJson.ResourceInfo)));
            Assert.Equal(expected, await StreamedOutcomeAsync(json, StreamedOptions));
        }
    }

    [Fact]
    public async Task EveryElementPathChangedOneAtATime_ReadsOrFailsAsTheMetadataPath()
    {
        var cases = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal); // across all files: each path once, kept quick
        foreach (var file in FilesWithResources())
        {
            foreach (var resource in ResourcesIn(ReadFile(file)))
            {
                foreach (var json in Variants(resource, seen))
                {
                    cases++;
                    var expected = Outcome(() => JsonSerializer.Deserialize(json, MetadataReading.ResourceInfo));
                    Assert.True(expected == Outcome(() => JsonSerializer.Deserialize(json, FhirJson.ResourceInfo)), file + ": " + json);
                    var streamed = await StreamedOutcomeAsync(json, StreamedOptions);
                    Assert.True(await StreamedOutcomeAsync(json, StreamedMetadataOptions) == streamed, file + " streamed: " + json);
                }
            }
        }
        Assert.True(cases > 5000, $"only {cases} variants");
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task WholeRequest_StreamedAFewBytesAtATime_ReadsAsReadWhole(string file)
    {
        var json = ReadFile(file);
        var options = new JsonSerializerOptions(CdsJson.Options) { DefaultBufferSize = StreamBufferSize };

        var whole = JsonSerializer.Deserialize(json, CdsJson.RequestInfo)!;
        var info = (JsonTypeInfo<CdsRequest>)options.GetTypeInfo(typeof(CdsRequest));
        var streamed = await JsonSerializer.DeserializeAsync(new TrickleStream(Encoding.UTF8.GetBytes(json), 5), info) ?? throw new InvalidOperationException("null request");

        Assert.Equal(JsonSerializer.Serialize(whole, CdsJson.RequestInfo), JsonSerializer.Serialize(streamed, CdsJson.RequestInfo));
    }

    /// <summary>What was read, written with the one writer (empty lists kept), or where reading failed.</summary>
    private static string Outcome(Func<Resource?> read)
    {
        try
        {
            var resource = read();
            return resource is null ? "null" : JsonSerializer.Serialize(resource, FhirJson.ResourceInfo);
        }
        catch (JsonException ex)
        {
            return $"JsonException at {ex.Path} {ex.LineNumber}:{ex.BytePositionInLine}";
        }
    }

    private static async Task<string> StreamedOutcomeAsync(string json, JsonSerializerOptions options)
    {
        var info = (JsonTypeInfo<Resource>)options.GetTypeInfo(typeof(Resource));
        try
        {
            var resource = await JsonSerializer.DeserializeAsync(new TrickleStream(Encoding.UTF8.GetBytes(json), 5), info);
            return resource is null ? "null" : JsonSerializer.Serialize(resource, FhirJson.ResourceInfo);
        }
        catch (JsonException ex)
        {
            return $"JsonException at {ex.Path} {ex.LineNumber}:{ex.BytePositionInLine}";
        }
    }

    // ---- variants ------------------------------------------------------------------------------------------------

    /// <summary>Values put in place of an element's own, one at a time: every JSON type and the edges of the numbers.</summary>
    private static readonly string[] ReplacementValues =
    [
        "null", "7", "-1.5", "1e400", "3000000000", "0.000000000000000000000000000001", "\"x\"", "\"\"", "\"http://loinc.org\"",
        "true", "false", "{}", "[]", "[null]", "[7]", "[\"x\", null]", "[{}]", "[[]]", "{\"resourceType\": \"Patient\"}",
    ];

    /// <summary>
    /// The resource changed at one element of each path not <paramref name="seen"/> yet (the first
    /// <c>Observation.code.coding[].system</c> of a file stands for the rest): its value replaced, wrapped in an
    /// array, unwrapped from one, repeated before or after a null, its name escaped or miscased.
    /// </summary>
    private static IEnumerable<string> Variants(string resourceJson, HashSet<string> seen)
    {
        var root = JsonNode.Parse(resourceJson)!;
        foreach (var (path, shape) in PropertyPaths(root, [], (string?)root["resourceType"] ?? ""))
        {
            if (!seen.Add(shape)) continue;
            var key = (string)path[^1];
            var original = ParentOf(root, path)[key]?.ToJsonString() ?? "null";

            foreach (var value in ReplacementValues) yield return Changed(root, path, key, value);
            yield return Changed(root, path, key, "[" + original + "]");
            if (original.StartsWith('['))
            {
                var items = JsonNode.Parse(original)!.AsArray();
                if (items.Count > 0) yield return Changed(root, path, key, items[0]?.ToJsonString() ?? "null");
            }
            yield return WithDuplicate(root, path, key, original, "null");
            yield return WithDuplicate(root, path, key, "null", original);
            yield return WithDuplicate(root, path, key, original, "7");
            yield return Renamed(root, path, key, EscapeFirstLetter(key));
            yield return Renamed(root, path, key, char.ToUpperInvariant(key[0]) + key[1..]);
        }
    }

    /// <summary>Every property as (path of keys and indexes, shape without indexes).</summary>
    private static IEnumerable<(List<object> Path, string Shape)> PropertyPaths(JsonNode? node, List<object> path, string shape)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, value) in obj)
            {
                List<object> child = [.. path, key];
                yield return (child, shape + "." + key);
                foreach (var nested in PropertyPaths(value, child, shape + "." + key)) yield return nested;
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                foreach (var nested in PropertyPaths(array[i], [.. path, i], shape + "[]")) yield return nested;
            }
        }
    }

    private static JsonNode Locate(JsonNode root, List<object> path)
    {
        var node = root;
        foreach (var step in path)
        {
            node = step is int index ? node.AsArray()[index]! : node.AsObject()[(string)step]!;
        }
        return node;
    }

    private static JsonObject ParentOf(JsonNode root, List<object> path) => path.Count == 1 ? root.AsObject() : Locate(root, path[..^1]).AsObject();

    private static string Changed(JsonNode original, List<object> path, string key, string value)
    {
        var root = original.DeepClone();
        ParentOf(root, path)[key] = JsonNode.Parse(value);
        return root.ToJsonString();
    }

    /// <summary>The property given twice, <paramref name="first"/> then <paramref name="second"/> (JsonNode keeps one per name).</summary>
    private static string WithDuplicate(JsonNode original, List<object> path, string key, string first, string second)
    {
        var root = original.DeepClone();
        var parent = ParentOf(root, path);
        parent[key] = JsonNode.Parse(first);
        parent["duplicate-of-" + key] = JsonNode.Parse(second);
        return root.ToJsonString().Replace($"\"duplicate-of-{key}\":", $"\"{key}\":", StringComparison.Ordinal);
    }

    private static string Renamed(JsonNode original, List<object> path, string key, string rawName)
    {
        var root = original.DeepClone();
        var parent = ParentOf(root, path);
        var value = parent[key];
        parent.Remove(key);
        parent["renamed-" + key] = value;
        return root.ToJsonString().Replace($"\"renamed-{key}\":", $"\"{rawName}\":", StringComparison.Ordinal);
    }

    private static string EscapeFirstLetter(string key) => $"\\u{(int)key[0]:x4}{key[1..]}";
}
