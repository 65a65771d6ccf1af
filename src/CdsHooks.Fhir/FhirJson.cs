using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CdsHooks.Fhir;

/// <summary>
/// FHIR JSON options for code that reads FHIR without the CDS Hooks wire model (the FHIR search client):
/// the same source-generated metadata, converter and depth limit as <c>CdsJson.Options</c>, which chains
/// <see cref="FhirJsonContext"/> in the same way.
/// </summary>
public static class FhirJson
{
    /// <summary>Nesting far deeper than any real FHIR resource is refused rather than parsed.</summary>
    public const int MaxDepth = 64;

    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static JsonTypeInfo<Resource> ResourceInfo { get; } = (JsonTypeInfo<Resource>)Options.GetTypeInfo(typeof(Resource));

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            MaxDepth = MaxDepth,
            TypeInfoResolver = FhirJsonContext.Default,
        };
        options.Converters.Add(new ResourceJsonConverter());
        options.MakeReadOnly();
        return options;
    }
}
