using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using CdsHooks.Fhir;

namespace CdsHooks.Protocol;

/// <summary>Source-generated JSON metadata for the CDS Hooks wire model.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    Converters = [typeof(ResourceJsonConverter)])]
[JsonSerializable(typeof(CdsRequest))]
[JsonSerializable(typeof(CdsResponse))]
[JsonSerializable(typeof(DiscoveryResponse))]
[JsonSerializable(typeof(FeedbackRequest))]
public sealed partial class CdsJsonContext : JsonSerializerContext;

/// <summary>The one place that decides how CDS Hooks JSON is written and read.</summary>
public static class CdsJson
{
    /// <summary>Nesting far deeper than any real FHIR resource is refused rather than parsed.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// The resolver chain every serializer in the service uses: CDS Hooks types, then FHIR types, with empty
    /// lists dropped from output (the spec forbids <c>[]</c> for absent optional fields, except <c>cards</c>).
    /// </summary>
    public static IJsonTypeInfoResolver Resolver { get; } =
        JsonTypeInfoResolver.Combine(CdsJsonContext.Default, FhirJsonContext.Default).WithAddedModifier(OmitEmptyLists);

    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static JsonTypeInfo<CdsRequest> RequestInfo { get; } = (JsonTypeInfo<CdsRequest>)Options.GetTypeInfo(typeof(CdsRequest));
    public static JsonTypeInfo<CdsResponse> ResponseInfo { get; } = (JsonTypeInfo<CdsResponse>)Options.GetTypeInfo(typeof(CdsResponse));
    public static JsonTypeInfo<FeedbackRequest> FeedbackInfo { get; } = (JsonTypeInfo<FeedbackRequest>)Options.GetTypeInfo(typeof(FeedbackRequest));

    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.MaxDepth = MaxDepth;
        options.TypeInfoResolverChain.Insert(0, Resolver);
        if (!options.Converters.Any(c => c is ResourceJsonConverter)) options.Converters.Add(new ResourceJsonConverter());
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions();
        Configure(options);
        options.MakeReadOnly();
        return options;
    }

    private static void OmitEmptyLists(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object) return;
        foreach (var property in typeInfo.Properties)
        {
            if (typeInfo.Type == typeof(CdsResponse) && property.Name == "cards") continue;
            if (property.PropertyType == typeof(string) || !typeof(ICollection).IsAssignableFrom(property.PropertyType)) continue;
            property.ShouldSerialize = static (_, value) => value is not (null or ICollection { Count: 0 });
        }
    }
}
