using System.Diagnostics;
using System.Diagnostics.Metrics;
using CdsHooks.Api.Telemetry;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CdsHooks.Api.Security;

/// <summary>
/// Authenticates every request under <see cref="CdsSecurity.ProtectedPaths"/> by path, before routing picks
/// an endpoint, so endpoints added there later (feedback, analytics) are covered without opting in. A refused
/// call gets a bare 401 (CDS Hooks 2.0 §Trusting CDS Clients); the reason goes to the log, never the token.
/// </summary>
internal sealed partial class CdsClientAuthenticationMiddleware(
    RequestDelegate next,
    ClientTokenValidator validator,
    IOptions<CdsClientSecurityOptions> options,
    IMeterFactory meters,
    ILogger<CdsClientAuthenticationMiddleware> logger)
{
    public const string MeterName = "CdsHooks.Security";

    /// <summary>Seconds a client is asked to wait when its token cannot be checked: Redis reconnects within ~2 s.</summary>
    public const int UnavailableRetryAfterSeconds = 2;

    private readonly bool _requireJwt = options.Value.RequireJwt ?? true;
    private readonly string? _publicBaseUrl = options.Value.PublicBaseUrl is { Length: > 0 } url ? url.TrimEnd('/') : null;
    private readonly Counter<long> _unavailable = meters.Create(MeterName).CreateCounter<long>(
        "cds.auth.unavailable", "{call}", "Calls answered 503 because their client JWT could not be checked (the jti store did not answer).");
    private readonly Counter<long> _refused = meters.Create(MeterName).CreateCounter<long>(
        "cds.auth.refused", "{call}", "Calls answered 401, by reason (cds.auth.reason: missing, malformed, header, issuer, key, signature, audience, lifetime, replay, tenant, invalid).");

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!CdsSecurity.IsProtected(request.Path) || IsPreflight(request))
        {
            await next(context);
            return;
        }

        var authorization = request.Headers.Authorization;
        // Open mode: calls without a token pass; without issuers, tokens cannot be checked and are ignored
        // (the Sandbox always sends one). With issuers configured, a token that is sent must be valid.
        if (!_requireJwt && (authorization.Count == 0 || !validator.HasIssuers))
        {
            await next(context);
            return;
        }

        var path = request.Path.Value ?? "";
        ClientTokenResult result;
        // Its own span, ended before the rest of the call runs (which is not part of authentication).
        using (var span = CdsTelemetry.Source.StartActivity(CdsTelemetry.AuthenticateSpan))
        {
            result = authorization.Count != 1 || BearerToken(authorization[0]) is not { } token
                ? ClientTokenResult.Refused(authorization.Count == 0 ? ClientTokenRefusal.Missing : ClientTokenRefusal.Malformed,
                    authorization.Count == 0 ? "no Authorization header" : "Authorization is not a single Bearer token")
                : await validator.ValidateAsync(token, AudienceOf(request), context.RequestAborted);
            Describe(span, result);
        }
        if (result.Unavailable)
        {
            // Logged once per episode by StoreHealth; per call only at Debug.
            LogCannotCheck(logger, request.Method, path, result.Failure ?? "store unavailable");
            _unavailable.Add(1);
            await CannotCheckAsync(context);
            return;
        }
        if (result.Client is not { } client)
        {
            _refused.Add(1, new KeyValuePair<string, object?>(CdsTelemetry.AuthReason, result.Refusal.Code()));
            LogRefused(logger, request.Method, path, result.Failure ?? "invalid");
            Refuse(context);
            return;
        }
        context.Features.Set(client);
        context.User = client.ToPrincipal();
        LogAuthenticated(logger, client.Issuer, path);
        await next(context);
    }

    /// <summary>The span says accepted (and by which configured issuer), refused (with the reason code) or unavailable; never the token.</summary>
    private static void Describe(Activity? span, ClientTokenResult result)
    {
        if (span is not { IsAllDataRequested: true }) return;
        if (result.Client is { } client)
        {
            span.SetTag(CdsTelemetry.AuthOutcome, "accepted");
            span.SetTag(CdsTelemetry.ClientIssuer, client.Issuer);
            return;
        }
        span.SetTag(CdsTelemetry.AuthOutcome, result.Unavailable ? "unavailable" : "refused");
        if (!result.Unavailable) span.SetTag(CdsTelemetry.AuthReason, result.Refusal.Code());
        span.SetStatus(ActivityStatusCode.Error, result.Unavailable ? "unavailable" : result.Refusal.Code());
    }

    /// <summary>The URL the client called, which the token's <c>aud</c> must equal: the public base URL when configured.</summary>
    private string AudienceOf(HttpRequest request) => _publicBaseUrl is { } baseUrl
        ? baseUrl + request.Path.ToUriComponent()
        : $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}{request.Path.ToUriComponent()}";

    private static string? BearerToken(string? header)
    {
        const string Scheme = "Bearer ";
        if (header is null || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)) return null;
        var token = header[Scheme.Length..].Trim();
        return token.Length > 0 ? token : null;
    }

    /// <summary>Browsers send CORS preflights without credentials; the CORS middleware answers them.</summary>
    private static bool IsPreflight(HttpRequest request) =>
        HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey(CorsConstants.Origin) && request.Headers.ContainsKey(CorsConstants.AccessControlRequestMethod);

    /// <summary>A bare 401: no body, not even the problem details the status-code-pages middleware would add.</summary>
    private static void Refuse(HttpContext context)
    {
        context.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        context.Response.ContentLength = 0;
    }

    /// <summary>
    /// Fail closed, but not the client's fault: 503 problem details with <c>Retry-After</c>. The token is not accepted
    /// (its jti may even have been recorded), so a retry needs a new one, as every CDS Hooks call has anyway.
    /// </summary>
    private static Task CannotCheckAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = UnavailableRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Client token cannot be checked",
                Detail = "The store that detects replayed tokens is unavailable, so the token was not accepted and nothing was done. Retry with a new token.",
            },
        }).AsTask();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "503 for {Method} {Path}: {Reason}")]
    private static partial void LogCannotCheck(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "401 for {Method} {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Authenticated CDS client {Issuer} for {Path}")]
    private static partial void LogAuthenticated(ILogger logger, string issuer, string path);
}
