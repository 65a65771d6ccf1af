using CdsHooks.Api.Security;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Fhir;

/// <summary>
/// Configuration section <c>Fhir</c>: which FHIR servers the service may read when prefetch is incomplete, and how
/// patiently. Validated at start-up; a bad value stops the service at boot with a message naming the key.
/// </summary>
public sealed class FhirOptions
{
    public const string Section = "Fhir";

    /// <summary>
    /// Base URLs of the FHIR servers the service may call (<c>Fhir__AllowedServers__0</c>, ...). A request's
    /// <c>fhirServer</c> must be one of them or lie under one (same scheme, host, port, and a path below it).
    /// Empty: the service never calls a FHIR server.
    /// </summary>
    public List<string> AllowedServers { get; set; } = [];

    /// <summary>Allow http:// servers. Unset: allowed in the Development environment only.</summary>
    public bool? AllowInsecureHttp { get; set; }

    /// <summary>How long one hook call may spend reading the FHIR server, all queries and retries included.</summary>
    public TimeSpan RequestDeadline { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long one HTTP attempt may wait for the server's response headers.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Retries of a GET after 429, 502, 503, 504, a timeout or a connection failure (0 = none).</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>First retry delay; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A 429/503 whose Retry-After asks for longer than this is not retried (the EHR will not wait).</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Pages of one search to read (<c>Bundle.link[next]</c>), the first included.</summary>
    public int MaxPages { get; set; } = 5;

    /// <summary>Largest response body accepted, in bytes.</summary>
    public long MaxResponseBytes { get; set; } = 8 * 1024 * 1024;

    public FhirCircuitBreakerOptions CircuitBreaker { get; set; } = new();
}

/// <summary>One circuit per FHIR server authority (scheme, host, port): a failing EHR is left alone for a while.</summary>
public sealed class FhirCircuitBreakerOptions
{
    /// <summary>Share of failed attempts, within <see cref="SamplingDuration"/>, that opens the circuit.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Attempts within <see cref="SamplingDuration"/> before the ratio counts.</summary>
    public int MinimumThroughput { get; set; } = 10;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit refuses calls before one trial call is let through.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}

public sealed class FhirOptionsValidator : IValidateOptions<FhirOptions>
{
    public ValidateOptionsResult Validate(string? name, FhirOptions options)
    {
        var failures = new List<string>();
        for (int i = 0; i < options.AllowedServers.Count; i++)
        {
            if (FhirServerAllowlist.ParseBase(options.AllowedServers[i], options.AllowInsecureHttp == true) is { Error: { } error })
            {
                failures.Add($"{FhirOptions.Section}:AllowedServers:{i}: {error}");
            }
        }
        void Range(string key, TimeSpan value, TimeSpan min, TimeSpan max)
        {
            if (value < min || value > max) failures.Add($"{FhirOptions.Section}:{key}: {value} is outside {min}..{max}.");
        }
        Range(nameof(FhirOptions.RequestDeadline), options.RequestDeadline, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(60));
        Range(nameof(FhirOptions.AttemptTimeout), options.AttemptTimeout, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(60));
        Range(nameof(FhirOptions.RetryBaseDelay), options.RetryBaseDelay, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Range(nameof(FhirOptions.MaxRetryAfter), options.MaxRetryAfter, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        if (options.MaxRetries is < 0 or > 10) failures.Add($"{FhirOptions.Section}:MaxRetries: {options.MaxRetries} is outside 0..10.");
        if (options.MaxPages is < 1 or > 100) failures.Add($"{FhirOptions.Section}:MaxPages: {options.MaxPages} is outside 1..100.");
        if (options.MaxResponseBytes is < 1024 or > 1L << 30) failures.Add($"{FhirOptions.Section}:MaxResponseBytes: {options.MaxResponseBytes} is outside 1024..1073741824.");

        // Polly's own limits (CircuitBreakerStrategyOptions): ratio in (0, 1], throughput >= 2, durations >= 0.5 s.
        var cb = options.CircuitBreaker;
        const string cbKey = FhirOptions.Section + ":CircuitBreaker";
        if (cb.FailureRatio is <= 0 or > 1) failures.Add($"{cbKey}:FailureRatio: {cb.FailureRatio} must be above 0 and at most 1.");
        if (cb.MinimumThroughput < 2) failures.Add($"{cbKey}:MinimumThroughput: {cb.MinimumThroughput} must be at least 2.");
        Range("CircuitBreaker:SamplingDuration", cb.SamplingDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1));
        Range("CircuitBreaker:BreakDuration", cb.BreakDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
