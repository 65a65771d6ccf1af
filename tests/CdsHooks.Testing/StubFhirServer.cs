using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using CdsHooks.Fhir;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsHooks.Testing;

/// <summary>What the stub FHIR server can do wrong, on demand.</summary>
public enum FhirFaultKind
{
    /// <summary>Wait <see cref="FhirFault.Delay"/>, then answer normally.</summary>
    Latency,
    /// <summary>429 with Retry-After (<see cref="FhirFault.RetryAfterSeconds"/>).</summary>
    TooManyRequests,
    /// <summary>500 with an OperationOutcome.</summary>
    ServerError,
    /// <summary>502.</summary>
    BadGateway,
    /// <summary>503, with Retry-After when <see cref="FhirFault.RetryAfterSeconds"/> is set.</summary>
    ServiceUnavailable,
    /// <summary>Drops the connection without an answer.</summary>
    ConnectionReset,
    /// <summary>200 with the first half of the JSON.</summary>
    TruncatedJson,
    /// <summary>200 with JSON that does not parse.</summary>
    MalformedJson,
    /// <summary>An HTML error page (status <see cref="FhirFault.Status"/>, 200 unless set) as a proxy or gateway sends.</summary>
    HtmlErrorPage,
    /// <summary>302 to the same path on <see cref="FhirFault.Target"/>.</summary>
    Redirect,
    /// <summary>A searchset of <see cref="FhirFault.Entries"/> Observations.</summary>
    HugeBundle,
    /// <summary>Normal pages whose next link never ends (page N links to page N+1, forever).</summary>
    EndlessPaging,
    /// <summary>A normal page whose next link is itself.</summary>
    NextLinkToItself,
    /// <summary>A normal page whose next link points at <see cref="FhirFault.Target"/>.</summary>
    NextLinkOffServer,
    /// <summary>401.</summary>
    Unauthorized,
    /// <summary>403.</summary>
    Forbidden,
}

/// <summary>A fault for requests whose path starts with <see cref="ResourceType"/> (any when null), <see cref="Times"/> times.</summary>
public sealed record FhirFault(FhirFaultKind Kind)
{
    public string? ResourceType { get; init; }
    /// <summary>Only requests whose query string contains this (e.g. a LOINC code of one search).</summary>
    public string? QueryContains { get; init; }
    public int Times { get; init; } = int.MaxValue;
    public TimeSpan Delay { get; init; }
    public int? RetryAfterSeconds { get; init; }
    /// <summary>Retry-After as an HTTP-date (RFC 9110 §10.2.3) instead of seconds, for 429 and 503.</summary>
    public DateTimeOffset? RetryAfterDate { get; init; }
    public int Status { get; init; } = 200;
    public Uri? Target { get; init; }
    public int Entries { get; init; } = 5_000; // about 1.4 MB

    internal int Remaining;
}

/// <summary>A request the stub received: what was asked, with which Authorization header, and when (Stopwatch ticks).</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string? Authorization, long Timestamp)
{
    public string ResourceType => Path.Split('/', StringSplitOptions.RemoveEmptyEntries) is { Length: > 1 } s ? s[1] : "";
}

