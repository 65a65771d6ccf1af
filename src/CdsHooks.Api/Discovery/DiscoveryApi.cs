using CdsHooks.Api.Security;
using CdsHooks.Api.Services;
using CdsHooks.Protocol;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CdsHooks.Api.Discovery;

/// <summary><c>GET /cds-services</c> (CDS Hooks 2.0 §Discovery).</summary>
public static class DiscoveryApi
{
    public static RouteGroupBuilder MapDiscovery(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/cds-services").WithTags("Discovery").RequireAuthorization(CdsAuthorization.CdsClient);
        group.MapGet("", GetServices)
            .WithName("Discovery")
            .WithSummary("Lists the CDS services, their hooks and prefetch templates.");
        return group;
    }

    public static Ok<DiscoveryResponse> GetServices(CdsServiceCatalog catalog) =>
        TypedResults.Ok(new DiscoveryResponse { Services = [.. catalog.Services.Select(s => s.ToDescriptor())] });
}
