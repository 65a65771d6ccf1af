using System.Diagnostics;

namespace CdsHooks.Api.Telemetry;

/// <summary>
/// The innermost handler of the FHIR HttpClient, below the resilience pipeline, so it sees every HTTP attempt of a
/// read: it numbers them (on the request, which each retry sends again), sets <c>fhir.attempts</c> on the read's
/// <c>fhir.read</c> span and counts <c>cds.fhir.attempts</c> by server host, attempt number and HTTP status or error
/// type. Never the URL. With telemetry off it passes the request straight on.
/// </summary>
public sealed class FhirAttemptTelemetry(CdsMetrics metrics) : DelegatingHandler
{
    private static readonly HttpRequestOptionsKey<int> AttemptKey = new("cds.fhir.attempt");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var read = CdsTelemetry.Tracing ? FhirReadTelemetry.CurrentRead() : null;
        return read is null && !metrics.FhirAttemptsObserved
            ? base.SendAsync(request, cancellationToken)
            : SendObservedAsync(request, read, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendObservedAsync(HttpRequestMessage request, Activity? read, CancellationToken cancellationToken)
    {
        var attempt = request.Options.TryGetValue(AttemptKey, out var before) ? before + 1 : 1;
        request.Options.Set(AttemptKey, attempt);
        read?.SetTag(CdsTelemetry.FhirAttempts, attempt);
        var host = request.RequestUri?.Host ?? "";
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            metrics.FhirAttempt(host, attempt, (int)response.StatusCode, null);
            return response;
        }
        catch (Exception ex)
        {
            // A type name (HttpRequestException, TaskCanceledException...), never the message: it may quote the URL.
            metrics.FhirAttempt(host, attempt, null, ex.GetType().Name);
            throw;
        }
    }
}
