using System.Security.Claims;
using CdsHooks.Api.Analytics;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Security;

/// <summary>
/// Who may call which route. A route names its policy with <c>RequireAuthorization</c>; the fallback policy keeps every
/// other request under <see cref="CdsSecurity.ProtectedPaths"/> closed (an unknown path, a method the route does not
/// take, an endpoint mapped without a policy), as the path-based check before routing did.
/// </summary>
public static class CdsAuthorization
{
    /// <summary>A CDS client (EHR) whose JWT was accepted: discovery, services, feedback.</summary>
    public const string CdsClient = "CdsClient";

    /// <summary>A CDS client, and with <c>Analytics:ApiKey</c> set, that key in <c>X-Api-Key</c>: <c>/analytics</c>.</summary>
    public const string AnalyticsReader = "AnalyticsReader";

    internal static IServiceCollection AddCdsAuthorization(this IServiceCollection services)
    {
        services.AddSingleton<ClientAuthenticationMetrics>();
        // No default authentication scheme: a credential is read only where a route's policy names its scheme. The
        // default challenge is the client JWT's, for the fallback policy (which names no scheme).
        services.AddAuthentication(o => o.DefaultChallengeScheme = CdsClientAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, CdsClientAuthenticationHandler>(CdsClientAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AnalyticsApiKeyAuthenticationHandler>(AnalyticsApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<CdsClientSecurityOptions>, IOptions<AnalyticsOptions>>((authorization, security, analytics) =>
        {
            var client = new CdsClientRequirement(tokenRequired: security.Value.RequireJwt ?? true);
            authorization.AddPolicy(CdsClient, policy => policy
                .AddAuthenticationSchemes(CdsClientAuthenticationHandler.SchemeName)
                .AddRequirements(client));
            authorization.AddPolicy(AnalyticsReader, policy =>
            {
                policy.AddAuthenticationSchemes(CdsClientAuthenticationHandler.SchemeName).AddRequirements(client);
                if (analytics.Value.RequiresApiKey)
                {
                    policy.AddAuthenticationSchemes(AnalyticsApiKeyAuthenticationHandler.SchemeName).AddRequirements(new AnalyticsApiKeyRequirement());
                }
            });
            authorization.FallbackPolicy = new AuthorizationPolicyBuilder().AddRequirements(new ProtectedPathsRequirement(client)).Build();
        });
        return services;
    }

    internal static bool HasIdentity(ClaimsPrincipal user, string authenticationType) =>
        user.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType == authenticationType);
}

/// <summary>
/// The caller is the CDS client its JWT names. In open mode (<c>Security:RequireJwt=false</c>) a caller that sent no
/// token passes too; one whose token was refused does not.
/// </summary>
internal sealed class CdsClientRequirement(bool tokenRequired) : AuthorizationHandler<CdsClientRequirement>, IAuthorizationRequirement
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, CdsClientRequirement requirement)
    {
        if (await AdmitsAsync(context.User, context.Resource as HttpContext)) context.Succeed(requirement);
    }

    /// <summary>Whether <paramref name="user"/> (the principal of the scheme's result) may call as a CDS client.</summary>
    public async Task<bool> AdmitsAsync(ClaimsPrincipal user, HttpContext? http)
    {
        if (CdsAuthorization.HasIdentity(user, CdsClient.AuthenticationType)) return true;
        if (tokenRequired || http is null) return false;
        // The scheme's result is cached for the request: this asks what it found, without checking the token again.
        return (await http.AuthenticateAsync(CdsClientAuthenticationHandler.SchemeName)).None;
    }
}

/// <summary>
/// The fallback policy's requirement: a request whose endpoint names no policy needs a CDS client when its path is under
/// <see cref="CdsSecurity.ProtectedPaths"/>, and nothing elsewhere (health, OpenAPI, dashboard, explanation pages).
/// The scheme is asked only under those paths, so a token sent elsewhere is never read.
/// </summary>
internal sealed class ProtectedPathsRequirement(CdsClientRequirement client) : AuthorizationHandler<ProtectedPathsRequirement>, IAuthorizationRequirement
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ProtectedPathsRequirement requirement)
    {
        // Without the request (an app switch passes the endpoint instead) nothing can be decided: fail closed.
        if (context.Resource is not HttpContext http) return;
        if (!CdsSecurity.IsProtected(http.Request.Path))
        {
            context.Succeed(requirement);
            return;
        }
        var result = await http.AuthenticateAsync(CdsClientAuthenticationHandler.SchemeName);
        if (result.Succeeded) http.User = result.Principal;
        if (await client.AdmitsAsync(http.User, http)) context.Succeed(requirement);
    }
}

/// <summary>With <c>Analytics:ApiKey</c> set: the caller sent that key (<see cref="AnalyticsApiKeyAuthenticationHandler"/>).</summary>
internal sealed class AnalyticsApiKeyRequirement : AuthorizationHandler<AnalyticsApiKeyRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AnalyticsApiKeyRequirement requirement)
    {
        if (CdsAuthorization.HasIdentity(context.User, AnalyticsApiKeyAuthenticationHandler.SchemeName)) context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
