using System.Diagnostics;
using System.Net;
using CdsHooks.Api.Tests.Security;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Telemetry;

/// <summary>The JWT-secured host with the telemetry pipeline exporting to memory.</summary>
public sealed class TelemetrySecuredHost : SecuredCdsServiceHost
{
    public TelemetryCapture Telemetry { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => Telemetry.Register(services);
}

/// <summary>The authentication span of a hook call and the refusals counted by reason; the token is in neither.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class AuthenticationTelemetryTests(TelemetrySecuredHost host) : IClassFixture<TelemetrySecuredHost>
{
    private const string Path = "/cds-services/rls-iron-order-select";

    private async Task<(HttpStatusCode Status, Activity Server, IReadOnlyList<Activity> Spans)> CallAsync(string? token)
    {
        ActivityTraceId traceId;
        HttpStatusCode status;
        using (var root = TelemetryCapture.StartTrace(nameof(AuthenticationTelemetryTests)))
        {
            traceId = root.TraceId;
            using var response = await host.PostAsync(Path, token, SecuredCdsServiceHost.ZoloftRequest());
            status = response.StatusCode;
        }
        var server = await host.Telemetry.ServerSpanAsync(traceId, host.BaseAddress.Port);
        return (status, server, host.Telemetry.Trace(traceId));
    }

    [Fact]
    public async Task AcceptedThenReplayedToken_AuthenticateSpansAndRefusalCountedByReason_TokenNowhere()
    {
        var token = host.Token(host.SandboxKey, SecuredCdsServiceHost.SandboxIssuer, Path).Sign();

        var (status, server, spans) = await CallAsync(token);
        Assert.Equal(HttpStatusCode.OK, status);
        var accepted = Assert.Single(spans, s => s.OperationName == "cds.authenticate");
        Assert.Equal(server.SpanId, accepted.ParentSpanId);
        Assert.Equal("accepted", accepted.GetTagItem("cds.auth.outcome"));
        Assert.Equal(SecuredCdsServiceHost.SandboxIssuer, accepted.GetTagItem("cds.client.issuer"));
        Assert.Single(spans, s => s.OperationName == "cds.rules");

        var (replayStatus, _, replaySpans) = await CallAsync(token);
        Assert.Equal(HttpStatusCode.Unauthorized, replayStatus);
        var refused = Assert.Single(replaySpans, s => s.OperationName == "cds.authenticate");
        Assert.Equal("refused", refused.GetTagItem("cds.auth.outcome"));
        Assert.Equal("replay", refused.GetTagItem("cds.auth.reason"));
        Assert.Equal(ActivityStatusCode.Error, refused.Status);
        Assert.DoesNotContain(replaySpans, s => s.OperationName == "cds.rules");

        var (missingStatus, _, missingSpans) = await CallAsync(null);
        Assert.Equal(HttpStatusCode.Unauthorized, missingStatus);
        Assert.Equal("missing", Assert.Single(missingSpans, s => s.OperationName == "cds.authenticate").GetTagItem("cds.auth.reason"));

        TelemetryCapture.FlushMetrics(host.Services);
        foreach (var reason in new[] { "replay", "missing" })
        {
            Assert.Contains(host.Telemetry.Points("cds.auth.refused"), p => TelemetryCapture.Tag(p, "cds.auth.reason") == reason && p.GetSumLong() >= 1);
        }
        // Neither the token nor any of its three parts (the signature alone identifies it) is in a span or a metric.
        var texts = spans.Concat(replaySpans).SelectMany(TelemetryCapture.Strings)
            .Concat(host.Telemetry.Metrics.SelectMany(TelemetryCapture.Strings)).ToList();
        foreach (var part in token.Split('.').Append(token))
        {
            Assert.DoesNotContain(texts, t => t.Contains(part, StringComparison.Ordinal));
        }
    }
}
