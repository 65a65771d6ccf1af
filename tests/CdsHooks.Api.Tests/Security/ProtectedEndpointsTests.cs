using CdsHooks.Api.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Security;

/// <summary>
/// The routes say who may call them: every endpoint mapped under <see cref="CdsSecurity.ProtectedPaths"/> names a
/// CDS policy and none allows anonymous calls, so an endpoint added there without one fails here (the fallback policy
/// would still refuse calls to it). Nothing authenticates by default.
/// </summary>
public sealed class ProtectedEndpointsTests(SecuredCdsServiceHost host) : IClassFixture<SecuredCdsServiceHost>
{
    private static readonly string[] CdsPolicies = [CdsAuthorization.CdsClient, CdsAuthorization.AnalyticsReader];

    private List<RouteEndpoint> ProtectedEndpoints()
    {
        _ = host.Client;
        return [.. host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => CdsSecurity.IsProtected(new PathString("/" + e.RoutePattern.RawText?.TrimStart('/'))))];
    }

    private static string Describe(RouteEndpoint endpoint) =>
        $"{string.Join(',', endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])} /{endpoint.RoutePattern.RawText?.TrimStart('/')}";

    [Fact]
    public void EveryEndpointUnderProtectedPaths_NamesACdsPolicy_AndNoneAllowsAnonymous()
    {
        var endpoints = ProtectedEndpoints();
        Assert.All(endpoints, endpoint =>
        {
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            Assert.True(policies.Any(CdsPolicies.Contains), $"{Describe(endpoint)} names no CDS policy");
            Assert.True(endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null, $"{Describe(endpoint)} allows anonymous calls");
        });
        // Not vacuous: the endpoints the service maps there today are all seen.
        Assert.Equal(
            ["GET /analytics/cards", "GET /analytics/cards/report", "GET /cds-services/", "POST /cds-services/{id}", "POST /cds-services/{id}/feedback"],
            endpoints.Select(Describe).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AnalyticsEndpoints_NameTheAnalyticsPolicy_CdsServiceEndpointsTheClientPolicy()
    {
        foreach (var endpoint in ProtectedEndpoints())
        {
            var expected = Describe(endpoint).Contains(" /analytics", StringComparison.Ordinal) ? CdsAuthorization.AnalyticsReader : CdsAuthorization.CdsClient;
            Assert.Contains(expected, endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy));
        }
    }

    [Fact]
    public async Task NoDefaultAuthenticationScheme_SoNothingIsAuthenticatedUnlessARoutesPolicyAsks()
    {
        _ = host.Client;
        var schemes = host.Services.GetRequiredService<IAuthenticationSchemeProvider>();
        Assert.Null(await schemes.GetDefaultAuthenticateSchemeAsync());
        Assert.Equal(CdsClientAuthenticationHandler.SchemeName, (await schemes.GetDefaultChallengeSchemeAsync())?.Name);
    }
}
