using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace CdsHooks.Api.Services;

/// <summary>
/// A JSON answer serialised synchronously into a pooled buffer, then sent in one write with a Content-Length.
/// <c>TypedResults.Ok</c> serialises asynchronously into the response pipe through the serializer's resumable
/// converters, which cost three times the CPU of the synchronous writer for a card response (perf under load:
/// ~39 µs against ~13 µs). The bytes are the same: the same HTTP JSON options, encoder and content type.
/// </summary>
public sealed class BufferedJsonResult<T>(T value, int statusCode = StatusCodes.Status200OK) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<T>, IContentTypeHttpResult
{
    private const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>Buffers of a typical card response stay with the thread; an unusually large one is not kept.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public T Value => value;

    object? IValueHttpResult.Value => value;

    public int StatusCode => statusCode;

    int? IStatusCodeHttpResult.StatusCode => statusCode;

    public string ContentType => JsonContentType;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var options = httpContext.RequestServices.GetRequiredService<IOptions<HttpJsonOptions>>().Value.SerializerOptions;
        var typeInfo = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));

        var buffer = t_buffer ?? new ArrayBufferWriter<byte>(16 * 1024);
        t_buffer = null; // the thread may serve another request while this one awaits its write
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder, Indented = options.WriteIndented, MaxDepth = options.MaxDepth }))
            {
                JsonSerializer.Serialize(writer, value, typeInfo);
            }
            var response = httpContext.Response;
            response.StatusCode = statusCode;
            response.ContentType = JsonContentType;
            response.ContentLength = buffer.WrittenCount;
            await response.BodyWriter.WriteAsync(buffer.WrittenMemory, httpContext.RequestAborted);
        }
        finally
        {
            if (buffer.Capacity <= KeptBufferBytes)
            {
                buffer.ResetWrittenCount();
                t_buffer = buffer;
            }
        }
    }
}
