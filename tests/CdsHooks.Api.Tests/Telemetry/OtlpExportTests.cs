using System.Net;
using System.Text;
using CdsHooks.Api.Telemetry;
using CdsHooks.Api.Tests.Fhir;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CdsHooks.Api.Tests.Telemetry;

/// <summary>The fallback host configured as an operator would: the standard OTEL_* variables, nothing else.</summary>
public sealed class OtlpExportHost(Uri endpoint, string serviceName) : FhirFallbackHost
{
    protected override IEnumerable<KeyValuePair<string, string?>> FhirSettings =>
    [
        .. base.FhirSettings,
        new("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.AbsoluteUri.TrimEnd('/')),
        new("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        new("OTEL_SERVICE_NAME", serviceName),
    ];

    protected override void ConfigureTestServices(IServiceCollection services) => TelemetryCapture.TraceOnlyThisHost(services);
}

/// <summary>
/// Export is on exactly when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: then traces and metrics reach an OTLP/HTTP
/// collector (a sink on loopback) under <c>OTEL_SERVICE_NAME</c>, and the bytes on the wire hold neither the patient
/// id nor the access token; without it no provider exists.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class OtlpExportTests(OtlpSinkFixture sink) : IClassFixture<OtlpSinkFixture>
{
    [Fact]
    public async Task EndpointSet_TracesAndMetricsExportedOverOtlpHttp_WithoutPatientIdOrToken()
    {
        const string ServiceName = "rls-iron-cds-under-test";
        var host = new OtlpExportHost(sink.Sink.Endpoint, ServiceName);
        await ((IAsyncLifetime)host).InitializeAsync();
        try
        {
            var body = FallbackRequests.WithoutPrefetch(HookCalls.ZoloftLowIron, host.Fhir.BaseUrl);
            using (var response = await host.Client.PostAsync("/cds-services/rls-iron-order-select", new StringContent(body, Encoding.UTF8, "application/json")))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            Assert.Equal(ServiceName, host.Services.GetRequiredService<TracerProvider>().GetResource().Attributes.Single(a => a.Key == "service.name").Value);
            // The batch exporter sends what has ended; the flush waits for the POSTs to be answered.
            Assert.True(host.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
            Assert.True(host.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000));
        }
        finally
        {
            await ((IAsyncLifetime)host).DisposeAsync();
        }

        var exports = sink.Sink.Exports.ToList();
        Assert.All(exports, e => Assert.Equal("application/x-protobuf", e.ContentType));
        var traces = Wire(exports, "/v1/traces");
        var metrics = Wire(exports, "/v1/metrics");
        Assert.Contains(ServiceName, traces, StringComparison.Ordinal);
        Assert.Contains("fhir.read", traces, StringComparison.Ordinal);
        Assert.Contains("cds.rules", traces, StringComparison.Ordinal);
        Assert.Contains("cds.fhir.reads", metrics, StringComparison.Ordinal);
        Assert.Contains("cds.hook.duration", metrics, StringComparison.Ordinal);
        var patientId = "rls-lowiron-f29";
        Assert.Contains(patientId, FixtureFiles.ReadFixture(HookCalls.ZoloftLowIron), StringComparison.Ordinal);
        foreach (var secret in new[] { patientId, FhirFallbackHost.AccessToken })
        {
            Assert.DoesNotContain(secret, traces, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void EndpointNotSet_NoProvidersAndNoExporter()
    {
        using var host = new ConfiguredHost();

        Assert.Null(host.Services.GetService<TracerProvider>());
        Assert.Null(host.Services.GetService<MeterProvider>());
        // The instruments exist (unobserved, they cost an Enabled check).
        Assert.NotNull(host.Services.GetService<CdsMetrics>());
    }

    /// <summary>The protobuf bytes of one signal's exports as Latin-1 text: strings in them read as they are.</summary>
    private static string Wire(List<OtlpExport> exports, string path)
    {
        var bodies = exports.Where(e => e.Path == path).ToList();
        Assert.NotEmpty(bodies);
        return string.Concat(bodies.Select(e => Encoding.Latin1.GetString(e.Body!)));
    }
}

public sealed class OtlpSinkFixture : IAsyncLifetime
{
    public OtlpSink Sink { get; private set; } = null!;

    public async Task InitializeAsync() => Sink = await OtlpSink.StartAsync();

    public async Task DisposeAsync() => await Sink.DisposeAsync();
}
