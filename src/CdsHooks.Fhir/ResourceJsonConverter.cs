using System.Collections.Frozen;
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
    private static readonly FrozenDictionary<string, Type> KnownTypes = new Dictionary<string, Type>
    {
        ["Bundle"] = typeof(Bundle),
        ["Patient"] = typeof(Patient),
        ["Observation"] = typeof(Observation),
        ["Condition"] = typeof(Condition),
        ["MedicationRequest"] = typeof(MedicationRequest),
        ["MedicationStatement"] = typeof(MedicationStatement),
        ["Medication"] = typeof(Medication),
        ["ServiceRequest"] = typeof(ServiceRequest),
        ["OperationOutcome"] = typeof(OperationOutcome),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static IReadOnlyCollection<string> KnownResourceTypes => KnownTypes.Keys;

    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(Resource);

    public override Resource? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A FHIR resource must be a JSON object.");
        }

        var lookahead = reader; // a struct copy: scanning it leaves the real reader where it was
        var (resourceType, id) = ScanTopLevel(ref lookahead);
        if (resourceType is null)
        {
            throw new JsonException("A FHIR resource has no 'resourceType'.");
        }

        if (KnownTypes.TryGetValue(resourceType, out var type))
        {
            var info = options.GetTypeInfo(type);
            return (Resource?)JsonSerializer.Deserialize(ref reader, info);
        }

        // TrySkip, not Skip: when the request body is streamed the reader is not a final block, though the serializer
        // has buffered this whole value for the converter (Skip throws on a non-final block; TrySkip succeeds).
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

    private static (string? ResourceType, string? Id) ScanTopLevel(ref Utf8JsonReader reader)
    {
        string? resourceType = null, id = null;
        int depth = reader.CurrentDepth;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth) break;
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("resourceType"u8))
            {
                reader.Read();
                resourceType = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else
            {
                reader.Read();
                if (!reader.TrySkip()) break;
            }

            if (resourceType is not null && id is not null) break;
        }
        return (resourceType, id);
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
        var info = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            var list = new List<T>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var item = JsonSerializer.Deserialize(ref reader, info);
                if (item is not null) list.Add(item);
            }
            return list;
        }

        var single = JsonSerializer.Deserialize(ref reader, info);
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
