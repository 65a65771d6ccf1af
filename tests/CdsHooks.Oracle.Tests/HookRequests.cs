using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Fhir;
using CdsHooks.Protocol;
using CdsHooks.Testing;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// The hook requests both readers are given (every fixture request and every spec example that holds FHIR data), and
/// the resources in one request: each prefetch value and <c>context.draftOrders</c>, in the order they are written.
/// </summary>
public static class HookRequests
{
    public const string SpecExamples = "spec-examples/";

    /// <summary>Names relative to fhir-fixtures/: <c>requests/….json</c> and <c>spec-examples/….json</c>.</summary>
    public static IEnumerable<string> Names() =>
        Directory.GetFiles(FixtureFiles.FixturePath("requests"), "*.json").Select(p => "requests/" + Path.GetFileName(p))
            .Concat(Directory.GetFiles(FixtureFiles.FixturePath("spec-examples"), "*.json").Select(p => SpecExamples + Path.GetFileName(p)))
            .Order(StringComparer.Ordinal);

    /// <summary>The request as JSON text; an HL7 context example is wrapped in a request of its hook.</summary>
    public static string Read(string name)
    {
        var json = FixtureFiles.ReadFixture(name);
        if (!name.EndsWith(".context.json", StringComparison.Ordinal)) return json;
        var file = Path.GetFileName(name);
        return new JsonObject
        {
            ["hook"] = file[..file.IndexOf("--", StringComparison.Ordinal)],
            ["hookInstance"] = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            ["context"] = JsonNode.Parse(json)!["context"]!.DeepClone(),
        }.ToJsonString();
    }

    /// <summary>Each resource of a request as raw JSON, labelled as <see cref="OfService"/> labels it.</summary>
    public static List<(string Path, string Json)> RawResources(string requestJson)
    {
        using var document = JsonDocument.Parse(requestJson);
        var found = new List<(string, string)>();
        var root = document.RootElement;
        if (root.TryGetProperty("prefetch", out var prefetch) && prefetch.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in prefetch.EnumerateObject())
            {
                if (entry.Value.ValueKind == JsonValueKind.Object) found.Add(("prefetch." + entry.Name, entry.Value.GetRawText()));
            }
        }
        if (root.TryGetProperty("context", out var context) && context.TryGetProperty("draftOrders", out var drafts) && drafts.ValueKind == JsonValueKind.Object)
        {
            found.Add(("context.draftOrders", drafts.GetRawText()));
        }
        return found;
    }

    /// <summary>The request read as the service reads it, and its resources with the same labels as <see cref="RawResources"/>.</summary>
    public static List<(string Path, Resource Resource)> OfService(string requestJson)
    {
        var request = JsonSerializer.Deserialize(requestJson, CdsJson.RequestInfo) ?? throw new InvalidOperationException("null request");
        var found = new List<(string, Resource)>();
        foreach (var (key, value) in request.Prefetch ?? [])
        {
            if (value is not null) found.Add(("prefetch." + key, value));
        }
        if (request.Context?.DraftOrders is { } drafts) found.Add(("context.draftOrders", drafts));
        return found;
    }
}
