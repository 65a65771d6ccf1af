using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Fhir;

/// <summary>
/// The service with a stub FHIR server on its allowlist (http on loopback, so <c>Fhir:AllowInsecureHttp</c> is set
/// explicitly: the test host runs as "Testing", not Development), plus a second stub that is not allowlisted — the
/// "other host" a redirect or a next link may try to send the service to.
/// </summary>
public class FhirFallbackHost : CdsServiceHost, IAsyncLifetime
{
    public const string AccessToken = "stub-access-token-5f1e9c2a";

    public StubFhirServer Fhir { get; private set; } = null!;
    public StubFhirServer Elsewhere { get; private set; } = null!;

    /// <summary>Settings on top of the allowlist; subclasses change the timing.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> FhirSettings =>
    [
        // Under the fixed test clock a circuit would never close again: keep it out of the way here (see FhirCircuitBreakerTests).
        new("Fhir:CircuitBreaker:MinimumThroughput", "100000"),
    ];

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("Fhir:AllowedServers:0", Fhir.BaseUrl.AbsoluteUri),
        new("Fhir:AllowInsecureHttp", "true"),
        .. FhirSettings,
    ];

    public async Task InitializeAsync()
    {
        Fhir = await StubFhirServer.StartAsync();
        Elsewhere = await StubFhirServer.StartAsync(loadFixtures: true);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Fhir.DisposeAsync();
        await Elsewhere.DisposeAsync();
    }

    /// <summary>Before each test: no faults, no recorded requests.</summary>
    public void Reset()
    {
        Fhir.Reset();
        Elsewhere.Reset();
    }

    public async Task<HookAnswer> PostAsync(string serviceId, string body)
    {
        var client = Client; // the host starts on first use: not part of the answer's time
        var started = Stopwatch.GetTimestamp();
        using var response = await client.PostAsync($"/cds-services/{serviceId}", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = await response.Content.ReadAsStringAsync();
        return new HookAnswer(response.StatusCode, json, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The service's own FHIR HttpClient (its handlers and resilience pipelines), for calls a hook would not make.</summary>
    public HttpClient CreateFhirClient()
    {
        _ = Client; // the host starts on first use
        return Services.GetRequiredService<IHttpClientFactory>().CreateClient(CdsHooks.Api.Fhir.FhirPrefetchFallback.HttpClientName);
    }
}

/// <summary>The same host with a manual clock: Polly's waits and circuit breaks move only when the test advances it.</summary>
public class ManualClockFhirHost : FhirFallbackHost
{
    public ManualTimeProvider ManualClock { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(ManualClock);

    /// <summary>
    /// Once a timer of <paramref name="due"/> waits, moves the clock to 1 ms before it: the call still waits and the stub
    /// has had <paramref name="requestsSoFar"/> requests. Then the last millisecond, and the call's result.
    /// </summary>
    public async Task<T> CompletesExactlyAfterAsync<T>(TimeSpan due, Task<T> call, int requestsSoFar)
    {
        await ManualClock.WaitForTimerAsync(d => d == due, TimeSpan.FromSeconds(10));
        ManualClock.Advance(due - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);
        Assert.Equal(requestsSoFar, Fhir.Requests.Count);
        ManualClock.Advance(TimeSpan.FromMilliseconds(1));
        return await call.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

public sealed record HookAnswer(HttpStatusCode Status, string Body, TimeSpan Elapsed)
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    public override string ToString() => $"{(int)Status} in {Elapsed.TotalMilliseconds:0} ms: {Body}";
}

/// <summary>Turns fixture requests into requests that make the service read the FHIR server.</summary>
public static class FallbackRequests
{
    public static readonly string[] AllKeys = ["patient", "ironLabs", "crpAndHemoglobin", "medicationStatements", "medicationRequests", "conditions"];

    /// <summary>The fixture with the given prefetch keys removed (all when none given), pointed at <paramref name="fhirServer"/>.</summary>
    public static string WithoutPrefetch(string fixture, Uri fhirServer, string? token = FhirFallbackHost.AccessToken, params string[] keys)
    {
        var request = Load(fixture, fhirServer, token);
        if (keys.Length == 0) request.Remove("prefetch");
        else foreach (var key in keys) request["prefetch"]!.AsObject().Remove(key);
        return request.ToJsonString();
    }

    /// <summary>The fixture with the given keys replaced by the OperationOutcome a client sends when its own fetch failed.</summary>
    public static string WithFailedPrefetch(string fixture, Uri fhirServer, params string[] keys)
    {
        var request = Load(fixture, fhirServer, FhirFallbackHost.AccessToken);
        foreach (var key in keys)
        {
            request["prefetch"]![key] = JsonNode.Parse("""{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"timeout","diagnostics":"EHR prefetch timed out"}]}""");
        }
        return request.ToJsonString();
    }

    public static JsonObject Load(string fixture, Uri fhirServer, string? token)
    {
        var request = JsonNode.Parse(FixtureFiles.ReadFixture(fixture))!.AsObject();
        request["fhirServer"] = fhirServer.AbsoluteUri;
        if (token is not null)
        {
            request["fhirAuthorization"] = new JsonObject
            {
                ["access_token"] = token,
                ["token_type"] = "Bearer",
                ["expires_in"] = 300,
                ["scope"] = "patient/*.read",
                ["subject"] = "cds-service",
            };
        }
        return request;
    }
}
