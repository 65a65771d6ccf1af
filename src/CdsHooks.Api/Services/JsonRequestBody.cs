using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CdsHooks.Api.Services;

/// <summary>Reads a JSON request body (whole, then one parse) with source-generated metadata; malformed JSON becomes field -> message for a 400.</summary>
public static class JsonRequestBody
{
    public static async Task<(T? Body, Dictionary<string, string[]>? Errors)> ReadAsync<T>(HttpRequest http, JsonTypeInfo<T> typeInfo, string describes, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var body = await HookRequestBody.ReadAsync(http.BodyReader, typeInfo, cancellationToken);
            return body is null
                ? (null, new() { ["$"] = [$"The body must be a JSON object ({describes})."] })
                : (body, null);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) ? "$" : ex.Path;
            return (null, new() { [path] = [$"Malformed JSON at {path} (line {ex.LineNumber + 1}): {FirstSentence(ex.Message)}"] });
        }
    }

    /// <summary>System.Text.Json messages end with path and position details we already report separately.</summary>
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        var text = cut > 0 ? message[..cut] : message;
        return text.Replace("System.", "", StringComparison.Ordinal);
    }
}
