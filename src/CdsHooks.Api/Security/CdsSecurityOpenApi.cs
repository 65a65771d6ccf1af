using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CdsHooks.Api.Security;

/// <summary>
/// Describes the client JWT in the OpenAPI document: a bearer scheme, required on every operation under the
/// protected paths, with the 401, 413, 429 and 503 answers the edge adds whatever the endpoint.
/// </summary>
internal static class CdsSecurityOpenApi
{
    public const string SchemeId = "cdsClientJwt";

    public static Task DescribeAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A JWT signed by the CDS client (ES384/RS384), aud = the URL called (CDS Hooks 2.0 §Trusting CDS Clients).",
        };
        foreach (var (path, item) in document.Paths)
        {
            if (!CdsSecurity.IsProtected(new PathString(path)) || item.Operations is null) continue;
            foreach (var operation in item.Operations.Values)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, document)] = [] });
                operation.Responses ??= [];
                operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing or invalid client JWT. The body is empty." });
                operation.Responses.TryAdd("413", new OpenApiResponse { Description = "Body larger than Limits:MaxRequestBodyBytes (problem details)." });
                operation.Responses.TryAdd("429", new OpenApiResponse { Description = "Client over Limits:RequestsPerMinutePerClient; see Retry-After (problem details)." });
                operation.Responses.TryAdd("503", new OpenApiResponse { Description = "The client JWT could not be checked (its jti store is unavailable) and was not accepted; see Retry-After (problem details)." });
            }
        }
        return Task.CompletedTask;
    }
}