/// <summary>
/// A real FHIR R4 server on 127.0.0.1:&lt;random port&gt;/fhir for tests. It serves the resources of every fixture
/// request's prefetch (so any fixture patient can be read instead of prefetched), answers the reads and searches the
/// service issues (Patient and Medication reads; Observation, Condition, MedicationStatement and MedicationRequest
/// searches by patient, code and status; paging), records every request and injects faults on demand.
/// </summary>
public sealed class StubFhirServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _byTypedId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Stored>> _byPatient = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly List<FhirFault> _faults = [];
    private readonly Lock _lock = new();
    private TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private StubFhirServer(WebApplication app) => _app = app;

    /// <summary>Base URL without a trailing slash, e.g. http://127.0.0.1:41234/fhir.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    /// <summary>Search pages hold at most this many entries (0: the query's _count, else all).</summary>
    public int PageSize { get; set; }

    /// <summary>Added to every answer (to measure what the service adds over the FHIR server's own time).</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Starts on 127.0.0.1:<paramref name="port"/> (0: any free port), serving the fixtures' data unless told not to.</summary>
    public static async Task<StubFhirServer> StartAsync(bool loadFixtures = true, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var stub = new StubFhirServer(app);
        app.Run(stub.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        stub.BaseUrl = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/fhir");
        if (loadFixtures) stub.LoadFixtureRequests();
        return stub;
    }

    /// <summary>Loads the prefetch of every fixture request (fhir-fixtures/requests) under its context.patientId.</summary>
    public void LoadFixtureRequests()
    {
        foreach (var file in Directory.GetFiles(FixtureFiles.FixturePath("requests"), "*.json"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var root = doc.RootElement;
            var patientId = root.GetProperty("context").GetProperty("patientId").GetString()!;
            if (!root.TryGetProperty("prefetch", out var prefetch) || prefetch.ValueKind != JsonValueKind.Object) continue;
            foreach (var key in prefetch.EnumerateObject())
            {
                if (key.Value.ValueKind != JsonValueKind.Object) continue;
                if (key.Value.GetProperty("resourceType").GetString() != "Bundle")
                {
                    Add(patientId, key.Value.GetRawText());
                    continue;
                }
                if (!key.Value.TryGetProperty("entry", out var entries)) continue;
                foreach (var e in entries.EnumerateArray())
                {
                    if (e.TryGetProperty("resource", out var r)) Add(patientId, r.GetRawText());
                }
            }
        }
    }

    /// <summary>Adds one resource (FHIR JSON) to the patient's record; a Medication or Patient is also readable by id.</summary>
    public void Add(string patientId, string json)
    {
        var resource = JsonSerializer.Deserialize(json, FhirJson.ResourceInfo) ?? throw new ArgumentException("not a resource", nameof(json));
        var typedId = resource.TypedId ?? throw new ArgumentException("a stub resource needs an id", nameof(json));
        _byTypedId.TryAdd(typedId, json);
        // The same resource may appear under several prefetch keys: keep one copy per patient.
        var list = _byPatient.GetOrAdd(patientId, _ => new());
        if (!list.Any(s => s.Resource.TypedId == typedId)) list.Enqueue(new Stored(resource, json));
    }

    public void Inject(FhirFault fault)
    {
        fault.Remaining = fault.Times;
        lock (_lock) _faults.Add(fault);
    }

    /// <summary>Clears faults, recorded requests, paging and latency (the data stays).</summary>
    public void Reset()
    {
        lock (_lock) _faults.Clear();
        _requests.Clear();
        PageSize = 0;
        Latency = TimeSpan.Zero;
    }

    /// <summary>Waits (bounded, real time) until the recorded requests satisfy the condition.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyCollection<RecordedRequest>, bool> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task received;
            lock (_lock) received = _received.Task;
            if (condition(_requests)) return;
            await received.WaitAsync(cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        _requests.Enqueue(new RecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            request.Headers.Authorization.Count > 0 ? request.Headers.Authorization.ToString() : null, Stopwatch.GetTimestamp()));
        TaskCompletionSource received;
        lock (_lock)
        {
            received = _received;
            _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        received.TrySetResult();

        try
        {
            if (Latency > TimeSpan.Zero) await Task.Delay(Latency, http.RequestAborted);
            var segments = (request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
            var fault = TakeFault(segments.Length > 1 ? segments[1] : "", request.QueryString.Value ?? "");
            if (fault is not null && fault.Delay > TimeSpan.Zero) await Task.Delay(fault.Delay, http.RequestAborted);
            if (fault is not null && await ApplyFaultAsync(http, fault)) return;
            if (segments.Length < 2 || segments[0] != "fhir" || request.Method != HttpMethods.Get)
            {
                await WriteOutcomeAsync(http, 404, "not-found", "Unknown path");
                return;
            }
            await AnswerAsync(http, segments, fault);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client gave up (its deadline passed): nothing to answer.
        }
    }

    private FhirFault? TakeFault(string resourceType, string query)
    {
        lock (_lock)
        {
            foreach (var f in _faults)
            {
                if (f.Remaining <= 0 || (f.ResourceType is not null && f.ResourceType != resourceType)) continue;
                if (f.QueryContains is not null && !Uri.UnescapeDataString(query).Contains(f.QueryContains, StringComparison.Ordinal)) continue;
                f.Remaining--;
                return f;
            }
        }
        return null;
    }

    /// <summary>Writes the fault's answer; false when the fault only shapes a normal answer (latency, paging).</summary>
    private async Task<bool> ApplyFaultAsync(HttpContext http, FhirFault fault)
    {
        var response = http.Response;
        switch (fault.Kind)
        {
            case FhirFaultKind.TooManyRequests:
                response.Headers.RetryAfter = fault.RetryAfterDate?.ToString("R") ?? (fault.RetryAfterSeconds ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await WriteOutcomeAsync(http, 429, "throttled", "Too many requests");
                return true;
            case FhirFaultKind.ServiceUnavailable:
                if (fault.RetryAfterDate is { } d) response.Headers.RetryAfter = d.ToString("R");
                else if (fault.RetryAfterSeconds is { } s) response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await WriteOutcomeAsync(http, 503, "transient", "Service unavailable");
                return true;
            case FhirFaultKind.ServerError:
                await WriteOutcomeAsync(http, 500, "exception", "Internal error");
                return true;
            case FhirFaultKind.BadGateway:
                await WriteOutcomeAsync(http, 502, "transient", "Bad gateway");
                return true;
            case FhirFaultKind.Unauthorized:
                response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
                await WriteOutcomeAsync(http, 401, "login", "Invalid token");
                return true;
            case FhirFaultKind.Forbidden:
                await WriteOutcomeAsync(http, 403, "forbidden", "Insufficient scope");
                return true;
            case FhirFaultKind.ConnectionReset:
                http.Abort();
                return true;
            case FhirFaultKind.MalformedJson:
                await WriteAsync(http, 200, "application/fhir+json", "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{,,}]");
                return true;
            case FhirFaultKind.HtmlErrorPage:
                await WriteAsync(http, fault.Status, "text/html", "<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Service temporarily unavailable</h1></body></html>");
                return true;
            case FhirFaultKind.Redirect:
                response.StatusCode = 302;
                response.Headers.Location = new Uri(fault.Target!, http.Request.Path.Value + http.Request.QueryString.Value).AbsoluteUri;
                return true;
            case FhirFaultKind.HugeBundle:
                await WriteAsync(http, 200, "application/fhir+json", HugeBundle(fault.Entries));
                return true;
            default:
                return false; // Latency, TruncatedJson and the paging faults shape the normal answer
        }
    }

    private async Task AnswerAsync(HttpContext http, string[] segments, FhirFault? fault)
    {
        var type = segments[1];
        string body;
        if (segments.Length == 3)
        {
            if (!_byTypedId.TryGetValue(type + "/" + segments[2], out var json))
            {
                await WriteOutcomeAsync(http, 404, "not-found", $"{type}/{segments[2]} is not known");
                return;
            }
            body = json;
        }
        else
        {
            body = Search(http.Request, type, fault);
        }
        if (fault?.Kind == FhirFaultKind.TruncatedJson) body = body[..(body.Length / 2)];
        await WriteAsync(http, 200, "application/fhir+json", body);
    }

    private string Search(HttpRequest request, string type, FhirFault? fault)
    {
        var q = request.Query;
        var patient = q["patient"].ToString();
        if (patient.StartsWith("Patient/", StringComparison.Ordinal)) patient = patient["Patient/".Length..];
        var codes = q["code"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries);
        var status = q["status"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries);
        var matches = (_byPatient.TryGetValue(patient, out var list) ? list : [])
            .Where(s => s.Resource.ResourceType == type && MatchesCode(s.Resource, codes) && MatchesStatus(s.Resource, status))
            .ToList();

        int page = int.TryParse(q["_page"], out var p) && p > 0 ? p : 1;
        int size = PageSize > 0 ? PageSize : int.TryParse(q["_count"], out var c) && c > 0 ? c : Math.Max(matches.Count, 1);
        var pageItems = matches.Skip((page - 1) * size).Take(size).ToList();
        var self = new Uri(BaseUrl, request.Path.Value + request.QueryString.Value).AbsoluteUri;
        string? next = fault?.Kind switch
        {
            FhirFaultKind.EndlessPaging => PageUrl(request, page + 1),
            FhirFaultKind.NextLinkToItself => self,
            FhirFaultKind.NextLinkOffServer => new Uri(fault.Target!, request.Path.Value + request.QueryString.Value).AbsoluteUri,
            _ => page * size < matches.Count ? PageUrl(request, page + 1) : null,
        };
        if (fault?.Kind == FhirFaultKind.EndlessPaging) pageItems = matches.Take(size).ToList();
        return SearchSet(matches.Count, self, next, pageItems.Select(s => (s.Resource.TypedId!, s.Json)));
    }

    private string PageUrl(HttpRequest request, int page)
    {
        var query = string.Join('&', request.Query.Where(kv => kv.Key != "_page").SelectMany(kv => kv.Value.Select(v => $"{kv.Key}={Uri.EscapeDataString(v ?? "")}")));
        return new Uri(BaseUrl, $"{request.Path.Value}?{query}&_page={page}").AbsoluteUri;
    }

    private string SearchSet(int total, string self, string? next, IEnumerable<(string TypedId, string Json)> entries)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("resourceType", "Bundle");
            w.WriteString("type", "searchset");
            w.WriteNumber("total", total);
            w.WriteStartArray("link");
            w.WriteStartObject(); w.WriteString("relation", "self"); w.WriteString("url", self); w.WriteEndObject();
            if (next is not null) { w.WriteStartObject(); w.WriteString("relation", "next"); w.WriteString("url", next); w.WriteEndObject(); }
            w.WriteEndArray();
            w.WriteStartArray("entry");
            foreach (var (typedId, json) in entries)
            {
                w.WriteStartObject();
                w.WriteString("fullUrl", BaseUrl.AbsoluteUri + "/" + typedId);
                w.WritePropertyName("resource");
                w.WriteRawValue(json);
                w.WriteStartObject("search"); w.WriteString("mode", "match"); w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private readonly ConcurrentDictionary<int, string> _hugeBundles = new();

    private string HugeBundle(int count) => _hugeBundles.GetOrAdd(count, BuildHugeBundle);

    private string BuildHugeBundle(int count)
    {
        var entries = Enumerable.Range(0, count).Select(i => ($"Observation/huge-{i}",
            $$$"""{"resourceType":"Observation","id":"huge-{{{i}}}","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"718-7","display":"Hemoglobin [Mass/volume] in Blood"}]},"effectiveDateTime":"2026-01-01","valueQuantity":{"value":13.5,"unit":"g/dL","system":"http://unitsofmeasure.org","code":"g/dL"}}"""));
        return SearchSet(count, BaseUrl.AbsoluteUri + "/Observation", null, entries);
    }

    private static bool MatchesCode(Resource resource, string[] tokens)
    {
        if (tokens.Length == 0) return true;
        var code = resource switch { Observation o => o.Code, Condition c => c.Code, _ => null };
        foreach (var token in tokens)
        {
            var bar = token.IndexOf('|', StringComparison.Ordinal);
            var (system, value) = bar < 0 ? (null, token) : (token[..bar], token[(bar + 1)..]);
            if (code?.Coding?.Exists(c => c.Code == value && (system is null || c.System == system)) == true) return true;
        }
        return false;
    }

    private static bool MatchesStatus(Resource resource, string[] statuses)
    {
        if (statuses.Length == 0) return true;
        var status = resource switch { MedicationUse m => m.Status, Observation o => o.Status, _ => null };
        return status is not null && statuses.Contains(status);
    }

    private static Task WriteOutcomeAsync(HttpContext http, int status, string code, string diagnostics) =>
        WriteAsync(http, status, "application/fhir+json",
            $$$"""{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"{{{code}}}","diagnostics":"{{{diagnostics}}}"}]}""");

    private static async Task WriteAsync(HttpContext http, int status, string contentType, string body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        await http.Response.WriteAsync(body, http.RequestAborted);
    }

    private sealed record Stored(Resource Resource, string Json);
}
