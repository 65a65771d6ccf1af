using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CdsHooks.Fhir;

/// <summary>
/// Reads a FHIR resource by looking ahead for <c>resourceType</c> (which FHIR JSON may place anywhere in the
/// object), then deserialising the concrete type through the source-generated metadata of the serializer options.
/// Types this model does not know become <see cref="UnknownResource"/> with their id, so a NutritionOrder in
/// <c>draftOrders</c> is tolerated rather than rejected.
/// </summary>
public sealed class ResourceJsonConverter : JsonConverter<Resource>
{
    private delegate Resource? ReadResource(ref Utf8JsonReader reader, JsonSerializerOptions options);

    private static readonly FrozenDictionary<string, ReadResource> KnownTypes = new Dictionary<string, ReadResource>
    {
        ["Bundle"] = NestedJson.Read<Bundle>,
        ["Patient"] = NestedJson.Read<Patient>,
        ["Observation"] = NestedJson.Read<Observation>,
        ["Condition"] = NestedJson.Read<Condition>,
        ["MedicationRequest"] = NestedJson.Read<MedicationRequest>,
        ["MedicationStatement"] = NestedJson.Read<MedicationStatement>,
        ["Medication"] = NestedJson.Read<Medication>,
        ["ServiceRequest"] = NestedJson.Read<ServiceRequest>,
        ["OperationOutcome"] = NestedJson.Read<OperationOutcome>,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // Resource type names are looked up from the reader's bytes without allocating a string per resource.
    private static readonly FrozenDictionary<string, ReadResource>.AlternateLookup<ReadOnlySpan<char>> KnownTypesBySpan =
        KnownTypes.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Longer than any FHIR resource type name; a longer <c>resourceType</c> is simply unknown.</summary>
    private const int MaxTypeNameLength = 64;

    public static IReadOnlyCollection<string> KnownResourceTypes => KnownTypes.Keys;

    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(Resource);

    public override Resource? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A FHIR resource must be a JSON object.");
        }

        var lookahead = reader; // a struct copy: scanning it leaves the real reader where it was
        if (!FindProperty(ref lookahead, "resourceType"u8))
        {
            throw new JsonException("A FHIR resource has no 'resourceType'.");
        }
        if (lookahead.TokenType == JsonTokenType.String && !lookahead.ValueIsEscaped
            && lookahead.ValueSpan.Length <= MaxTypeNameLength)
        {
            Span<char> name = stackalloc char[MaxTypeNameLength];
            var length = Encoding.UTF8.GetChars(lookahead.ValueSpan, name);
            if (KnownTypesBySpan.TryGetValue(name[..length], out var read)) return read(ref reader, options);
        }
        else if (lookahead.TokenType == JsonTokenType.String && lookahead.GetString() is { } escaped && KnownTypes.TryGetValue(escaped, out var read))
        {
            return read(ref reader, options);
        }

        var resourceType = lookahead.TokenType == JsonTokenType.String ? lookahead.GetString() : null;
        if (resourceType is null)
        {
            throw new JsonException("A FHIR resource has no 'resourceType'.");
        }
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
/// CDS Hooks Sandbox both do this for <c>doseAndRate</c> and <c>category</c>). Writes a normal array.
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
