namespace CdsHooks.Api.Security;

/// <summary>
/// Configuration section <c>Security</c>: who may call the CDS services (CDS Hooks 2.0 §Trusting CDS Clients).
/// Validated at start-up by <see cref="CdsClientSecurityOptionsValidator"/>.
/// </summary>
public sealed class CdsClientSecurityOptions
{
    public const string Section = "Security";

    /// <summary>The algorithms the spec recommends; ES256/RS256 may be added, never <c>none</c> or HMAC.</summary>
    public static readonly IReadOnlyList<string> DefaultAlgorithms = ["ES384", "RS384"];

    /// <summary>Every algorithm that may be configured: asymmetric signatures only.</summary>
    public static readonly IReadOnlyList<string> SupportedAlgorithms = ["ES256", "ES384", "RS256", "RS384"];

    /// <summary>
    /// Whether every call needs a valid JWT. Unset means true, except in Development with no issuers configured
    /// (then false, with a loud warning at start-up).
    /// </summary>
    public bool? RequireJwt { get; set; }

    /// <summary>
    /// The externally visible base URL (scheme, host, optional path) the EHR calls, e.g. behind a proxy or TLS
    /// offload. The expected <c>aud</c> is this plus the request path. Unset: the request's own scheme and host.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>The EHRs (CDS clients) this service trusts.</summary>
    public List<TrustedIssuerOptions> Issuers { get; set; } = [];

    /// <summary>Accepted <c>alg</c> values; unset means ES384 and RS384.</summary>
    public List<string>? AllowedAlgorithms { get; set; }

    /// <summary>Tolerated clock difference for <c>exp</c>, <c>nbf</c> and <c>iat</c>.</summary>
    public int ClockSkewSeconds { get; set; } = 60;

    /// <summary>Tokens whose <c>exp</c> lies further ahead than this are refused (it bounds the replay store).</summary>
    public int MaxTokenLifetimeSeconds { get; set; } = 3600;

    /// <summary>JWKS URLs may use http (loopback tests only); otherwise https is required.</summary>
    public bool AllowHttpJwks { get; set; }

    /// <summary>How long a fetched JWKS is used before it is fetched again (keys removed by the EHR then stop working).</summary>
    public int JwksCacheSeconds { get; set; } = 3600;

    /// <summary>An unknown <c>kid</c> triggers a JWKS fetch at most this often per issuer and URL.</summary>
    public int JwksRefreshIntervalSeconds { get; set; } = 30;

    /// <summary>Most <c>jti</c> values the in-memory replay store holds; beyond that new tokens are refused.</summary>
    public int ReplayCacheCapacity { get; set; } = 200_000;

    /// <summary>The effective <see cref="AllowedAlgorithms"/>.</summary>
    public IReadOnlyList<string> Algorithms => AllowedAlgorithms is { Count: > 0 } a ? a : DefaultAlgorithms;

    public TimeSpan ClockSkew => TimeSpan.FromSeconds(ClockSkewSeconds);
}

/// <summary>One EHR: the <c>iss</c> it signs with and where its public keys are.</summary>
public sealed class TrustedIssuerOptions
{
    /// <summary>The exact <c>iss</c> claim.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The JWKS to fetch when a token has no <c>jku</c>; also an allowed <c>jku</c>.</summary>
    public string? JwksUrl { get; set; }

    /// <summary>Further <c>jku</c> header values this issuer may point at.</summary>
    public List<string> AllowedJku { get; set; } = [];

    /// <summary>An inline JWKS (JSON text) for EHRs that hand their keys over out of band.</summary>
    public string? Jwks { get; set; }

    /// <summary>When set, the token's <c>tenant</c> claim must equal it.</summary>
    public string? Tenant { get; set; }

    /// <summary>Every JWKS URL the service may fetch for this issuer: the allowlist.</summary>
    public IEnumerable<string> JwksUrls => (JwksUrl is { Length: > 0 } url ? AllowedJku.Prepend(url) : AllowedJku).Where(u => u.Length > 0);
}

/// <summary>Configuration section <c>Cors</c>: browser-based CDS clients such as the CDS Hooks Sandbox.</summary>
public sealed class CdsCorsOptions
{
    public const string Section = "Cors";

    /// <summary>Origins allowed to call from a browser; <c>*</c> only in Development (its default there).</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>How long a browser may cache a preflight answer.</summary>
    public int PreflightMaxAgeSeconds { get; set; } = 600;
}

/// <summary>Configuration section <c>Limits</c>: what one request and one client may cost.</summary>
public sealed class RequestLimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Largest request body. A realistic prefetch is tens of kilobytes.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Calls per minute per client <c>iss</c> (per remote IP when unauthenticated); 0 turns the limit off.</summary>
    public int RequestsPerMinutePerClient { get; set; } = 1200;
}
