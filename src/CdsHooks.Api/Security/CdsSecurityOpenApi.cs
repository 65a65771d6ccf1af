using CdsHooks.Api.Analytics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace CdsHooks.Api.Security;

/// <summary>
/// Describes the route policies in the OpenAPI document, from each endpoint's authorization metadata: an operation
/// whose route names <see cref="CdsAuthorization.CdsClient"/> or <see cref="CdsAuthorization.AnalyticsReader"/> requires
/// the client JWT (a bearer scheme), and the analytics key too when <c>Analytics:ApiKey</c> is set, with the 401, 413,
/// 429 and 503 answers the edge adds whatever the endpoint.
/// </summary>
internal static class CdsSecurityOpenApi
{
    public const string SchemeId = "cdsClientJwt";
    public const string ApiKeySchemeId = "analyticsApiKey";

    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var policies = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToList();
        if (!policies.Contains(CdsAuthorization.CdsClient) && !policies.Contains(CdsAuthorization.AnalyticsReader)) return Task.CompletedTask;
        var needsKey = policies.Contains(CdsAuthorization.AnalyticsReader)
            && context.ApplicationServices.GetRequiredService<IOptions<AnalyticsOptions>>().Value.RequiresApiKey;

        var document = context.Document ?? throw new InvalidOperationException("The operation transformer has no document.");
        var schemes = (document.Components ??= new OpenApiComponents()).SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        schemes.TryAdd(SchemeId, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A JWT signed by the CDS client (ES384/RS384), aud = the URL called (CDS Hooks 2.0 §Trusting CDS Clients).",
        });
        var requirement = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, document)] = [] };
        if (needsKey)
        {
            schemes.TryAdd(ApiKeySchemeId, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = AnalyticsApiKeyAuthenticationHandler.HeaderName,
                Description = "Analytics:ApiKey, required on top of the client JWT.",
            });
            requirement[new OpenApiSecuritySchemeReference(ApiKeySchemeId, document)] = [];
        }
        (operation.Security ??= []).Add(requirement);
        operation.Responses ??= [];
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing or invalid client JWT" + (needsKey ? " or analytics key" : "") + ". The body is empty." });
        operation.Responses.TryAdd("413", new OpenApiResponse { Description = "Body larger than Limits:MaxRequestBodyBytes (problem details)." });
        operation.Responses.TryAdd("429", new OpenApiResponse { Description = "Client over Limits:RequestsPerMinutePerClient; see Retry-After (problem details)." });
        operation.Responses.TryAdd("503", new OpenApiResponse { Description = "The client JWT could not be checked (its jti store is unavailable) and was not accepted; see Retry-After (problem details)." });
        return Task.CompletedTask;
    }
}
