using System.Net;
using CdsHooks.Api.Fhir;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Polly.CircuitBreaker;
using Polly.Timeout;

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

/// <summary>
/// Per-attempt timeouts on a manual clock: a retry starts at once (no backoff), so every wait in a test is one the test
/// makes; the deadline leaves room for two attempts.
/// </summary>
public sealed class AttemptTimeoutHost : ManualClockFhirHost
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(1700);

    protected override IEnumerable<KeyValuePair<string, string?>> FhirSettings =>
    [
        .. base.FhirSettings,
        new("Fhir:MaxRetries", "1"),
        new("Fhir:RetryBaseDelay", "00:00:00"),
        new("Fhir:AttemptTimeout", "00:00:01.700"),
        new("Fhir:RequestDeadline", "00:00:05"),
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
        using var other = host.CreateFhirClient();
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

/// <summary>
/// Each authority (scheme, host, port) has its own circuit with the <c>Fhir:CircuitBreaker</c> options: failures at one
/// FHIR server never count against another. Its own host, so no other test's failures are in the circuits.
/// </summary>
public sealed class FhirCircuitIsolationTests(CircuitHost host) : IClassFixture<CircuitHost>
{
    [Fact]
    public async Task CircuitBreaker_TwoAuthorities_FailuresAtOneNeverOpenTheOther()
    {
        host.Reset();
        using var client = host.CreateFhirClient();
        var failing = new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Patient/rls-lowiron-f29");
        var other = new Uri(host.Elsewhere.BaseUrl.AbsoluteUri + "/Patient/rls-lowiron-f29");
        Assert.Equal(failing.Host, other.Host); // the same host: only the port tells the two authorities apart
        host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable));
        host.Elsewhere.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable) { Times = 3 });

        // Three failures at the other server, below Fhir:CircuitBreaker:MinimumThroughput (4) on their own ...
        for (int i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync(other);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }
        // ... then four at the failing one: its circuit opens (ratio 1 >= 0.5 over 4 calls), and only its.
        for (int i = 0; i < 4; i++)
        {
            using var response = await client.GetAsync(failing);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync(failing));
        Assert.Equal(4, host.Fhir.Requests.Count);

        // Seven failures in all within the sampling duration, yet the other server's circuit is closed: still called.
        using (var answered = await client.GetAsync(other))
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }
        Assert.Equal(4, host.Elsewhere.Requests.Count);

        // The break (Fhir:CircuitBreaker:BreakDuration, 5 s) ends on the registered clock, for the failing server only.
        host.ManualClock.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync(failing));
        host.ManualClock.Advance(TimeSpan.FromMilliseconds(1));
        using var trial = await client.GetAsync(failing);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, trial.StatusCode);
        Assert.Equal(5, host.Fhir.Requests.Count);
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

    [Theory]
    [InlineData(FhirFaultKind.TooManyRequests)]
    [InlineData(FhirFaultKind.ServiceUnavailable)]
    public async Task RetryAfterLongerThanMaxRetryAfter_NotRetried_AnswerPassedOnAtOnce(FhirFaultKind kind)
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(kind) { ResourceType = "Patient", RetryAfterSeconds = 6 }); // Fhir:MaxRetryAfter is 5 s
        using var client = host.CreateFhirClient();

        // The clock never moves: an answer at all means no wait was started.
        using var response = await client.GetAsync(PatientUrl).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(kind == FhirFaultKind.TooManyRequests ? HttpStatusCode.TooManyRequests : HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Single(host.Fhir.Requests);
    }

    [Fact]
    public Task RetryAfterEqualToMaxRetryAfter_RetriedAfterExactlyIt() =>
        AssertRetriedExactlyAfterAsync(TimeSpan.FromSeconds(5),
            new FhirFault(FhirFaultKind.TooManyRequests) { ResourceType = "Patient", Times = 1, RetryAfterSeconds = 5 });

    [Fact]
    public async Task TooManyRequests_RetryAfterZero_RetriedAtOnceWithoutBackoff()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.TooManyRequests) { ResourceType = "Patient", Times = 1, RetryAfterSeconds = 0 });
        using var client = host.CreateFhirClient();

        // Without Retry-After the backoff (Fhir:RetryBaseDelay, 100 ms with jitter) would wait for the clock, which never moves.
        using var response = await client.GetAsync(PatientUrl).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, host.Fhir.Requests.Count);
    }

    [Fact]
    public Task RetryAfterHttpDate_WaitMeasuredOnTheRegisteredClock() =>
        // Four seconds after the manual clock's now (not 2 s, the attempt timeout here); the system clock is elsewhere,
        // so a wait dated by it would not be 4 s.
        AssertRetriedExactlyAfterAsync(TimeSpan.FromSeconds(4),
            new FhirFault(FhirFaultKind.ServiceUnavailable) { ResourceType = "Patient", Times = 1, RetryAfterDate = host.ManualClock.GetUtcNow().AddSeconds(4) });

    [Fact]
    public async Task RetryAfterBeyondTheDeadline_WaitEndsAtFhirRequestDeadline_412Timeout()
    {
        host.Reset();
        // 5 s is within Fhir:MaxRetryAfter (5 s) so the retry waits, but the hook call's Fhir:RequestDeadline is 3 s.
        host.Fhir.Inject(new FhirFault(FhirFaultKind.TooManyRequests) { QueryContains = IronLabsQuery.Code, RetryAfterSeconds = 5 });
        var body = FallbackRequests.WithoutPrefetch("requests/order-select-zoloft-text-low-iron.json", host.Fhir.BaseUrl, FhirFallbackHost.AccessToken, "ironLabs");

        var call = host.PostAsync("rls-iron-order-select", body);
        // Only the deadline and the retry's wait are left on the clock (no attempt still running its 2 s timeout).
        await host.ManualClock.WaitForTimersAsync(t => t.Contains(Deadline) && t.Contains(TimeSpan.FromSeconds(5)) && !t.Contains(TimeSpan.FromSeconds(2)), TimeSpan.FromSeconds(10));
        host.ManualClock.Advance(Deadline - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);
        host.ManualClock.Advance(TimeSpan.FromMilliseconds(1));
        // The clock never reaches the 5 s the server asked for: an answer means the deadline ended the wait.
        var answer = await call.WaitAsync(TimeSpan.FromSeconds(10));

        IronLabsQuery.AssertTimedOut(answer, "(Fhir:RequestDeadline)");
        Assert.Equal(1, host.Fhir.Requests.Count(IronLabsQuery.Matches));
    }

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(3); // RetryAfterHost's Fhir:RequestDeadline

    /// <summary>One GET that meets <paramref name="fault"/> once: retried after exactly <paramref name="wait"/>, then answered.</summary>
    private async Task AssertRetriedExactlyAfterAsync(TimeSpan wait, FhirFault fault)
    {
        host.Reset();
        host.Fhir.Inject(fault);
        using var client = host.CreateFhirClient();

        using var response = await host.CompletesExactlyAfterAsync(wait, client.GetAsync(PatientUrl), requestsSoFar: 1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, host.Fhir.Requests.Count);
    }

    private Uri PatientUrl => new(host.Fhir.BaseUrl.AbsoluteUri + "/Patient/rls-lowiron-f29");
}

