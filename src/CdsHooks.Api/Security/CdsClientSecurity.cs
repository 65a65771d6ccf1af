using System.Globalization;
using System.Threading.RateLimiting;
using CdsHooks.Storage;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CdsHooks.Api.Security;

/// <summary>
/// Who may call the CDS services and what a call may cost: client JWT authentication (CDS Hooks 2.0 §Trusting CDS
/// Clients), CORS for browser clients, body size and per-client rate limits, and security headers.
/// </summary>
public static partial class CdsClientSecurity
{
    /// <summary>
    /// Every path under these prefixes needs an authenticated client, whatever endpoint is (or is not) mapped there:
    /// discovery, services, feedback, analytics. Add a prefix here to protect a new area.
    /// </summary>
    public static readonly IReadOnlyList<PathString> ProtectedPaths = ["/cds-services", "/analytics"];

    public const string CorsPolicyName = "CdsClients";

    public static bool IsProtected(PathString path) => ProtectedPaths.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    public static IServiceCollection AddCdsClientSecurity(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
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

        services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitsOptions>>((kestrel, limits) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes;
        });

        // The OpenAPI document says which operations need the JWT and what the edge may answer.
        services.ConfigureAll<OpenApiOptions>(o => o.AddDocumentTransformer(CdsClientSecurityOpenApi.DescribeAsync));

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RequestLimitsOptions>, ILoggerFactory>((limiter, limits, loggers) =>
        {
            var perMinute = limits.Value.RequestsPerMinutePerClient;
            var logger = loggers.CreateLogger(typeof(CdsClientSecurity));
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                perMinute == 0 || !IsProtected(context.Request.Path)
                    ? RateLimitPartition.GetNoLimiter("")
                    : RateLimitPartition.GetFixedWindowLimiter(ClientKey(context), _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = perMinute,
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                    }));
            limiter.OnRejected = (rejected, _) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                rejected.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                LogRateLimited(logger, ClientKey(rejected.HttpContext), perMinute);
                return ValueTask.CompletedTask;
            };
        });
        return services;
    }

    /// <summary>
    /// The edge of the pipeline, in order: security headers, body size cap, CORS (answers preflights without a JWT),
    /// client authentication by path, then the per-client rate limit (which needs the authenticated <c>iss</c>).
    /// Call after the exception handler and status code pages, before the endpoints are mapped.
    /// </summary>
    public static WebApplication UseCdsClientSecurity(this WebApplication app)
    {
        var security = app.Services.GetRequiredService<IOptions<CdsClientSecurityOptions>>().Value;
        var limits = app.Services.GetRequiredService<IOptions<RequestLimitsOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(CdsClientSecurity));
        if (security.RequireJwt == false)
        {
            LogOpenMode(logger, app.Environment.EnvironmentName, security.Issuers.Count);
        }
        else
        {
            LogClosedMode(logger, string.Join(", ", security.Issuers.Select(i => i.Issuer)));
        }

        app.Use((context, next) =>
        {
            context.Response.OnStarting(AddSecurityHeaders, context);
            return next(context);
        });
        app.Use((context, next) => CapRequestBodyAsync(context, next, limits.MaxRequestBodyBytes));
        app.UseCors(CorsPolicyName);
        app.UseMiddleware<CdsClientAuthenticationMiddleware>();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>The rate limit partition: the authenticated issuer, or the remote address in open mode.</summary>
    private static string ClientKey(HttpContext context) =>
        context.GetCdsClient() is { } client ? "iss:" + client.Issuer : "ip:" + context.Connection.RemoteIpAddress;

    private static Task AddSecurityHeaders(object state)
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // JSON only: nothing here may load scripts or be framed. An area serving HTML (the dashboard) sets its own, kept here.
        if (!CdsClientSecurity.IsProtected(context.Request.Path) && headers.ContainsKey(HeaderNames.ContentSecurityPolicy)) return Task.CompletedTask;
        headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
        // Cards are about one patient at one moment: no cache may keep them.
        if (IsProtected(context.Request.Path)) headers.CacheControl = "no-store";
        return Task.CompletedTask;
    }

    /// <summary>
    /// A declared length over the cap is refused before the body is read; a chunked body is cut off by the server
    /// limit while it is read. Both answer 413 with problem details.
    /// </summary>
    private static async Task CapRequestBodyAsync(HttpContext context, RequestDelegate next, long maxBytes)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = maxBytes;
        if (context.Request.ContentLength > maxBytes)
        {
            await WriteTooLargeAsync(context, maxBytes);
            return;
        }
        try
        {
            await next(context);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            await WriteTooLargeAsync(context, maxBytes);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // The client sent less than it announced, broke off mid-body or framed it wrongly (bad chunk size): its
            // fault, a 4xx, never a 500. Kestrel's messages name the framing error, never the body's content.
            context.Response.StatusCode = ex.StatusCode;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = ex.StatusCode,
                    Title = "Unreadable request body",
                    Detail = ex.Message,
                },
            });
        }
    }

    private static async Task WriteTooLargeAsync(HttpContext context, long maxBytes)
    {
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status413PayloadTooLarge,
                Title = "Request body too large",
                Detail = $"The request body may be at most {maxBytes} bytes (Limits:MaxRequestBodyBytes).",
            },
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "!!! CDS client authentication is OFF (environment {Environment}, {IssuerCount} issuers): " +
        "calls without a JWT are accepted. Set Security__RequireJwt=true and configure Security__Issuers__0__Issuer and " +
        "Security__Issuers__0__JwksUrl before exposing this service")]
    private static partial void LogOpenMode(ILogger logger, string environment, int issuerCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "CDS client authentication required; trusted issuers: {Issuers}")]
    private static partial void LogClosedMode(ILogger logger, string issuers);

    [LoggerMessage(Level = LogLevel.Information, Message = "429 for {Client}: over {PerMinute} calls per minute")]
    private static partial void LogRateLimited(ILogger logger, string client, int perMinute);
}
