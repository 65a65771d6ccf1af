using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Feedback;

/// <summary><c>POST /cds-services/{id}/feedback</c> over real HTTP: precise 400s, durable and idempotent storage.</summary>
public sealed class FeedbackTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    private const string Feedback = "/cds-services/rls-iron-order-select/feedback";

    internal static JsonObject Accepted(string card, string suggestion, string at = "2026-11-21T12:41:19.243Z") => new()
    {
        ["card"] = card,
        ["outcome"] = "accepted",
        ["acceptedSuggestions"] = new JsonArray(new JsonObject { ["id"] = suggestion }),
        ["outcomeTimestamp"] = at,
    };

    internal static JsonObject Overridden(string card, string? code, string at = "2026-11-21T12:45:00Z", string? comment = null)
    {
        var reason = new JsonObject();
        if (code is not null) reason["reason"] = new JsonObject { ["system"] = "urn:rls-iron-cds:override-reason", ["code"] = code, ["display"] = "Display of " + code };
        if (comment is not null) reason["userComment"] = comment;
        return new JsonObject { ["card"] = card, ["outcome"] = "overridden", ["overrideReason"] = reason, ["outcomeTimestamp"] = at };
    }

    internal static string Body(params JsonObject[] entries) => new JsonObject { ["feedback"] = new JsonArray(entries) }.ToJsonString();

    private static string NewUuid() => Guid.NewGuid().ToString();

    [Fact]
    public async Task SandboxFeedback_Returns200AndIsStored()
    {
        var examples = FixtureFiles.SpecExamplesDirectory;
        Assert.NotNull(examples);
        var path = Path.Combine(examples, "sandbox-feedback.request.json");
        var (status, body) = await PostAsync(Feedback, await File.ReadAllTextAsync(path));

        Assert.True(status == HttpStatusCode.OK, body);
        var row = Assert.Single(await host.FeedbackRowsAsync("35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515"));
        Assert.Equal("accepted", row["outcome"]);
        Assert.Equal("d3eb5a95-2a48-493d-a351-b964e73dc034", row["accepted_suggestions"]);
        Assert.Equal("rls-iron-order-select", row["service_id"]);
    }

    [Fact]
    public async Task SameReportTwice_IsStoredOnce()
    {
        var card = NewUuid();
        var body = Body(Accepted(card, NewUuid()));

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Feedback, body)).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Feedback, body)).Status);

        Assert.Single(await host.FeedbackRowsAsync(card));
    }

    [Fact]
    public async Task SameInstantInAnotherOffsetAndCase_IsTheSameReport()
    {
        var card = NewUuid();
        var suggestion = NewUuid();
        await PostOkAsync(Body(Accepted(card, suggestion, "2026-11-21T12:41:19.243Z")));
        await PostOkAsync(Body(Accepted(card.ToUpperInvariant(), suggestion.ToUpperInvariant(), "2026-11-21T13:41:19.243+01:00")));

        Assert.Single(await host.FeedbackRowsAsync(card));
    }

    [Fact]
    public async Task SameCardReportedAgainWithAnotherOutcomeReasonOrTime_IsStoredEachTime()
    {
        // Spec: the same card may be reported more than once; these are different reports, not retries.
        var card = NewUuid();
        await PostOkAsync(Body(
            Accepted(card, NewUuid()),
            Overridden(card, "tolerated-before"),
            Overridden(card, "rls-not-active"),
            Overridden(card, "rls-not-active", at: "2026-11-21T12:50:00Z")));

        var rows = await host.FeedbackRowsAsync(card);
        Assert.Equal(4, rows.Count);
        Assert.Equal(3, rows.Count(r => (string?)r["outcome"] == "overridden"));
    }

    [Fact]
    public async Task OverrideWithOnlyAComment_IsStoredWithoutTheComment()
    {
        var card = NewUuid();
        const string comment = "Spoke with Jane Doe MRN 123-45-678 about it";
        await PostOkAsync(Body(Overridden(card, code: null, comment: comment)));

        var row = Assert.Single(await host.FeedbackRowsAsync(card));
        Assert.Null(row["reason_code"]);
        Assert.DoesNotContain(row.Values, v => v is string s && s.Contains("Jane", StringComparison.Ordinal));
        Assert.DoesNotContain("Jane", host.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneInvalidEntry_Returns400AndStoresNothing()
    {
        var good = NewUuid();
        var bad = Accepted(NewUuid(), NewUuid());
        bad.Remove("outcomeTimestamp");

        var errors = await PostExpecting400Async(Body(Accepted(good, NewUuid()), Accepted(NewUuid(), NewUuid()), bad));

        Assert.Equal(["feedback[2].outcomeTimestamp"], errors.EnumerateObject().Select(p => p.Name));
        Assert.Empty(await host.FeedbackRowsAsync(good));
    }

    public static TheoryData<string, string> InvalidEntries => new()
    {
        { """{"outcome":"accepted","acceptedSuggestions":[{"id":"d3eb5a95-2a48-493d-a351-b964e73dc034"}],"outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].card" },
        { """{"card":"card-1","outcome":"accepted","acceptedSuggestions":[{"id":"d3eb5a95-2a48-493d-a351-b964e73dc034"}],"outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].card" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","acceptedSuggestions":[{"id":"d3eb5a95-2a48-493d-a351-b964e73dc034"}],"outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].outcome" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"ignored","outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].outcome" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"accepted","outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].acceptedSuggestions" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"accepted","acceptedSuggestions":[],"outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].acceptedSuggestions" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"accepted","acceptedSuggestions":[{}],"outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].acceptedSuggestions[0].id" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"overridden","acceptedSuggestions":[{"id":"d3eb5a95-2a48-493d-a351-b964e73dc034"}],"outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].acceptedSuggestions" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"overridden","overrideReason":{"reason":{"code":"x"}},"outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].overrideReason.reason.system" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"overridden","overrideReason":{"reason":{"system":"urn:x"}},"outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].overrideReason.reason.code" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"accepted","acceptedSuggestions":[{"id":"d3eb5a95-2a48-493d-a351-b964e73dc034"}],"overrideReason":{"userComment":"x"},"outcomeTimestamp":"2026-11-21T12:41:19Z"}""", "feedback[0].overrideReason" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"overridden"}""", "feedback[0].outcomeTimestamp" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"overridden","outcomeTimestamp":"2026-11-21T12:41:19"}""", "feedback[0].outcomeTimestamp" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"overridden","outcomeTimestamp":"2026-11-21 12:41"}""", "feedback[0].outcomeTimestamp" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"overridden","outcomeTimestamp":"21/11/2026"}""", "feedback[0].outcomeTimestamp" },
        { """{"card":"35fe8dc2-d216-4ce6-9a4b-8ae3b22eb515","outcome":"overridden","outcomeTimestamp":"2026-02-30T12:00:00Z"}""", "feedback[0].outcomeTimestamp" },
    };

    [Theory]
    [MemberData(nameof(InvalidEntries))]
    public async Task InvalidEntry_Returns400NamingEntryAndField(string entry, string field)
    {
        var errors = await PostExpecting400Async($$"""{"feedback":[{{entry}}]}""");
        Assert.True(errors.TryGetProperty(field, out var messages), $"no error for {field}: {errors}");
        Assert.False(string.IsNullOrWhiteSpace(messages[0].GetString()));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"feedback":[]}""")]
    public async Task NoEntries_Returns400NamingFeedback(string body)
    {
        var errors = await PostExpecting400Async(body);
        Assert.True(errors.TryGetProperty("feedback", out _), errors.ToString());
    }

    [Fact]
    public async Task TooManyEntries_Returns400()
    {
        var entries = Enumerable.Range(0, 101).Select(_ => Accepted(NewUuid(), NewUuid())).ToArray();
        var errors = await PostExpecting400Async(Body(entries));
        Assert.Contains("100", errors.GetProperty("feedback")[0].GetString());
    }

    [Fact]
    public async Task MalformedJson_Returns400()
    {
        var (status, body) = await PostAsync(Feedback, """{"feedback":[{"card": """);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Malformed JSON", body);
    }

    [Fact]
    public async Task WrongJsonType_Returns400NamingThePath()
    {
        var (status, body) = await PostAsync(Feedback, """{"feedback":[{"card": 42}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("$.feedback[0].card", body);
    }

    [Fact]
    public async Task NotJson_Returns415()
    {
        using var content = new StringContent(Body(Accepted(NewUuid(), NewUuid())), Encoding.UTF8, "text/plain");
        using var response = await host.Client.PostAsync(Feedback, content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task UnknownService_Returns404()
    {
        var (status, _) = await PostAsync("/cds-services/no-such-service/feedback", Body(Accepted(NewUuid(), NewUuid())));
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    private async Task PostOkAsync(string body)
    {
        var (status, text) = await PostAsync(Feedback, body);
        Assert.True(status == HttpStatusCode.OK, $"{(int)status}: {text}");
    }

    private async Task<JsonElement> PostExpecting400Async(string body)
    {
        var (status, text) = await PostAsync(Feedback, body);
        Assert.True(status == HttpStatusCode.BadRequest, $"{(int)status}: {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("errors").Clone();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await host.Client.PostAsync(path, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