/// <summary>
/// An attempt that outlasts <c>Fhir:AttemptTimeout</c> is abandoned and retried; when every attempt times out the hook
/// answers 412 <c>timeout</c> naming the key. On a manual clock: the stub's answer is held back in real time, the
/// timeout fires only when the test moves the clock.
/// </summary>
public sealed class FhirAttemptTimeoutTests(AttemptTimeoutHost host) : IClassFixture<AttemptTimeoutHost>
{
    [Fact]
    public async Task AttemptTimeout_FirstAttemptHangs_RetriedAndSecondAnswers()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.Latency) { ResourceType = "Patient", Times = 1, Delay = TimeSpan.FromSeconds(30) });
        using var client = host.CreateFhirClient();

        var call = client.GetAsync(new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Patient/rls-lowiron-f29"));
        // The attempt's timer starts before the connection is made: wait until the server holds the request.
        await host.Fhir.WaitUntilAsync(r => r.Count == 1, TimeSpan.FromSeconds(10));
        using var response = await host.CompletesExactlyAfterAsync(AttemptTimeoutHost.AttemptTimeout, call, requestsSoFar: 1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, host.Fhir.Requests.Count);
    }

    [Fact]
    public async Task AttemptTimeout_EveryAttempt_RequiredKey412TimeoutNamingTheAttemptTimeout()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.Latency) { QueryContains = IronLabsQuery.Code, Delay = TimeSpan.FromSeconds(30) });
        var body = FallbackRequests.WithoutPrefetch("requests/order-select-zoloft-text-low-iron.json", host.Fhir.BaseUrl, FhirFallbackHost.AccessToken, "ironLabs");

        var call = host.PostAsync("rls-iron-order-select", body);
        for (int attempt = 1; attempt <= 2; attempt++) // 1 + Fhir:MaxRetries, well within Fhir:RequestDeadline (5 s)
        {
            await host.Fhir.WaitUntilAsync(r => r.Count(IronLabsQuery.Matches) == attempt, TimeSpan.FromSeconds(10));
            await host.ManualClock.WaitForTimerAsync(due => due == AttemptTimeoutHost.AttemptTimeout, TimeSpan.FromSeconds(10));
            host.ManualClock.Advance(AttemptTimeoutHost.AttemptTimeout);
        }
        var answer = await call.WaitAsync(TimeSpan.FromSeconds(10));

        IronLabsQuery.AssertTimedOut(answer, "(Fhir:AttemptTimeout), retries included");
        Assert.Equal(2, host.Fhir.Requests.Count(IronLabsQuery.Matches));
    }

}

