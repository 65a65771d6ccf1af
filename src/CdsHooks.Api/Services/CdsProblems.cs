using Microsoft.AspNetCore.Http.HttpResults;

namespace CdsHooks.Api.Services;

/// <summary>Problem details shared by every endpoint under <c>/cds-services/{id}</c>.</summary>
public static class CdsProblems
{
    public static ProblemHttpResult UnknownService() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown CDS service",
            detail: "No CDS service has this id. GET /cds-services lists the services.");

    public static ProblemHttpResult NotJson(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
            detail: $"Send the {what} as application/json.");
}
