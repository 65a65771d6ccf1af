using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsHooks.Testing;

/// <summary>One OTLP/HTTP export as it arrived: the signal's path, its content type and (when kept) its protobuf bytes.</summary>
public sealed record OtlpExport(string Path, string? ContentType, int Length, byte[]? Body);

/// <summary>
/// A stand-in OpenTelemetry collector on loopback: accepts OTLP/HTTP protobuf POSTs at <c>/v1/traces</c>,
/// <c>/v1/metrics</c> and <c>/v1/logs</c>, answers each with an empty export response (200) and counts them. It
/// keeps the bodies only when asked (a test reading what left the service).
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    private static readonly string[] Signals = ["/v1/traces", "/v1/metrics", "/v1/logs"];

    private readonly WebApplication _app;
    private readonly bool _keepBodies;
    private readonly ConcurrentQueue<OtlpExport> _exports = new();
    private long _bytes;

    private OtlpSink(WebApplication app, bool keepBodies)
    {
        _app = app;
        _keepBodies = keepBodies;
    }

    /// <summary>The endpoint to give the exporter (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>), e.g. http://127.0.0.1:41234.</summary>
    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyCollection<OtlpExport> Exports => _exports;

    public long Bytes => Interlocked.Read(ref _bytes);

    public static async Task<OtlpSink> StartAsync(int port = 0, bool keepBodies = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var sink = new OtlpSink(app, keepBodies);
        app.Run(sink.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sink.Endpoint = new Uri(address);
        return sink;
    }

    /// <summary>How many exports of a signal (<c>/v1/traces</c>...) arrived, and their bytes.</summary>
    public (int Count, long Bytes) Received(string path) =>
        (_exports.Count(e => e.Path == path), _exports.Where(e => e.Path == path).Sum(e => (long)e.Length));

    private async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        if (!HttpMethods.IsPost(http.Request.Method) || !Signals.Contains(path))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted);
        Interlocked.Add(ref _bytes, body.Length);
        _exports.Enqueue(new OtlpExport(path, http.Request.ContentType, (int)body.Length, _keepBodies ? body.ToArray() : null));
        // An empty Export*ServiceResponse: no partial success to report.
        http.Response.ContentType = "application/x-protobuf";
        http.Response.ContentLength = 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
