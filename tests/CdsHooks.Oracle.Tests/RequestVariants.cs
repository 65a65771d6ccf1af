using System.Text;
using System.Text.Json.Nodes;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// Hook requests rewritten the ways real FHIR JSON differs from the fixtures: every change is made throughout the
/// resources (each prefetch value and <c>context.draftOrders</c>, nested ones included), never to the CDS Hooks
/// envelope, except that escaped property names are written for the whole request.
/// </summary>
public static class RequestVariants
{
    /// <summary>
    /// A way of rewriting the resources. <paramref name="Conformant"/>: the result is still valid FHIR JSON, so Firely's
    /// strict reading accepts it; otherwise it must refuse it with <paramref name="FirelyIssue"/> (the service
    /// tolerates it on purpose, and is compared with Firely's lenient reading). <paramref name="FirelyLeavesItInOverflow"/>:
    /// Firely's lenient reading keeps the rewritten elements out of its typed model (reading such a property throws),
    /// so only its reading of the original can stand as the oracle. <paramref name="PreservesRuleFields"/>: the rewrite
    /// changes only how the data is written, so the rule fields must come out as from the original; the others change
    /// the data to reach what the fixtures never hold (comparators, valueString, paging).
    /// </summary>
    public sealed record Kind(string Name, bool Conformant, string? FirelyIssue, Func<JsonObject, bool> Rewrite,
        bool EscapeNames = false, bool FirelyLeavesItInOverflow = false, bool PreservesRuleFields = true)
    {
        public override string ToString() => Name;
    }

    private const string ExtensionUrl = "http://example.org/fhir/StructureDefinition/oracle-note";

    public static readonly IReadOnlyList<Kind> Kinds =
    [
        // JSON lets a writer order properties freely; FHIR JSON puts resourceType anywhere in the object.
        new("reversed element order", true, null, r => Each(r, o => Reorder(o, o.Select(p => p.Key).Reverse().ToList()))),
        new("resourceType last", true, null, r => EachResource(r, o => Reorder(o, [.. o.Select(p => p.Key).Where(k => k != "resourceType"), "resourceType"]))),
        new("escaped property names", true, null, r => true, EscapeNames: true),
        new("extensions on resources, datatypes and primitives", true, null, r => Each(r, AddExtensions)),
        // Non-conformant input that real clients send (the HL7 hook examples, the CDS Hooks Sandbox).
        // Firely (SyntaxOnly) keeps such an object in its overflow: CodeableConcept.Coding then throws PVAL127.
        new("single objects where FHIR has arrays", false, "PVAL127", r => Each(r, UnwrapSingleObjectArrays), FirelyLeavesItInOverflow: true),
        new("unknown elements", false, "PVAL128", r => EachResource(r, o => AddUnknownElement(o))),
        // New data, in the shapes the rules read but the fixtures do not have.
        new("quantity comparators", true, null, r => Each(r, AddComparator), PreservesRuleFields: false),
        new("results as valueString", true, null, r => Each(r, QuantityAsString), PreservesRuleFields: false),
        new("effectivePeriod and abatementString", true, null, r => Each(r, OtherChoices), PreservesRuleFields: false),
        new("paged search results", true, null, AddPageLinks, PreservesRuleFields: false),
    ];

    /// <summary>JSON numbers put in every <c>valueQuantity.value</c>: scale, many digits, exponents, signs.</summary>
    public static readonly IReadOnlyList<string> Decimals =
    [
        "12.50", "0.000000000000000000000000001", "123456789012345678.1234567891", "12.345678901234567890123456789",
        "12.3456789012345678901234567890123", "79228162514264337593543950335", "1e2", "1E+2", "1.5E-3", "-1e-400", "-0.0", "100.000",
    ];

    /// <summary>The request with every resource rewritten by <paramref name="kind"/>, or null when it had nothing to rewrite.</summary>
    public static string? Apply(string requestJson, Kind kind)
    {
        var request = JsonNode.Parse(requestJson)!.AsObject();
        var changed = false;
        foreach (var resource in Resources(request)) changed |= kind.Rewrite(resource);
        return changed || kind.EscapeNames ? Write(request, kind.EscapeNames) : null;
    }

    /// <summary>The request with every Observation's <c>valueQuantity.value</c> written as <paramref name="number"/>, or null if none has one.</summary>
    public static string? WithDecimal(string requestJson, string number)
    {
        var request = JsonNode.Parse(requestJson)!.AsObject();
        var changed = false;
        foreach (var resource in Resources(request))
        {
            changed |= Each(resource, o =>
            {
                if (o["valueQuantity"] is not JsonObject quantity || quantity["value"] is null) return false;
                quantity["value"] = JsonNode.Parse(number);
                return true;
            });
        }
        return changed ? Write(request, escapeNames: false) : null;
    }

    private static IEnumerable<JsonObject> Resources(JsonObject request)
    {
        if (request["prefetch"] is JsonObject prefetch)
        {
            foreach (var (_, value) in prefetch)
            {
                if (value is JsonObject resource) yield return resource;
            }
        }
        if (request["context"]?["draftOrders"] is JsonObject drafts) yield return drafts;
    }

    /// <summary>Applies <paramref name="change"/> to the object and every object below it; true if it changed any.</summary>
    private static bool Each(JsonNode? node, Func<JsonObject, bool> change)
    {
        var changed = false;
        switch (node)
        {
            case JsonObject o:
                changed |= change(o);
                foreach (var child in o.Select(p => p.Value).ToList()) changed |= Each(child, change);
                break;
            case JsonArray a:
                foreach (var item in a.ToList()) changed |= Each(item, change);
                break;
        }
        return changed;
    }

