using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CdsHooks.Fhir;

/// <summary>
/// Reads a FHIR resource by looking ahead for <c>resourceType</c> (which FHIR JSON may place anywhere in the
/// object), then reading the concrete type with <see cref="FhirReader"/>. Types this model does not know become
/// <see cref="UnknownResource"/> with their id, so a NutritionOrder in <c>draftOrders</c> is tolerated rather than
/// rejected. Writing goes through the source-generated metadata of the serializer options.
/// </summary>
public sealed class ResourceJsonConverter : JsonConverter<Resource>
{
    /// <summary>The resource types read as themselves (each has a reader in <see cref="FhirReader"/>).</summary>
    public static IReadOnlyCollection<string> KnownResourceTypes { get; } =
    [
        "Bundle", "Patient", "Observation", "Condition", "MedicationRequest", "MedicationOrder", "MedicationStatement",
        "Medication", "ServiceRequest", "OperationOutcome", "MedicationAdministration", "AllergyIntolerance",
    ];

    /// <summary>
    /// The longest escaped <c>resourceType</c> that can name a known type: every character of the longest name
    /// (MedicationAdministration, 24) written as a six-byte <c>\uXXXX</c> escape fits.
    /// </summary>
    private const int MaxTypeNameLength = 160;

    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(Resource);

    public override Resource? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ReadResource(ref reader);

    /// <summary>Reads the resource the reader is on (not null: the serializer and the nested readers handle null).</summary>
    internal static Resource ReadResource(ref Utf8JsonReader reader)
    {
        var lookahead = FindResourceType(reader);
        if (!lookahead.ValueIsEscaped && !lookahead.HasValueSequence)
        {
            if (FhirReader.ReadKnownResource(ref reader, lookahead.ValueSpan) is { } known) return known;
        }
        else if ((lookahead.HasValueSequence ? lookahead.ValueSequence.Length : lookahead.ValueSpan.Length) <= MaxTypeNameLength)
        {
            // "Medic\u0061tion" names Medication too. Unescaping never lengthens a string, so the buffer suffices.
            Span<byte> name = stackalloc byte[MaxTypeNameLength];
            var length = lookahead.CopyString(name);
            if (FhirReader.ReadKnownResource(ref reader, name[..length]) is { } known) return known;
        }
        return ReadUnknown(ref reader, lookahead.GetString()!);
    }

    /// <summary>
    /// A copy of <paramref name="reader"/> (at a resource's start) moved to its <c>resourceType</c> string; the
    /// reader itself stays where it was.
    /// </summary>
    internal static Utf8JsonReader FindResourceType(Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A FHIR resource must be a JSON object.");
        }
        if (!FindProperty(ref reader, "resourceType"u8) || reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("A FHIR resource has no 'resourceType'.");
        }
        return reader;
    }

    private static UnknownResource ReadUnknown(ref Utf8JsonReader reader, string resourceType)
    {
        var idReader = reader;
        var id = FindProperty(ref idReader, "id"u8) && idReader.TokenType == JsonTokenType.String ? idReader.GetString() : null;
        // TrySkip, not Skip: when a body is streamed (FHIR server responses) the reader is not a final block, though
        // the serializer has buffered this whole value for the converter (Skip throws there; TrySkip succeeds).
        if (!reader.TrySkip()) throw new JsonException("A FHIR resource is incomplete.");
        return new UnknownResource(resourceType) { Id = id };
    }

    public override void Write(Utf8JsonWriter writer, Resource value, JsonSerializerOptions options)
    {
        if (value is UnknownResource)
        {
            writer.WriteStartObject();
            writer.WriteString("resourceType", value.ResourceType);
            if (value.Id is not null) writer.WriteString("id", value.Id);
            writer.WriteEndObject();
            return;
        }

        JsonTypeInfo info = options.GetTypeInfo(value.GetType());
        JsonSerializer.Serialize(writer, value, info);
    }

    /// <summary>Moves a reader at an object's start to the value of its top-level property <paramref name="name"/>.</summary>
    private static bool FindProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        int depth = reader.CurrentDepth;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth) return false;
            if (reader.TokenType != JsonTokenType.PropertyName) continue;
            var match = reader.ValueTextEquals(name);
            reader.Read();
            if (match) return true;
            if (!reader.TrySkip()) return false;
        }
        return false;
    }
}

/// <summary>
/// For the source-generated path only (a concrete FHIR type deserialised directly, as the tests' reference reading
/// does; every resource the service reads goes through <see cref="FhirReader"/>).
/// Reads a nested value in place with its type's converter. <c>JsonSerializer.Deserialize(ref reader, ...)</c>
/// would first skip the whole value to scope a fresh reader to it, so converters nested inside converters
/// (resource in entry in Bundle in prefetch) would scan the same FHIR JSON once per level.
/// </summary>
internal static class NestedJson
{
    public static T? Read<T>(ref Utf8JsonReader reader, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return default;
        var converter = (JsonConverter<T>)options.GetTypeInfo(typeof(T)).Converter;
        return converter.Read(ref reader, typeof(T), options);
    }
}

/// <summary>
/// Reads a FHIR array element that some clients send as a single object (the HL7 hook examples and the
/// CDS Hooks Sandbox both do this for <c>doseAndRate</c> and <c>category</c>). Writes a normal array. Reading here
/// serves the source-generated path; <see cref="FhirReader"/> applies the same rule to every resource the service reads.
/// </summary>
public sealed class TolerantListConverter<T> : JsonConverter<List<T>>
{
    public override List<T>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            var list = new List<T>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var item = NestedJson.Read<T>(ref reader, options);
                if (item is not null) list.Add(item);
            }
            return list;
        }

        var single = NestedJson.Read<T>(ref reader, options);
        return single is null ? [] : [single];
    }

    public override void Write(Utf8JsonWriter writer, List<T> value, JsonSerializerOptions options)
    {
        var info = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        writer.WriteStartArray();
        foreach (var item in value)
        {
            JsonSerializer.Serialize(writer, item, info);
        }
        writer.WriteEndArray();
    }
}
