using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using CdsHooks.Api.Analytics;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Security;

/// <summary>
/// Authentication scheme <see cref="SchemeName"/>: with <c>Analytics:ApiKey</c> set, the key an operator's tool sends in
/// <see cref="HeaderName"/> (compared in constant time). Policy <see cref="CdsAuthorization.AnalyticsReader"/> asks for
/// it on top of the client JWT. A refusal is a bare 401 without a challenge header, as before; the dashboard
/// exchanges the same key for a session cookie of its own (<c>DashboardAccess</c>).
/// </summary>
internal sealed class AnalyticsApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    UrlEncoder encoder,
    IOptions<AnalyticsOptions> analytics)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, NullLoggerFactory.Instance, encoder)
{
    public const string SchemeName = "AnalyticsApiKey";
    public const string HeaderName = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!analytics.Value.RequiresApiKey) return Task.FromResult(AuthenticateResult.NoResult());
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(analytics.Value.ApiKey!.Trim()));
        var sent = SHA256.HashData(Encoding.UTF8.GetBytes(Request.Headers[HeaderName].ToString()));
        return Task.FromResult(CryptographicOperations.FixedTimeEquals(expected, sent)
            ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(SchemeName)), SchemeName))
            : AuthenticateResult.Fail(HeaderName + " is missing or is not Analytics:ApiKey"));
    }

    /// <summary>A bare 401, unless the client JWT's scheme already answered (a 503 when its token could not be checked).</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (!Response.HasStarted) CdsClientAuthenticationHandler.WriteUnauthorized(Context, bearerChallenge: false);
        return Task.CompletedTask;
    }

    /// <summary>The policy forbids when the JWT was accepted and the key was not: for the client, that is a 401 as well.</summary>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => HandleChallengeAsync(properties);
}
