using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Encodings.Web;
using CdsHooks.Api.Telemetry;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CdsHooks.Api.Security;

/// <summary>
/// Authentication scheme <see cref="SchemeName"/>: the JWT a CDS client signs each call with (CDS Hooks 2.0 §Trusting CDS
/// Clients), checked by <see cref="ClientTokenValidator"/>. It runs only where a route's policy names it
/// (<see cref="CdsAuthorization"/>; there is no default authentication scheme), so a token sent anywhere else is not read.
/// <list type="bullet">
/// <item>Accepted: the client's principal, and the client as <see cref="CdsClientHttpContextExtensions.GetCdsClient"/>.</item>
/// <item>No result: open mode (<c>Security:RequireJwt=false</c>) and no token, or no issuer to check one against.</item>
/// <item>Failed with <see cref="ClientTokenNotAcceptedException"/>: refused (the challenge is a bare 401), or not
/// checkable because the jti store did not answer (the challenge is a 503 with <c>Retry-After</c>).</item>
/// </list>
/// The reason goes to the log once, when the refusal is answered; never the token.
/// </summary>
internal sealed partial class CdsClientAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    UrlEncoder encoder,
    ClientTokenValidator validator,
    IOptions<CdsClientSecurityOptions> security,
    ClientAuthenticationMetrics metrics,
    ILogger<CdsClientAuthenticationHandler> logger)
    // The base class's own log lines ("… was not authenticated", "… was challenged", at Information) would repeat
    // each refusal; this handler logs its outcome once, with the reason.
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, NullLoggerFactory.Instance, encoder)
{
    public const string SchemeName = "CdsClientJwt";

    /// <summary>Seconds a client is asked to wait when its token cannot be checked: Redis reconnects within ~2 s.</summary>
    public const int UnavailableRetryAfterSeconds = 2;

    private readonly bool _requireJwt = security.Value.RequireJwt ?? true;
    private readonly string? _publicBaseUrl = security.Value.PublicBaseUrl is { Length: > 0 } url ? url.TrimEnd('/') : null;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var authorization = Request.Headers.Authorization;
        // Open mode: calls without a token pass; without issuers, tokens cannot be checked and are ignored
        // (the Sandbox always sends one). With issuers configured, a token that is sent must be valid.
        if (!_requireJwt && (authorization.Count == 0 || !validator.HasIssuers)) return AuthenticateResult.NoResult();

        ClientTokenResult result;
        // Its own span, ended before the rest of the call runs (which is not part of authentication).
        using (var span = CdsTelemetry.Source.StartActivity(CdsTelemetry.AuthenticateSpan))
        {
            result = authorization.Count != 1 || BearerToken(authorization[0]) is not { } token
                ? ClientTokenResult.Refused(authorization.Count == 0 ? ClientTokenRefusal.Missing : ClientTokenRefusal.Malformed,
                    authorization.Count == 0 ? "no Authorization header" : "Authorization is not a single Bearer token")
                : await validator.ValidateAsync(token, AudienceOf(Request), Context.RequestAborted);
            Describe(span, result);
        }
        if (result.Client is not { } client) return AuthenticateResult.Fail(new ClientTokenNotAcceptedException(result));

        Context.Features.Set(client);
        LogAuthenticated(logger, client.Issuer, Request.Path.Value ?? "");
        return AuthenticateResult.Success(new AuthenticationTicket(client.ToPrincipal(), SchemeName));
    }

    /// <summary>
    /// The answer to a call the route's policy refused: 503 when the token could not be checked, else a bare 401 —
    /// with the <c>Bearer</c> challenge, logged and counted when it was this token that was refused (not when
    /// another credential of the policy was, such as the analytics key).
    /// </summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Response.HasStarted) return;
        var outcome = await HandleAuthenticateOnceSafeAsync();
        var method = Request.Method;
        var path = Request.Path.Value ?? "";
        if (outcome.Failure is not ClientTokenNotAcceptedException { Result: var result })
        {
            WriteUnauthorized(Context, bearerChallenge: false);
            return;
        }
        if (result.Unavailable)
        {
            // Logged once per episode by StoreHealth; per call only at Debug.
            LogCannotCheck(logger, method, path, result.Failure ?? "store unavailable");
            metrics.Unavailable();
            await CannotCheckAsync(Context);
            return;
        }
        metrics.Refused(result.Refusal);
        LogRefused(logger, method, path, result.Failure ?? "invalid");
        WriteUnauthorized(Context, bearerChallenge: true);
    }

    /// <summary>
    /// A policy that combines this scheme with another (the analytics key) forbids when one of them succeeded and the
    /// other did not; CDS Hooks has no 403 for that: it is the same refusal as a challenge.
    /// </summary>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => HandleChallengeAsync(properties);

    /// <summary>A bare 401: no body, not even the problem details the status-code-pages middleware would add.</summary>
    internal static void WriteUnauthorized(HttpContext context, bool bearerChallenge)
    {
        context.Features.Get<IStatusCodePagesFeature>()?.Enabled = false;
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        if (bearerChallenge) context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        context.Response.ContentLength = 0;
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
        const string Bearer = "Bearer ";
        if (header is null || !header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase)) return null;
        var token = header[Bearer.Length..].Trim();
        return token.Length > 0 ? token : null;
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

/// <summary>
/// Why a client JWT was not accepted, as the authentication failure of <see cref="CdsClientAuthenticationHandler"/>:
/// <see cref="ClientTokenResult.Unavailable"/> (503) or refused (401). Never thrown; its message is the reason, never the token.
/// </summary>
internal sealed class ClientTokenNotAcceptedException(ClientTokenResult result) : Exception(result.Failure)
{
    public ClientTokenResult Result { get; } = result;
}

/// <summary>The security meter: calls refused by reason, and calls whose token could not be checked.</summary>
internal sealed class ClientAuthenticationMetrics
{
    public const string MeterName = "CdsHooks.Security";

    private readonly Counter<long> _unavailable;
    private readonly Counter<long> _refused;

    public ClientAuthenticationMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _unavailable = meter.CreateCounter<long>(
            "cds.auth.unavailable", "{call}", "Calls answered 503 because their client JWT could not be checked (the jti store did not answer).");
        _refused = meter.CreateCounter<long>(
            "cds.auth.refused", "{call}", "Calls answered 401, by reason (cds.auth.reason: missing, malformed, header, issuer, key, signature, audience, lifetime, replay, tenant, invalid).");
    }

    public void Unavailable() => _unavailable.Add(1);

    public void Refused(ClientTokenRefusal refusal) => _refused.Add(1, new KeyValuePair<string, object?>(CdsTelemetry.AuthReason, refusal.Code()));
}
