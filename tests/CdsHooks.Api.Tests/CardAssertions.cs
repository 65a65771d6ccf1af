using System.Text.Json;

namespace CdsHooks.Api.Tests;

/// <summary>
/// Checks a CDS Hooks response body against the rules of CDS Hooks 2.0 that a conformant service must keep,
/// on the raw JSON (so a serializer slip is caught too).
/// </summary>
public static class CardAssertions
{
    private static readonly string[] Indicators = ["info", "warning", "critical"];
    private static readonly string[] ActionTypes = ["create", "update", "delete"];

    public static JsonElement[] AssertConformantResponse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.True(root.TryGetProperty("cards", out var cards), "response has no 'cards'");
        Assert.Equal(JsonValueKind.Array, cards.ValueKind);
        AssertNoEmptyValues(root, "$", allowEmptyArrayAt: "$.cards");

        var uuids = new HashSet<string>();
        foreach (var card in cards.EnumerateArray())
        {
            var uuid = card.GetProperty("uuid").GetString()!;
            Assert.True(Guid.TryParse(uuid, out _), $"card uuid '{uuid}' is not a UUID");
            Assert.True(uuids.Add(uuid), $"duplicate card uuid {uuid}");

            var summary = card.GetProperty("summary").GetString()!;
            Assert.InRange(summary.Length, 1, 139);
            Assert.Contains(card.GetProperty("indicator").GetString(), Indicators);

            var source = card.GetProperty("source");
            Assert.False(string.IsNullOrWhiteSpace(source.GetProperty("label").GetString()));
            var topic = source.GetProperty("topic");
            Assert.False(string.IsNullOrWhiteSpace(topic.GetProperty("system").GetString()));
            Assert.False(string.IsNullOrWhiteSpace(topic.GetProperty("code").GetString()));
            Assert.StartsWith("https://", source.GetProperty("url").GetString());
            Assert.False(string.IsNullOrWhiteSpace(card.GetProperty("detail").GetString()));

            if (card.TryGetProperty("suggestions", out var suggestions))
            {
                Assert.True(card.TryGetProperty("selectionBehavior", out var behavior), $"card '{summary}' has suggestions but no selectionBehavior");
                Assert.Contains(behavior.GetString(), new[] { "at-most-one", "any" });
                foreach (var s in suggestions.EnumerateArray())
                {
                    Assert.False(string.IsNullOrWhiteSpace(s.GetProperty("label").GetString()));
                    Assert.True(Guid.TryParse(s.GetProperty("uuid").GetString(), out _));
                    Assert.True(uuids.Add(s.GetProperty("uuid").GetString()!), "suggestion uuid repeats a card or suggestion uuid");
                    foreach (var a in s.GetProperty("actions").EnumerateArray())
                    {
                        var type = a.GetProperty("type").GetString();
                        Assert.Contains(type, ActionTypes);
                        Assert.False(string.IsNullOrWhiteSpace(a.GetProperty("description").GetString()));
                        if (type == "delete") Assert.Matches("^[A-Za-z]+/[A-Za-z0-9\\-.]+$", a.GetProperty("resourceId").GetString()!);
                        else Assert.False(string.IsNullOrEmpty(a.GetProperty("resource").GetProperty("resourceType").GetString()));
                    }
                }
            }
            if (card.TryGetProperty("overrideReasons", out var reasons))
            {
                foreach (var r in reasons.EnumerateArray())
                {
                    Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("code").GetString()));
                    Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("system").GetString()));
                    Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("display").GetString()));
                }
            }
            if (card.TryGetProperty("links", out var links))
            {
                foreach (var l in links.EnumerateArray())
                {
                    Assert.Contains(l.GetProperty("type").GetString(), new[] { "absolute", "smart" });
                    if (l.GetProperty("type").GetString() == "absolute") Assert.False(l.TryGetProperty("appContext", out _));
                }
            }
        }
        return [.. cards.EnumerateArray().Select(c => c.Clone())];
    }

    public static string[] Topics(IEnumerable<JsonElement> cards) =>
        [.. cards.Select(c => c.GetProperty("source").GetProperty("topic").GetProperty("code").GetString()!).Order()];

    /// <summary>CDS Hooks: optional fields with no value are omitted — never null, "", [] or {}.</summary>
    public static void AssertNoEmptyValues(JsonElement e, string path, string? allowEmptyArrayAt = null)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Null:
                Assert.Fail($"null at {path}");
                break;
            case JsonValueKind.String:
                Assert.False(e.GetString()!.Length == 0, $"empty string at {path}");
                break;
            case JsonValueKind.Array:
                if (path != allowEmptyArrayAt) Assert.False(e.GetArrayLength() == 0, $"empty array at {path}");
                int i = 0;
                foreach (var item in e.EnumerateArray()) AssertNoEmptyValues(item, $"{path}[{i++}]", allowEmptyArrayAt);
                break;
            case JsonValueKind.Object:
                Assert.False(!e.EnumerateObject().Any(), $"empty object at {path}");
                foreach (var p in e.EnumerateObject()) AssertNoEmptyValues(p.Value, $"{path}.{p.Name}", allowEmptyArrayAt);
                break;
        }
    }
}
