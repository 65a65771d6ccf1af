using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CdsHooks.Api.Fhir;
using CdsHooks.Api.Telemetry;
using CdsHooks.Api.Tests.Fhir;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace CdsHooks.Api.Tests.Telemetry;

/// <summary>The FHIR-fallback host with the telemetry pipeline exporting to memory.</summary>
public sealed class TelemetryFallbackHost : FhirFallbackHost
{
    public TelemetryCapture Telemetry { get; } = new();

    public int Port => BaseAddress.Port;

    protected override void ConfigureTestServices(IServiceCollection services) => Telemetry.Register(services);
}

/// <summary>
/// Issue 13 item 2 over a real socket: the spans and metrics of a hook call that reads its data from the stub FHIR
/// server, of a 412 and of feedback; and that nothing exported holds the patient id, the access token or a query value.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class HookCallTelemetryTests : IClassFixture<TelemetryFallbackHost>
{
    private const string Fixture = HookCalls.ZoloftLowIron;
    private const string Service = "rls-iron-order-select";
    private readonly TelemetryFallbackHost _host;

    public HookCallTelemetryTests(TelemetryFallbackHost host)
    {
        _host = host;
        host.Reset();
    }

    private static string PatientId => JsonNode.Parse(FixtureFiles.ReadFixture(Fixture))!["context"]!["patientId"]!.GetValue<string>();

    /// <summary>Posts a hook request under a new sampled trace; returns the answer and that trace's spans once the request span has ended.</summary>
    private async Task<(HookAnswer Answer, Activity Server, IReadOnlyList<Activity> Spans)> CallAsync(string body, string path = "/cds-services/" + Service)
    {
        var client = _host.Client;
        ActivityTraceId traceId;
        HookAnswer answer;
        using (var root = TelemetryCapture.StartTrace(nameof(HookCallTelemetryTests)))
        {
            traceId = root.TraceId;
            using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            answer = new HookAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(), TimeSpan.Zero);
        }
        var server = await _host.Telemetry.ServerSpanAsync(traceId, _host.Port);
        return (answer, server, _host.Telemetry.Trace(traceId));
    }

    private static List<Activity> Children(IEnumerable<Activity> spans, Activity parent, string name) =>
        [.. spans.Where(s => s.ParentSpanId == parent.SpanId && s.OperationName == name)];

    [Fact]
    public async Task FallbackHookCall_SpansForTheCallEachFhirReadRulesAndCardLog()
    {
        var (answer, server, spans) = await CallAsync(FallbackRequests.WithoutPrefetch(Fixture, _host.Fhir.BaseUrl));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        var topics = CardAssertions.Topics(CardAssertions.AssertConformantResponse(answer.Body));

        // The hook call's span: the ASP.NET Core request span, with what the call was and what it answered.
        Assert.Equal("POST /cds-services/{id}", server.DisplayName);
        Assert.Equal(Service, server.GetTagItem("cds.service.id"));
        Assert.Equal("order-select", server.GetTagItem("cds.hook"));
        Assert.Equal(200, server.GetTagItem("http.response.status_code"));
        Assert.Equal(topics.Length, server.GetTagItem("cds.cards.count"));
        Assert.Equal(topics, ((string[])server.GetTagItem("cds.cards.kinds")!).Order());
        Assert.Equal(JsonNode.Parse(FixtureFiles.ReadFixture(Fixture))!["hookInstance"]!.GetValue<string>(), server.GetTagItem("cds.hook_instance"));

        // One fhir.read per GET the stub answered, each under the call, each with one HTTP attempt below it.
        var reads = Children(spans, server, "fhir.read");
        Assert.Equal(_host.Fhir.Requests.Count, reads.Count);
        Assert.Equal(_host.Fhir.Requests.Select(r => r.ResourceType).Order(), reads.Select(r => (string)r.GetTagItem("fhir.resource_type")!).Order());
        Assert.All(reads, read =>
        {
            Assert.Equal("127.0.0.1", read.GetTagItem("server.address"));
            Assert.Equal(_host.Fhir.BaseUrl.Port, read.GetTagItem("server.port"));
            Assert.Equal("ok", read.GetTagItem("fhir.outcome"));
            Assert.Equal(200, read.GetTagItem("http.response.status_code"));
            Assert.Equal(1, read.GetTagItem("fhir.attempts"));
            Assert.Contains(read.GetTagItem("fhir.interaction"), new object[] { "read", "search" });
            var attempt = Assert.Single(spans, s => s.ParentSpanId == read.SpanId && s.Kind == ActivityKind.Client);
            // The HttpClient span's URL is cut to the server's authority (its path and query hold the patient id).
            Assert.Equal($"http://127.0.0.1:{_host.Fhir.BaseUrl.Port}", attempt.GetTagItem("url.full"));
        });
        Assert.Contains(reads, r => (string?)r.GetTagItem("fhir.interaction") == "read");

        var rules = Assert.Single(Children(spans, server, "cds.rules"));
        Assert.Equal(topics.Length, rules.GetTagItem("cds.cards.count"));
        var enqueue = Assert.Single(Children(spans, server, "cds.card_log.enqueue"));
        Assert.Equal(topics.Length, enqueue.GetTagItem("cds.cards.count"));
        Assert.True(reads.Max(r => r.StartTimeUtc + r.Duration) <= rules.StartTimeUtc, "the rules run after the reads");
    }

    [Fact]
    public async Task FallbackHookCall_MetricsForDurationCardsAndFhirReads()
    {
        var (answer, _, _) = await CallAsync(FallbackRequests.WithoutPrefetch(Fixture, _host.Fhir.BaseUrl));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        var topics = CardAssertions.Topics(CardAssertions.AssertConformantResponse(answer.Body));
        TelemetryCapture.FlushMetrics(_host.Services);
        var telemetry = _host.Telemetry;

        Assert.Contains(telemetry.Points("cds.hook.duration"), p =>
            TelemetryCapture.Tag(p, "cds.service.id") == Service && TelemetryCapture.Tag(p, "http.response.status_code") == "200"
            && TelemetryCapture.Tag(p, "cds.hook") == "order-select" && p.GetHistogramCount() >= 1 && p.GetHistogramSum() > 0);
        foreach (var kind in topics)
        {
            Assert.Contains(telemetry.Points("cds.cards.issued"), p => TelemetryCapture.Tag(p, "cds.card.kind") == kind && p.GetSumLong() >= 1);
        }
        foreach (var type in _host.Fhir.Requests.Select(r => r.ResourceType).Distinct())
        {
            Assert.Contains(telemetry.Points("cds.fhir.reads"), p =>
                TelemetryCapture.Tag(p, "fhir.resource_type") == type && TelemetryCapture.Tag(p, "fhir.outcome") == "ok" && p.GetSumLong() >= 1);
        }
        // The existing meters are in the same pipeline: the card log's queue, the instrumentations' request durations.
        Assert.NotEmpty(telemetry.Points("cds.card_log.queue_length"));
        Assert.Contains(telemetry.Points("http.server.request.duration"), p => TelemetryCapture.Tag(p, "http.route") == "/cds-services/{id}");
        Assert.NotEmpty(telemetry.Points("http.client.request.duration"));
    }

    [Fact]
    public async Task FhirServerRefusesToken_412CountedByReasonAndReadSpansSayWhy()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.Unauthorized));

        var (answer, server, spans) = await CallAsync(FallbackRequests.WithoutPrefetch(Fixture, _host.Fhir.BaseUrl));

        Assert.True(answer.Status == HttpStatusCode.PreconditionFailed, answer.ToString());
        Assert.Equal(412, server.GetTagItem("http.response.status_code"));
        Assert.Equal(["login"], (string[])server.GetTagItem("cds.precondition.reasons")!);
        var reads = Children(spans, server, "fhir.read");
        Assert.NotEmpty(reads);
        Assert.All(reads, r =>
        {
            Assert.Equal("unauthorized", r.GetTagItem("fhir.outcome"));
            Assert.Equal(401, r.GetTagItem("http.response.status_code"));
            Assert.Equal(ActivityStatusCode.Error, r.Status);
        });
        Assert.Empty(Children(spans, server, "cds.rules"));

        TelemetryCapture.FlushMetrics(_host.Services);
        Assert.Contains(_host.Telemetry.Points("cds.hook.precondition_failed"), p =>
            TelemetryCapture.Tag(p, "cds.service.id") == Service && TelemetryCapture.Tag(p, "cds.precondition.reason") == "login" && p.GetSumLong() >= 1);
        Assert.Contains(_host.Telemetry.Points("cds.fhir.reads"), p => TelemetryCapture.Tag(p, "fhir.outcome") == "unauthorized");
        Assert.Contains(_host.Telemetry.Points("cds.hook.duration"), p => TelemetryCapture.Tag(p, "http.response.status_code") == "412");
    }

    [Fact]
    public async Task FhirServerFailsOnce_ReadSpanCountsBothAttemptsAndEachAttemptIsCounted()
    {
        _host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable) { ResourceType = "Condition", Times = 1 });

        var (answer, server, spans) = await CallAsync(FallbackRequests.WithoutPrefetch(Fixture, _host.Fhir.BaseUrl));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        // The retried read is one fhir.read span: two attempts, the second one's status, outcome ok.
        var retried = Assert.Single(Children(spans, server, "fhir.read"), r => Equals(r.GetTagItem("fhir.attempts"), 2));
        Assert.Equal("Condition", retried.GetTagItem("fhir.resource_type"));
        Assert.Equal("ok", retried.GetTagItem("fhir.outcome"));
        Assert.Equal(200, retried.GetTagItem("http.response.status_code"));
        var attempts = spans.Where(s => s.ParentSpanId == retried.SpanId && s.Kind == ActivityKind.Client).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal([503, 200], attempts.Select(a => Convert.ToInt32(a.GetTagItem("http.response.status_code"), System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(Children(spans, server, "fhir.read").Where(r => r != retried), r => Assert.Equal(1, r.GetTagItem("fhir.attempts")));

        TelemetryCapture.FlushMetrics(_host.Services);
        // Polly's own meter joins the pipeline: the retry is one of its resilience events, named by the FHIR client's
        // pipeline and the server's authority (never a path or query: the test below looks at every tag).
        Assert.Contains(_host.Telemetry.Points("resilience.polly.strategy.events"), p =>
            TelemetryCapture.Tag(p, "event.name") == "OnRetry" && TelemetryCapture.Tag(p, "pipeline.name") == FhirResiliencePipeline.TelemetryName
            && TelemetryCapture.Tag(p, "pipeline.instance") == _host.Fhir.BaseUrl.GetLeftPart(UriPartial.Authority) && p.GetSumLong() >= 1);
        var points = _host.Telemetry.Points("cds.fhir.attempts");
        Assert.Contains(points, p => TelemetryCapture.Tag(p, "fhir.attempt") == "1" && TelemetryCapture.Tag(p, "http.response.status_code") == "503"
            && TelemetryCapture.Tag(p, "server.address") == "127.0.0.1" && p.GetSumLong() >= 1);
        Assert.Contains(points, p => TelemetryCapture.Tag(p, "fhir.attempt") == "2" && TelemetryCapture.Tag(p, "http.response.status_code") == "200" && p.GetSumLong() >= 1);
    }

    [Fact]
    public async Task ReminderAgainInTheEncounter_LockOutSpanAndWithheldCounted()
    {
        var request = HookCalls.Request(patientId: "telemetry-" + Guid.NewGuid().ToString("N")[..12], encounterId: "visit-1");
        var first = await HookCalls.CallAsync(_host.Client, request);
        Assert.Contains(first, c => c.Source.Topic?.Code == "iron-therapy");
        request["hookInstance"] = Guid.NewGuid().ToString();

        var (answer, server, spans) = await CallAsync(request.ToJsonString());

        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Assert.DoesNotContain("iron-therapy", CardAssertions.Topics(CardAssertions.AssertConformantResponse(answer.Body)));
        var lookup = Assert.Single(Children(spans, server, "cds.lock_out.select"));
        Assert.True((int)lookup.GetTagItem("cds.cards.withheld")! >= 1);
        TelemetryCapture.FlushMetrics(_host.Services);
        Assert.Contains(_host.Telemetry.Points("cds.lock_out.withheld"), p =>
            TelemetryCapture.Tag(p, "reason") == "repeat" && TelemetryCapture.Tag(p, "card_kind") == "iron-therapy" && p.GetSumLong() >= 1);
    }

    [Fact]
    public async Task CardsOfAHookCall_WrittenToTheStoreInARootSpanOfTheirOwn()
    {
        var written = _host.Telemetry.Spans.Count;
        var (answer, server, _) = await CallAsync(FixtureFiles.ReadFixture(Fixture));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());

        // The batch is written after the answer, in the background: its span is a trace of its own, not the call's.
        var write = await _host.Telemetry.Spans.WaitForAsync(s => s.OperationName == "cds.card_log.write" && s.StartTimeUtc >= server.StartTimeUtc, TimeSpan.FromSeconds(10));
        Assert.Equal(default, write.ParentSpanId);
        Assert.NotEqual(server.TraceId, write.TraceId);
        Assert.True((int)write.GetTagItem("cds.card_log.rows")! >= 1);
        Assert.Equal("queue", write.GetTagItem("cds.card_log.source"));
        Assert.Equal("stored", write.GetTagItem("cds.card_log.outcome"));
        Assert.Equal("sqlite", write.GetTagItem("db.system.name"));
        Assert.Equal(ActivityStatusCode.Unset, write.Status);
        Assert.True(_host.Telemetry.Spans.Count > written);
    }

    [Fact]
    public async Task Feedback_StoreSpanAndOutcomesCounted()
    {
        var (_, cards) = await HookCalls.CallAsync(_host.Client);
        var card = cards.First(c => c.Suggestions is { Count: > 0 });
        var body = new JsonObject
        {
            ["feedback"] = new JsonArray(
                new JsonObject
                {
                    ["card"] = card.Uuid, ["outcome"] = "accepted", ["outcomeTimestamp"] = "2026-11-21T12:41:19Z",
                    ["acceptedSuggestions"] = new JsonArray(new JsonObject { ["id"] = card.Suggestions![0].Uuid }),
                },
                new JsonObject { ["card"] = cards.Last().Uuid, ["outcome"] = "overridden", ["outcomeTimestamp"] = "2026-11-21T12:42:00Z" }),
        }.ToJsonString();

        var (answer, server, spans) = await CallAsync(body, $"/cds-services/{Service}/feedback");

        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        var store = Assert.Single(Children(spans, server, "cds.feedback.store"));
        Assert.Equal(Service, store.GetTagItem("cds.service.id"));
        Assert.Equal(2, store.GetTagItem("cds.feedback.reports"));
        TelemetryCapture.FlushMetrics(_host.Services);
        foreach (var outcome in new[] { "accepted", "overridden" })
        {
            Assert.Contains(_host.Telemetry.Points("cds.feedback.outcomes"), p =>
                TelemetryCapture.Tag(p, "cds.service.id") == Service && TelemetryCapture.Tag(p, "cds.feedback.outcome") == outcome && p.GetSumLong() >= 1);
        }
    }

    [Fact]
    public async Task FallbackHookCall_NoSpanOrMetricHoldsPatientIdTokenOrQueryValue()
    {
        var (answer, server, spans) = await CallAsync(FallbackRequests.WithoutPrefetch(Fixture, _host.Fhir.BaseUrl));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        TelemetryCapture.FlushMetrics(_host.Services);

        // What the service must never export: the patient id, the bearer token it sends, and every value of every
        // query it made (the patient reference, codes, statuses, sort and count), as the stub received them. Page
        // sizes (_count=20) are left out: a number that any port may contain, and no identifier. FHIR keywords
        // (active, completed, -date) identify nothing and are words the instrumentations use too
        // (http.connection.state=active): they must not appear as a parameter's value (status=active).
        var values = _host.Fhir.Requests.SelectMany(r => QueryValues(r.Query)).Where(v => !v.All(char.IsAsciiDigit)).Distinct().ToList();
        Assert.Contains(PatientId, values);
        var keywords = values.Where(v => v.All(c => char.IsAsciiLetterLower(c) || c == '-')).ToList();
        string[] secrets = [FhirFallbackHost.AccessToken, .. values.Except(keywords)];
        Assert.Contains("active", keywords);

        // Every span of the call: the request span, the reads, each HTTP attempt, the rules, the card log.
        Assert.Contains(server, spans);
        Assert.True(spans.Count > _host.Fhir.Requests.Count * 2, $"{spans.Count} spans");
        var texts = spans.SelectMany(span => TelemetryCapture.Strings(span).Select(text => (Where: "span " + span.DisplayName, Text: text)))
            .Concat(_host.Telemetry.Metrics.SelectMany(metric => TelemetryCapture.Strings(metric).Select(text => (Where: "metric " + metric.Name, Text: text))))
            .ToList();
        Assert.Contains(texts, t => t.Text == Service);
        foreach (var (where, text) in texts)
        {
            Assert.DoesNotContain('?', text);
            foreach (var secret in secrets) Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} holds '{secret}': {text}");
            foreach (var keyword in keywords) Assert.False(text.Contains("=" + keyword, StringComparison.Ordinal), $"{where} holds '={keyword}': {text}");
        }
        var resource = _host.Services.GetRequiredService<TracerProvider>().GetResource();
        Assert.Equal(CdsTelemetry.DefaultServiceName, resource.Attributes.Single(a => a.Key == "service.name").Value);
    }

    /// <summary>The values of a query string, decoded, and each comma-separated part of them (FHIR's OR).</summary>
    private static IEnumerable<string> QueryValues(string query)
    {
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var value = Uri.UnescapeDataString(pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            yield return value;
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries)) yield return part;
        }
    }
}
