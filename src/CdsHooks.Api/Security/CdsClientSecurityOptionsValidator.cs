using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Security;

/// <summary>
/// Fills in the environment-dependent defaults: without issuers, Development runs open (so the README's first
/// command works with no configuration) and lets any browser origin in; every other environment stays closed.
/// </summary>
internal sealed class CdsClientSecurityDefaults(IHostEnvironment environment) : IPostConfigureOptions<CdsClientSecurityOptions>, IPostConfigureOptions<CdsCorsOptions>
{
    public void PostConfigure(string? name, CdsClientSecurityOptions options) =>
        options.RequireJwt ??= !(environment.IsDevelopment() && options.Issuers.Count == 0);

    public void PostConfigure(string? name, CdsCorsOptions options)
    {
        if (environment.IsDevelopment() && options.AllowedOrigins.Count == 0) options.AllowedOrigins.Add("*");
    }
}

/// <summary>A bad or unsafe security configuration stops the service at boot with a message naming the key.</summary>
internal sealed class CdsClientSecurityOptionsValidator(IHostEnvironment environment)
    : IValidateOptions<CdsClientSecurityOptions>, IValidateOptions<CdsCorsOptions>, IValidateOptions<RequestLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, CdsClientSecurityOptions options)
    {
        var failures = new List<string>();
        if (options.RequireJwt == true && options.Issuers.Count == 0)
        {
            failures.Add($"Security:Issuers: no trusted CDS client is configured while Security:RequireJwt is true (environment '{environment.EnvironmentName}'), " +
                "so no call could be authenticated. Configure Security:Issuers:0:Issuer and Security:Issuers:0:JwksUrl or Security:Issuers:0:Jwks " +
                "(environment variables Security__Issuers__0__Issuer, Security__Issuers__0__JwksUrl, Security__Issuers__0__Jwks), " +
                "or set Security__RequireJwt=false to accept unauthenticated calls (never in production).");
        }
        if (options.PublicBaseUrl is { Length: > 0 } baseUrl
            && (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || parsed.Query.Length > 0 || parsed.Fragment.Length > 0))
        {
            failures.Add($"Security:PublicBaseUrl: '{baseUrl}' is not an absolute http(s) URL without query or fragment.");
        }
        foreach (var alg in options.Algorithms.Where(a => !CdsClientSecurityOptions.SupportedAlgorithms.Contains(a, StringComparer.Ordinal)))
        {
            failures.Add($"Security:AllowedAlgorithms: '{alg}' is not allowed; choose from {string.Join(", ", CdsClientSecurityOptions.SupportedAlgorithms)} (never none or HMAC).");
        }
        if (options.ClockSkewSeconds is < 0 or > 300) failures.Add($"Security:ClockSkewSeconds: {options.ClockSkewSeconds} is outside 0..300.");
        if (options.MaxTokenLifetimeSeconds is < 60 or > 86_400) failures.Add($"Security:MaxTokenLifetimeSeconds: {options.MaxTokenLifetimeSeconds} is outside 60..86400.");
        if (options.JwksCacheSeconds is < 60 or > 86_400) failures.Add($"Security:JwksCacheSeconds: {options.JwksCacheSeconds} is outside 60..86400.");
        if (options.JwksRefreshIntervalSeconds is < 1 or > 3600) failures.Add($"Security:JwksRefreshIntervalSeconds: {options.JwksRefreshIntervalSeconds} is outside 1..3600.");
        if (options.ReplayCacheCapacity < 1000) failures.Add($"Security:ReplayCacheCapacity: {options.ReplayCacheCapacity} is below 1000.");

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Issuers.Count; i++)
        {
            var issuer = options.Issuers[i];
            var key = $"Security:Issuers:{i}";
            if (string.IsNullOrWhiteSpace(issuer.Issuer)) failures.Add($"{key}:Issuer: the issuer (the tokens' iss claim) is required.");
            else if (!seen.Add(issuer.Issuer)) failures.Add($"{key}:Issuer: '{issuer.Issuer}' is configured twice.");
            if (!issuer.JwksUrls.Any() && string.IsNullOrWhiteSpace(issuer.Jwks))
            {
                failures.Add($"{key}: issuer '{issuer.Issuer}' has no keys: set {key}:JwksUrl or {key}:Jwks.");
            }
            if (issuer.JwksUrl is { Length: > 0 } jwksUrl) CheckUrl(failures, $"{key}:JwksUrl", jwksUrl, options.AllowHttpJwks);
            for (var j = 0; j < issuer.AllowedJku.Count; j++) CheckUrl(failures, $"{key}:AllowedJku:{j}", issuer.AllowedJku[j], options.AllowHttpJwks);
            if (issuer.Jwks is { Length: > 0 } jwks)
            {
                try
                {
                    if (JsonWebKeys.Parse(jwks).Count == 0) failures.Add($"{key}:Jwks: no usable signing key (EC or RSA public key with a kid).");
                }
                catch (ArgumentException ex)
                {
                    failures.Add($"{key}:Jwks: not a JWKS: {ex.Message}");
                }
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public ValidateOptionsResult Validate(string? name, CdsCorsOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            var origin = options.AllowedOrigins[i];
            if (origin == "*")
            {
                // A wildcard lets any web page drive the service from a clinician's browser: Development only.
                if (!environment.IsDevelopment())
                {
                    failures.Add($"Cors:AllowedOrigins:{i}: '*' is allowed only in Development (environment is '{environment.EnvironmentName}'); " +
                        "list the browser clients' origins, e.g. Cors__AllowedOrigins__0=https://sandbox.cds-hooks.org.");
                }
            }
            else if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.PathAndQuery != "/" || origin.EndsWith('/'))
            {
                failures.Add($"Cors:AllowedOrigins:{i}: '{origin}' is not an origin (scheme://host[:port], no path or trailing slash).");
            }
        }
        if (options.PreflightMaxAgeSeconds is < 0 or > 86_400) failures.Add($"Cors:PreflightMaxAgeSeconds: {options.PreflightMaxAgeSeconds} is outside 0..86400.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public ValidateOptionsResult Validate(string? name, RequestLimitsOptions options)
    {
        var failures = new List<string>();
        if (options.MaxRequestBodyBytes is < 16 * 1024 or > 100 * 1024 * 1024)
        {
            failures.Add($"Limits:MaxRequestBodyBytes: {options.MaxRequestBodyBytes} is outside 16 KiB..100 MiB.");
        }
        if (options.RequestsPerMinutePerClient < 0) failures.Add($"Limits:RequestsPerMinutePerClient: {options.RequestsPerMinutePerClient} is negative (0 turns the limit off).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckUrl(List<string> failures, string key, string url, bool allowHttp)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            failures.Add($"{key}: '{url}' is not an absolute https URL.");
        }
        else if (uri.Scheme == "http" && !allowHttp)
        {
            failures.Add($"{key}: '{url}' uses http; JWKS must be fetched over https (Security:AllowHttpJwks=true permits http, for loopback tests only).");
        }
    }
}
