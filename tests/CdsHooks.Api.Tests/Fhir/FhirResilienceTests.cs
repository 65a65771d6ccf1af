using System.Net;
using CdsHooks.Api.Fhir;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Fhir;

public sealed class CircuitHost : ManualClockFhirHost
{
    protected override IEnumerable<KeyValuePair<string, string?>> FhirSettings =>
    [
        new("Fhir:MaxRetries", "0"),
        new("Fhir:CircuitBreaker:MinimumThroughput", "4"),
        new("Fhir:CircuitBreaker:FailureRatio", "0.5"),
        new("Fhir:CircuitBreaker:SamplingDuration", "00:00:30"),
        new("Fhir:CircuitBreaker:BreakDuration", "00:00:05"),
    ];
}

public sealed class RetryAfterHost : ManualClockFhirHost
{
    protected override IEnumerable<KeyValuePair<string, string?>> FhirSettings =>
    [
        .. base.FhirSettings,
        new("Fhir:MaxRetries", "1"),
        new("Fhir:MaxRetryAfter", "00:00:05"),
        new("Fhir:AttemptTimeout", "00:00:02"),
        new("Fhir:RequestDeadline", "00:00:03"),
    ];
}

/// <summary>The circuit breaker per FHIR server authority, on a manual clock: no test waits for a break to end.</summary>
public sealed class FhirCircuitBreakerTests(CircuitHost host) : IClassFixture<CircuitHost>
{
    private const string Fixture = "requests/order-select-zoloft-text-low-iron.json";

    [Fact]
    public async Task FailingServer_CircuitOpens_NotContactedUntilBreakEnds()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable));
        var body = FallbackRequests.WithoutPrefetch(Fixture, host.Fhir.BaseUrl);

        var failing = await host.PostAsync("rls-iron-order-select", body);
        Assert.Equal(HttpStatusCode.PreconditionFailed, failing.Status);

        // The server recovers, but the circuit is open: the next hook call does not reach it.
        host.Reset();
        var paused = await host.PostAsync("rls-iron-order-select", body);
        Assert.Equal(HttpStatusCode.PreconditionFailed, paused.Status);
        Assert.Contains("paused", paused.Body);
        Assert.Empty(host.Fhir.Requests);

        // Another authority has its own circuit.
        using var other = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(FhirPrefetchFallback.HttpClientName);
        using var elsewhere = await other.GetAsync(new Uri(host.Elsewhere.BaseUrl.AbsoluteUri + "/Patient/rls-lowiron-f29"));
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);

        // After the break one trial call goes through; once it succeeds the circuit closes.
        host.ManualClock.Advance(TimeSpan.FromSeconds(5));
        await host.PostAsync("rls-iron-order-select", body);
        var recovered = await host.PostAsync("rls-iron-order-select", body);
        Assert.True(recovered.Status == HttpStatusCode.OK, recovered.ToString());
        Assert.NotEmpty(host.Fhir.Requests);
    }
}

/// <summary>Retry-After is honoured: the retry waits exactly as long as the server asked, on a manual clock.</summary>
public sealed class FhirRetryAfterTests(RetryAfterHost host) : IClassFixture<RetryAfterHost>
{
    [Fact]
    public async Task TooManyRequests_RetryAfterOneSecond_RetriedOnlyAfterIt()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.TooManyRequests) { ResourceType = "Patient", Times = 1, RetryAfterSeconds = 1 });
        _ = host.Client;

        var call = host.PostAsync("rls-iron-order-select", FallbackRequests.WithoutPrefetch("requests/order-select-zoloft-text-low-iron.json", host.Fhir.BaseUrl));
        await host.ManualClock.WaitForTimerAsync(due => due == TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));

        host.ManualClock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(1, host.Fhir.Requests.Count(r => r.ResourceType == "Patient"));
        Assert.False(call.IsCompleted);

        host.ManualClock.Advance(TimeSpan.FromMilliseconds(1));
        var answer = await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Assert.Equal(2, host.Fhir.Requests.Count(r => r.ResourceType == "Patient"));
    }
}

/// <summary>The resilience handler retries GETs only: anything else could act twice on the EHR.</summary>
public sealed class FhirResilienceHandlerTests(FaultHost host) : IClassFixture<FaultHost>
{
    [Fact]
    public async Task ServiceUnavailable_Post_NotRetried()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable) { ResourceType = "Observation" });
        _ = host.Client;
        using var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(FhirPrefetchFallback.HttpClientName);

        using var response = await client.PostAsync(new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Observation"), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Single(host.Fhir.Requests);
    }

    [Fact]
    public async Task ServiceUnavailable_Get_RetriedMaxRetriesTimes()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable) { ResourceType = "Observation" });
        _ = host.Client;
        using var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(FhirPrefetchFallback.HttpClientName);

        using var response = await client.GetAsync(new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Observation?patient=x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, host.Fhir.Requests.Count);
    }

    [Fact]
    public async Task Redirect_NotFollowedByTheHttpClient()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.Redirect) { Target = host.Elsewhere.BaseUrl });
        _ = host.Client;
        using var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(FhirPrefetchFallback.HttpClientName);

        using var response = await client.GetAsync(new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Patient/rls-lowiron-f29"));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Empty(host.Elsewhere.Requests);
    }
}
