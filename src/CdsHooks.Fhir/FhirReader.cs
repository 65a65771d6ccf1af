using System.Text.Json;

namespace CdsHooks.Fhir;

/// <summary>
/// Reads the FHIR model straight from a <see cref="Utf8JsonReader"/>. With the serializer's metadata-driven object
/// converters (a read stack, property lookups and a converter call per element, and a fresh read stack for every
/// list item) parsing a large order-select request took 2.4 times as long as tokenising it, and was the largest
/// part of the service's CPU. This reads what those converters read, with the same outcome for every input:
/// <list type="bullet">
/// <item>property names are exact (case-sensitive) and compared after unescaping; unknown ones are skipped;</item>
/// <item>JSON <c>null</c> leaves an element unset (a list too), and a repeated property's last value wins;</item>
/// <item>a single object where FHIR has an array reads as a one-item list, and null list items are dropped,
/// as <see cref="TolerantListConverter{T}"/> reads them;</item>
/// <item>a token of the wrong type is a <see cref="JsonException"/> (a 400 for a request, never a 500);</item>
/// <item>decimals keep every digit; the strings <see cref="CommonStringConverter"/> shares are shared here too.</item>
/// </list>
/// Each object reader is entered on the object's first token and leaves the reader on its last.
/// Writing stays with the source-generated metadata.
/// </summary>
internal static partial class FhirReader
{
    /// <summary>Reads one element of a list (or the single object standing for one), or null to drop it.</summary>
    private delegate T? ItemReader<T>(ref Utf8JsonReader reader, FhirElement element) where T : class;

    /// <summary>
    /// Moves to the next property of the object being read: false at its end, else true with the reader on the
    /// property's value and <paramref name="element"/> naming it.
    /// </summary>
    private static bool NextProperty(ref Utf8JsonReader reader, out FhirElement element)
    {
        Read(ref reader);
        if (reader.TokenType == JsonTokenType.EndObject)
        {
            element = FhirElement.Unknown;
            return false;
        }
        element = FhirElementNames.Of(ref reader);
        Read(ref reader);
        return true;
    }

    /// <summary>
    /// The serializer hands a converter its whole value, even from a stream, so running out of tokens mid-object
    /// means the JSON ended early.
    /// </summary>
    private static void Read(ref Utf8JsonReader reader)
    {
        if (!reader.Read()) throw new JsonException("The FHIR JSON ends inside a resource.");
    }

    /// <summary>
    /// Skips the value the reader is on. TrySkip, not Skip: a streamed body's reader is not a final block, though
    /// the serializer has buffered this whole value (Skip throws there; TrySkip succeeds).
    /// </summary>
    private static void Skip(ref Utf8JsonReader reader)
    {
        if (!reader.TrySkip()) throw new JsonException("The FHIR JSON ends inside a resource.");
    }

    /// <summary>True on an object's start, false on null (the element is unset); anything else is an error.</summary>
    private static bool StartObject(ref Utf8JsonReader reader, FhirElement element) => reader.TokenType switch
    {
        JsonTokenType.StartObject => true,
        JsonTokenType.Null => false,
        _ => throw WrongToken(reader.TokenType, element, "an object"),
    };

    private static string? ReadString(ref Utf8JsonReader reader, FhirElement element) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Null => null,
        _ => throw WrongToken(reader.TokenType, element, "a string"),
    };

    /// <summary>A string that recurs across payloads (a code system, status or unit): see <see cref="CommonStringConverter"/>.</summary>
    private static string? ReadCommonString(ref Utf8JsonReader reader, FhirElement element) => reader.TokenType switch
    {
        JsonTokenType.String => CommonStringConverter.ReadString(ref reader),
        JsonTokenType.Null => null,
        _ => throw WrongToken(reader.TokenType, element, "a string"),
    };

    /// <summary>A string item of a tolerant list (a FHIR array of codes): null drops it, as for any list item.</summary>
    private static string? ReadStringItem(ref Utf8JsonReader reader, FhirElement element) => ReadCommonString(ref reader, element);

    /// <summary>A FHIR decimal, every digit kept (1.50 stays 1.50); one out of decimal's range is an error.</summary>
    private static decimal? ReadDecimal(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartNumber(ref reader, element)) return null;
        return reader.TryGetDecimal(out var value)
            ? value
            : throw new JsonException($"'{FhirElementNames.JsonName(element)}' is out of the range of a decimal.");
    }

    private static int? ReadInteger(ref Utf8JsonReader reader, FhirElement element)
    {
        if (!StartNumber(ref reader, element)) return null;
        return reader.TryGetInt32(out var value)
            ? value
            : throw new JsonException($"'{FhirElementNames.JsonName(element)}' must be a whole number within the range of an integer.");
    }

    /// <summary>True on a number, false on null; a string holding a number is an error, as with strict number handling.</summary>
    private static bool StartNumber(ref Utf8JsonReader reader, FhirElement element) => reader.TokenType switch
    {
        JsonTokenType.Number => true,
        JsonTokenType.Null => false,
        _ => throw WrongToken(reader.TokenType, element, "a number"),
    };

    private static bool? ReadBoolean(ref Utf8JsonReader reader, FhirElement element) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Null => null,
        _ => throw WrongToken(reader.TokenType, element, "true or false"),
    };

    /// <summary>
    /// A FHIR array element read as <see cref="TolerantListConverter{T}"/> reads it: null stays null, null items are
    /// dropped, and a single value where the array belongs is a one-item list.
    /// </summary>
    private static List<T>? ReadList<T>(ref Utf8JsonReader reader, FhirElement element, ItemReader<T> readItem) where T : class
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            var single = readItem(ref reader, element);
            return single is null ? [] : [single];
        }

        var list = new List<T>();
        while (true)
        {
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray) return list;
            if (readItem(ref reader, element) is { } item) list.Add(item);
        }
    }

    /// <summary>
    /// A plain JSON array of strings (no single-value tolerance). Null items are kept, as the serializer kept them
    /// (it does not enforce nullable annotations), so the list may hold nulls despite its type.
    /// </summary>
    private static List<string>? ReadStringList(ref Utf8JsonReader reader, FhirElement element)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartArray) throw WrongToken(reader.TokenType, element, "an array");

        var list = new List<string>();
        while (true)
        {
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray) return list;
            list.Add(ReadString(ref reader, element)!);
        }
    }

    /// <summary>
    /// The error for a value of the wrong JSON type. The serializer adds the path, line and position of the resource,
    /// and the request endpoints report those for the 400.
    /// </summary>
    private static JsonException WrongToken(JsonTokenType token, FhirElement element, string expected) =>
        new($"'{FhirElementNames.JsonName(element)}' must be {expected}, not {Describe(token)}.");

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => token.ToString(),
    };
}