/// <summary>The ironLabs prefetch query, a required key of rls-iron-order-select, told apart by a LOINC code only it asks for.</summary>
internal static class IronLabsQuery
{
    public const string Code = "2276-4";

    public static bool Matches(RecordedRequest r) => Uri.UnescapeDataString(r.Query).Contains(Code, StringComparison.Ordinal);

    /// <summary>The hook answered 412 with a <c>timeout</c> issue on prefetch.ironLabs whose diagnostics say <paramref name="why"/>.</summary>
    public static void AssertTimedOut(HookAnswer answer, string why)
    {
        Assert.True(answer.Status == HttpStatusCode.PreconditionFailed, answer.ToString());
        var issue = Assert.Single(answer.Json["issue"]!.AsArray(), i => i!["expression"]![0]!.GetValue<string>() == "prefetch.ironLabs")!;
        Assert.Equal("timeout", issue["code"]!.GetValue<string>());
        Assert.Contains(why, issue["diagnostics"]!.GetValue<string>());
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
        using var client = host.CreateFhirClient();

        using var response = await client.PostAsync(new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Observation"), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Single(host.Fhir.Requests);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    [InlineData("HEAD")] // safe methods too: the rule is GET only, not "not unsafe"
    [InlineData("OPTIONS")]
    public async Task ServiceUnavailable_AnyMethodButGet_NotRetried(string method)
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable) { ResourceType = "Observation" });
        using var client = host.CreateFhirClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Observation/x"))
        {
            Content = method is "HEAD" or "OPTIONS" ? null : new StringContent("{}"),
        };

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Single(host.Fhir.Requests);
    }

    [Fact]
    public async Task AttemptTimeout_Post_NotRetried()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.Latency) { ResourceType = "Observation", Delay = TimeSpan.FromSeconds(30) });
        using var client = host.CreateFhirClient();

        // A timed-out write may have reached the EHR: it is not sent again (Fhir:AttemptTimeout 0.8 s in this host).
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => client.PostAsync(new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Observation"), new StringContent("{}")));

        Assert.Single(host.Fhir.Requests);
    }

    [Fact]
    public async Task ServiceUnavailable_Get_RetriedMaxRetriesTimes()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable) { ResourceType = "Observation" });
        using var client = host.CreateFhirClient();

        using var response = await client.GetAsync(new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Observation?patient=x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, host.Fhir.Requests.Count);
    }

    [Fact]
    public async Task PollyLogs_RetryAtWarningNamingTheAuthorityOnly_RoutineEventsBelowInformation()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.ServiceUnavailable) { ResourceType = "Patient", Times = 1 });
        using var client = host.CreateFhirClient();
        var before = host.Logs.Lines.Count;

        using var response = await client.GetAsync(new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Patient/rls-lowiron-f29?_elements=name"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var polly = host.Logs.Lines.Skip(before).Where(l => l.Contains(" Polly: ", StringComparison.Ordinal)).ToList();
        var source = $"Source: '{FhirResiliencePipeline.TelemetryName}/{host.Fhir.BaseUrl.GetLeftPart(UriPartial.Authority)}/Retry'";
        Assert.Contains(polly, l => l.StartsWith("Warning Polly: Resilience event occurred. EventName: 'OnRetry', " + source, StringComparison.Ordinal));
        // Polly logs each execution, and the attempt that answered 200, at Information: Debug here (the fallback sums up).
        Assert.DoesNotContain(polly, l => l.StartsWith("Information ", StringComparison.Ordinal));
        // The path and query carry patient ids and search values: never in a log.
        Assert.DoesNotContain(polly, l => l.Contains("/fhir", StringComparison.Ordinal) || l.Contains("rls-lowiron-f29", StringComparison.Ordinal) || l.Contains("_elements", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Redirect_NotFollowedByTheHttpClient()
    {
        host.Reset();
        host.Fhir.Inject(new FhirFault(FhirFaultKind.Redirect) { Target = host.Elsewhere.BaseUrl });
        using var client = host.CreateFhirClient();

        using var response = await client.GetAsync(new Uri(host.Fhir.BaseUrl.AbsoluteUri + "/Patient/rls-lowiron-f29"));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Empty(host.Elsewhere.Requests);
    }
}
