using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Security;

/// <summary>
/// What one request and one client may cost (<c>Limits:*</c>): the body size cap (413) and the per-client rate limit
/// under <see cref="CdsSecurity.ProtectedPaths"/> (429 with <c>Retry-After</c>), partitioned by the authenticated
/// <c>iss</c> (by remote address in open mode).
/// </summary>
internal static partial class RequestLimits
{
    public static IServiceCollection AddRequestLimits(this IServiceCollection services)
    {
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitsOptions>>((kestrel, limits) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes;
        });

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RequestLimitsOptions>, ILoggerFactory>((limiter, limits, loggers) =>
        {
            var perMinute = limits.Value.RequestsPerMinutePerClient;
            var logger = loggers.CreateLogger(typeof(RequestLimits));
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                perMinute == 0 || !CdsSecurity.IsProtected(context.Request.Path)
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

    /// <summary>The body cap, early in the pipeline: nothing reads a body before it.</summary>
    public static IApplicationBuilder UseRequestBodyCap(this IApplicationBuilder app, long maxBytes) =>
        app.Use((context, next) => CapRequestBodyAsync(context, next, maxBytes));

    /// <summary>The rate limit partition: the authenticated issuer, or the remote address in open mode.</summary>
    private static string ClientKey(HttpContext context) =>
        context.GetCdsClient() is { } client ? "iss:" + client.Issuer : "ip:" + context.Connection.RemoteIpAddress;

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

    [LoggerMessage(Level = LogLevel.Information, Message = "429 for {Client}: over {PerMinute} calls per minute")]
    private static partial void LogRateLimited(ILogger logger, string client, int perMinute);
}
