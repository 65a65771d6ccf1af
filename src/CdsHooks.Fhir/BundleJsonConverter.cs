using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CdsHooks.Fhir;

/// <summary>
/// Reads a property typed as <see cref="Bundle"/> (CDS Hooks <c>context.draftOrders</c>) with <see cref="FhirReader"/>,
/// like every resource typed as <see cref="Resource"/>. It is a Bundle whatever its <c>resourceType</c> says, as the
/// source-generated metadata read it. Writes through that metadata. Put it on the property: registered on the
/// options it would also claim the Bundle metadata its own Write relies on.
/// </summary>
public sealed class BundleJsonConverter : JsonConverter<Bundle>
{
    public override Bundle Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("A FHIR Bundle must be a JSON object.");
        return FhirReader.ReadBundle(ref reader);
    }

    public override void Write(Utf8JsonWriter writer, Bundle value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, (JsonTypeInfo<Bundle>)options.GetTypeInfo(typeof(Bundle)));
}