    private static bool EachResource(JsonObject root, Func<JsonObject, bool> change) =>
        Each(root, o => o["resourceType"] is JsonValue && change(o));

    private static bool Reorder(JsonObject o, List<string> order)
    {
        if (order.SequenceEqual(o.Select(p => p.Key))) return false;
        var properties = order.Select(k => (k, o[k])).ToList();
        o.Clear();
        foreach (var (key, value) in properties) o[key] = value;
        return true;
    }

    private static bool UnwrapSingleObjectArrays(JsonObject o)
    {
        var changed = false;
        foreach (var (key, value) in o.ToList())
        {
            if (value is JsonArray { Count: 1 } array && array[0] is JsonObject item)
            {
                array.RemoveAt(0);
                o[key] = item;
                changed = true;
            }
        }
        return changed;
    }

    private static JsonArray Extension(string text) =>
        [new JsonObject { ["url"] = ExtensionUrl, ["valueString"] = text }];

    /// <summary>
    /// An extension on each resource and on each complex value that has none (a coding, a quantity, a reference), and on
    /// the <c>status</c> primitive (<c>_status</c>); the readers must skip them.
    /// </summary>
    private static bool AddExtensions(JsonObject o)
    {
        if (o.ContainsKey("extension") || o.Count == 0) return false;
        if (o.ContainsKey("url") && o.Any(p => p.Key.StartsWith("value", StringComparison.Ordinal))) return false; // an extension itself
        // A Bundle is not a DomainResource: it has no extension element.
        if ((string?)o["resourceType"] != "Bundle") o["extension"] = Extension("added by the oracle test");
        if (o["resourceType"] is JsonValue && o["status"] is JsonValue && !o.ContainsKey("_status"))
        {
            o["_status"] = new JsonObject { ["extension"] = Extension("status note") };
        }
        return true;
    }

    private static bool AddComparator(JsonObject o)
    {
        if (o["valueQuantity"] is not JsonObject quantity) return false;
        quantity["comparator"] = "<";
        return true;
    }

    /// <summary><c>valueQuantity</c> → <c>valueString</c> "&lt;value unit", as labs report results below a limit.</summary>
    private static bool QuantityAsString(JsonObject o)
    {
        if (o["valueQuantity"] is not JsonObject quantity) return false;
        o.Remove("valueQuantity");
        o["valueString"] = $"<{quantity["value"]} {quantity["unit"]}";
        return true;
    }

    /// <summary><c>effectiveDateTime</c> → <c>effectivePeriod</c>; <c>abatementDateTime</c> → <c>abatementString</c>.</summary>
    private static bool OtherChoices(JsonObject o)
    {
        var changed = false;
        if (o["effectiveDateTime"] is JsonValue effective)
        {
            o.Remove("effectiveDateTime");
            o["effectivePeriod"] = new JsonObject { ["start"] = effective.DeepClone(), ["end"] = effective.DeepClone() };
            changed = true;
        }
        if (o["abatementDateTime"] is JsonValue abatement)
        {
            o.Remove("abatementDateTime");
            o["abatementString"] = "since " + (string?)abatement;
            changed = true;
        }
        return changed;
    }

    /// <summary>A search Bundle as a server pages it: self and next links.</summary>
    private static bool AddPageLinks(JsonObject resource)
    {
        if ((string?)resource["resourceType"] != "Bundle" || resource.ContainsKey("link")) return false;
        resource["link"] = new JsonArray
        {
            new JsonObject { ["relation"] = "self", ["url"] = "https://ehr.example.org/fhir/Observation?patient=p&_count=2" },
            new JsonObject { ["relation"] = "next", ["url"] = "https://ehr.example.org/fhir/Observation?patient=p&_count=2&page=2" },
        };
        return true;
    }

    private static bool AddUnknownElement(JsonObject resource)
    {
        resource["oracleUnknownElement"] = new JsonObject { ["valueQuantity"] = new JsonObject { ["value"] = 1 }, ["status"] = "final" };
        return true;
    }

    /// <summary>JSON text; with <paramref name="escapeNames"/> every property name is written as <c>\uXXXX</c> escapes.</summary>
    private static string Write(JsonNode node, bool escapeNames)
    {
        var text = new StringBuilder();
        Write(text, node, escapeNames);
        return text.ToString();
    }

    private static void Write(StringBuilder text, JsonNode? node, bool escapeNames)
    {
        switch (node)
        {
            case JsonObject o:
                text.Append('{');
                var first = true;
                foreach (var (key, value) in o)
                {
                    if (!first) text.Append(',');
                    first = false;
                    if (escapeNames)
                    {
                        text.Append('"');
                        foreach (var c in key) text.Append($"\\u{(int)c:x4}");
                        text.Append('"');
                    }
                    else
                    {
                        text.Append(JsonValue.Create(key).ToJsonString());
                    }
                    text.Append(':');
                    Write(text, value, escapeNames);
                }
                text.Append('}');
                break;
            case JsonArray a:
                text.Append('[');
                for (int i = 0; i < a.Count; i++)
                {
                    if (i > 0) text.Append(',');
                    Write(text, a[i], escapeNames);
                }
                text.Append(']');
                break;
            case null:
                text.Append("null");
                break;
            default:
                // A parsed number keeps its text (digits, scale, exponent) here.
                text.Append(node.ToJsonString());
                break;
        }
    }
}
