using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using CdsHooks.Fhir;

namespace CdsHooks.Fhir.Tests;

/// <summary>
/// The reading path <see cref="FhirReader"/> replaced, kept as the reference it is compared with: the same
/// <c>resourceType</c> lookahead, then the concrete type read by its source-generated metadata (the serializer's
/// object converters, <see cref="TolerantListConverter{T}"/> and <see cref="CommonStringConverter"/> from the
/// model's attributes), nested resources coming back here.
/// </summary>
internal static class MetadataReading
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static JsonTypeInfo<Resource> ResourceInfo { get; } = (JsonTypeInfo<Resource>)Options.GetTypeInfo(typeof(Resource));

    /// <summary>
    /// The service's FHIR options (naming, depth, metadata) with the replaced resource converter, and the DSTU2
    /// reference type for MedicationOrder.
    /// </summary>
    private static JsonSerializerOptions CreateOptions()
    {
        var options = Dstu2MedicationOrder.WithDstu2(FhirJson.Options);
        options.Converters.Clear();
        options.Converters.Add(new MetadataResourceConverter());
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Resources read on this thread through this path, nested ones included: proof the comparison compares.</summary>
    [ThreadStatic]
    private static int t_resourcesRead;

    public static int ResourcesRead => t_resourcesRead;

    private sealed class MetadataResourceConverter : JsonConverter<Resource>
    {
        public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(Resource);

        public override Resource? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            t_resourcesRead++;
            return ResourceJsonConverter.FindResourceType(reader).GetString() switch
            {
                "Bundle" => ReadWithMetadata<Bundle>(ref reader, options),
                "Patient" => ReadWithMetadata<Patient>(ref reader, options),
                "Observation" => ReadWithMetadata<Observation>(ref reader, options),
                "Condition" => ReadWithMetadata<Condition>(ref reader, options),
                "MedicationRequest" => ReadWithMetadata<MedicationRequest>(ref reader, options),
                // DSTU2: read under its own names, then mapped into the model as MedicationOrder's documentation says.
                "MedicationOrder" => ReadWithMetadata<Dstu2MedicationOrder>(ref reader, options)?.ToModel(),
                "MedicationStatement" => ReadWithMetadata<MedicationStatement>(ref reader, options),
                "Medication" => ReadWithMetadata<Medication>(ref reader, options),
                "ServiceRequest" => ReadWithMetadata<ServiceRequest>(ref reader, options),
                "OperationOutcome" => ReadWithMetadata<OperationOutcome>(ref reader, options),
                _ => ResourceJsonConverter.ReadResource(ref reader), // an unknown type: no metadata to compare with
            };
        }

        /// <summary>In place, as the replaced path did (see NestedJson).</summary>
        private static T? ReadWithMetadata<T>(ref Utf8JsonReader reader, JsonSerializerOptions options) =>
            ((JsonConverter<T>)options.GetTypeInfo(typeof(T)).Converter).Read(ref reader, typeof(T), options);

        public override void Write(Utf8JsonWriter writer, Resource value, JsonSerializerOptions options) =>
            throw new NotSupportedException("Only for reading: compare what is read by writing it with FhirJson.Options.");
    }
}
