using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using CdsHooks.Api.Telemetry;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CdsHooks.Api.Tests.Telemetry;

/// <summary>
/// The telemetry tests run alone, one host at a time: OpenTelemetry's listeners are process-wide, and one provider's
/// request filter (<see cref="TelemetryCapture.TraceOnlyThisHost"/>) unsamples the requests of every other host.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}

/// <summary>
/// The service's telemetry pipeline (<see cref="CdsTelemetry.AddCdsTelemetryPipeline"/>) with in-memory exporters
/// instead of OTLP, registered through a test host's service configuration. Spans are exported as each one ends;
/// metrics when <see cref="FlushMetrics"/> forces a collection. OpenTelemetry listens process-wide, so spans of
/// other test classes' hosts arrive here too: tests pick theirs by trace id.
/// </summary>
public sealed class TelemetryCapture
{
    public ExportedItems<Activity> Spans { get; } = new();
    public ExportedItems<MetricSnapshot> Metrics { get; } = new();

    public void Register(IServiceCollection services)
    {
        services.AddCdsTelemetryPipeline()
            .WithTracing(t => t.AddInMemoryExporter(Spans))
            .WithMetrics(m => m.AddInMemoryExporter(Metrics));
        TraceOnlyThisHost(services);
    }

    /// <summary>
    /// Keeps the request spans of the other Kestrel servers in this process out (the stub FHIR server's would name the
    /// patient in their paths, as a real EHR's own traces do): the service runs alone in its process, a test does not.
    /// </summary>
    public static void TraceOnlyThisHost(IServiceCollection services) =>
        services.AddOptions<AspNetCoreTraceInstrumentationOptions>().PostConfigure<IServiceProvider>((o, app) =>
        {
            var filter = o.Filter;
            o.Filter = http => ReferenceEquals(http.RequestServices.GetService<IServer>(), app.GetService<IServer>()) && (filter?.Invoke(http) ?? true);
        });

    /// <summary>Collects and exports every metric now (no waiting for the export interval).</summary>
    public static void FlushMetrics(IServiceProvider services) =>
        Assert.True(services.GetRequiredService<MeterProvider>().ForceFlush(10_000), "the metrics were not flushed");

    /// <summary>A root span the test's HTTP calls run under: their trace id names everything the service did for them.</summary>
    public static Activity StartTrace(string name)
    {
        var root = new Activity(name);
        root.SetIdFormat(ActivityIdFormat.W3C);
        // Sampled, so the service records the spans it makes under it (the default sampler follows the parent).
        root.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        return root.Start();
    }

    /// <summary>The ended spans of one trace.</summary>
    public IReadOnlyList<Activity> Trace(ActivityTraceId traceId) => [.. Spans.Where(s => s.TraceId == traceId)];

    /// <summary>Waits for the span that ends last in a hook call: the service's request span, on its own port.</summary>
    public Task<Activity> ServerSpanAsync(ActivityTraceId traceId, int port) =>
        Spans.WaitForAsync(s => s.TraceId == traceId && s.Kind == ActivityKind.Server && Equals(s.GetTagItem("server.port"), port), TimeSpan.FromSeconds(10));

    /// <summary>
    /// The points of a metric in every export so far (cumulative, so a point recorded once is in each later export).
    /// Every export, not the last: the provider listens to each meter of that name in the process (every test host
    /// has its own), so one export can hold several streams of one name, most of them another host's.
    /// </summary>
    public IReadOnlyList<MetricPoint> Points(string metricName) =>
        [.. Metrics.Where(m => m.Name == metricName).SelectMany(m => m.MetricPoints)];

    public static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key) return Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        return null;
    }

    /// <summary>Every string a span carries that an exporter would send: names, string tag and event values, status text.</summary>
    public static IEnumerable<string> Strings(Activity span)
    {
        yield return span.DisplayName;
        yield return span.OperationName;
        if (span.StatusDescription is { } status) yield return status;
        foreach (var value in span.TagObjects.Select(t => t.Value).Concat(span.Events.SelectMany(e => e.Tags.Select(t => t.Value))))
        {
            foreach (var text in Texts(value)) yield return text;
        }
        foreach (var (key, value) in span.Baggage) yield return key + "=" + value;
    }

    /// <summary>Every string in a metric's tags (numbers are left out: a port or a status is no identifier).</summary>
    public static IEnumerable<string> Strings(MetricSnapshot metric) =>
        metric.MetricPoints.SelectMany(p => EnumerateTags(p)).SelectMany(Texts);

    private static List<object?> EnumerateTags(MetricPoint point)
    {
        var values = new List<object?>();
        foreach (var tag in point.Tags) values.Add(tag.Value);
        return values;
    }

    private static IEnumerable<string> Texts(object? value) => value switch
    {
        string s => [s],
        IEnumerable e => e.OfType<string>(),
        _ => [],
    };
}

/// <summary>
/// What an in-memory exporter appends to, safe to read while exports arrive (from any test host in the process), and
/// awaitable: <see cref="WaitForAsync"/> completes when a matching item is exported, without polling.
/// </summary>
public sealed class ExportedItems<T> : ICollection<T> where T : class
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count => _items.Count;

    public bool IsReadOnly => false;

    public void Add(T item)
    {
        _items.Enqueue(item);
        TaskCompletionSource added;
        lock (_lock)
        {
            added = _added;
            _added = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        added.TrySetResult();
    }

    public async Task<T> WaitForAsync(Func<T, bool> predicate, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            Task next;
            lock (_lock) next = _added.Task;
            if (_items.FirstOrDefault(predicate) is { } found) return found;
            try
            {
                await next.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Nothing matching was exported within {timeout.TotalSeconds:0} s ({_items.Count} items exported).");
            }
        }
    }

    public void Clear() => _items.Clear();

    public bool Contains(T item) => _items.Contains(item);

    public void CopyTo(T[] array, int arrayIndex) => _items.ToArray().CopyTo(array, arrayIndex);

    public bool Remove(T item) => throw new NotSupportedException("Exported items are only added.");

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items.ToArray()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
