using CdsHooks.Storage;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CdsHooks.Api.Security;

/// <summary>
/// Who may call the service and what a call may cost: client JWT authentication (CDS Hooks 2.0 §Trusting CDS
/// Clients), CORS for browser clients, body size and per-client rate limits (<see cref="RequestLimits"/>) and
/// security headers (<see cref="SecurityHeaders"/>). The FHIR servers the service may call on a client's behalf
/// (its SSRF defence) are <see cref="FhirServerAllowlist"/>, registered with the FHIR fallback that uses it.
/// </summary>
public static partial class CdsSecurity
{
    /// <summary>
    /// Every path under these prefixes needs an authenticated client: discovery, services, feedback, analytics. Their
    /// routes name a policy of <see cref="CdsAuthorization"/> (a test fails for one that does not), and the fallback
    /// policy refuses anything else under them — an unknown path, another method — without a client. To protect a new
    /// area, add its prefix here and name a policy at its routes.
    /// </summary>
    public static readonly IReadOnlyList<PathString> ProtectedPaths = ["/cds-services", "/analytics"];

    public const string CorsPolicyName = "CdsClients";

    public static bool IsProtected(PathString path) => ProtectedPaths.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    public static IServiceCollection AddCdsSecurity(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<CdsClientSecurityOptions>().Bind(configuration.GetSection(CdsClientSecurityOptions.Section)).ValidateOnStart();
        services.AddOptions<CdsCorsOptions>().Bind(configuration.GetSection(CdsCorsOptions.Section)).ValidateOnStart();
        services.AddOptions<RequestLimitsOptions>().Bind(configuration.GetSection(RequestLimitsOptions.Section)).ValidateOnStart();
        var defaults = new CdsClientSecurityDefaults(environment);
        services.AddSingleton<IPostConfigureOptions<CdsClientSecurityOptions>>(defaults);
        services.AddSingleton<IPostConfigureOptions<CdsCorsOptions>>(defaults);
        var validator = new CdsClientSecurityOptionsValidator(environment);
        services.AddSingleton<IValidateOptions<CdsClientSecurityOptions>>(validator);
        services.AddSingleton<IValidateOptions<CdsCorsOptions>>(validator);
        services.AddSingleton<IValidateOptions<RequestLimitsOptions>>(validator);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IJtiReplayStore, InMemoryJtiReplayStore>();
        services.AddSingleton<JwksKeyCache>();
        services.AddSingleton<ClientTokenValidator>();
        services.AddHttpClient(JwksKeyCache.HttpClientName, c =>
            {
                c.Timeout = TimeSpan.FromSeconds(10);
                c.MaxResponseContentBufferSize = 256 * 1024;
                c.DefaultRequestHeaders.Accept.ParseAdd("application/json");
            })
            // A redirect could lead off the allowlist: JWKS URLs are fetched exactly as configured.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(5) });

        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<CdsCorsOptions>>((cors, configured) => cors.AddPolicy(CorsPolicyName, policy =>
        {
            var origins = configured.Value.AllowedOrigins;
            if (origins.Contains("*")) policy.AllowAnyOrigin();
            else policy.WithOrigins([.. origins]);
            // What a CDS client sends: a JSON body and the bearer JWT (CDS Hooks 2.0 §CORS).
            policy.WithMethods(HttpMethods.Get, HttpMethods.Post)
                .WithHeaders(HeaderNames.Authorization, HeaderNames.ContentType)
                .SetPreflightMaxAge(TimeSpan.FromSeconds(configured.Value.PreflightMaxAgeSeconds));
        }));

        services.AddCdsAuthorization();
        services.AddRequestLimits();

        // The OpenAPI document says which operations need the JWT (from their routes' policies) and what the edge may answer.
        services.ConfigureAll<OpenApiOptions>(o => o.AddOperationTransformer(CdsSecurityOpenApi.DescribeAsync));
        return services;
    }

    /// <summary>
    /// The edge of the pipeline, in order: security headers, body size cap, CORS (answers preflights without a JWT),
    /// the route's authorization policy (<see cref="CdsAuthorization"/>: it authenticates the client where the route asks
    /// for one), then the per-client rate limit (which needs the authenticated <c>iss</c>). Call after the exception
    /// handler and status code pages.
    /// </summary>
    public static WebApplication UseCdsSecurity(this WebApplication app)
    {
        var security = app.Services.GetRequiredService<IOptions<CdsClientSecurityOptions>>().Value;
        var limits = app.Services.GetRequiredService<IOptions<RequestLimitsOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CdsSecurity));
        if (security.RequireJwt == false)
        {
            LogOpenMode(logger, app.Environment.EnvironmentName, security.Issuers.Count);
        }
        else
        {
            LogClosedMode(logger, string.Join(", ", security.Issuers.Select(i => i.Issuer)));
        }

        app.UseSecurityHeaders();
        app.UseRequestBodyCap(limits.MaxRequestBodyBytes);
        app.UseCors(CorsPolicyName);
        // No default scheme, so this authenticates nothing by itself: each policy names the schemes it reads.
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "!!! CDS client authentication is OFF (environment {Environment}, {IssuerCount} issuers): " +
        "calls without a JWT are accepted. Set Security__RequireJwt=true and configure Security__Issuers__0__Issuer and " +
        "Security__Issuers__0__JwksUrl before exposing this service")]
    private static partial void LogOpenMode(ILogger logger, string environment, int issuerCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "CDS client authentication required; trusted issuers: {Issuers}")]
    private static partial void LogClosedMode(ILogger logger, string issuers);
}
