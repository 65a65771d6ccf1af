using System.Buffers;
using System.IO.Pipelines;
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
            var body = await ParseWholeAsync(http.BodyReader, typeInfo, cancellationToken);
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

    /// <summary>
    /// Reads the body whole, then parses it in one pass. Streaming deserialisation costs 1.2-1.7x the CPU here:
    /// every prefetch resource goes through a custom converter, which needs its whole value buffered, so the
    /// streaming reader scans it ahead and again after each refill (bench/README.md).
    /// </summary>
    public static async ValueTask<T?> ParseWholeAsync<T>(PipeReader body, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var buffer = (await ReadWholeAsync(body, cancellationToken)).Buffer;
        try
        {
            if (buffer.IsSingleSegment) return JsonSerializer.Deserialize(buffer.FirstSpan, typeInfo);
            var length = checked((int)buffer.Length);
            var copy = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                buffer.CopyTo(copy);
                return JsonSerializer.Deserialize(copy.AsSpan(0, length), typeInfo);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }
        finally
        {
            body.AdvanceTo(buffer.End);
        }
    }

    /// <summary>
    /// Waits until the whole body is in the pipe's buffer; the caller advances past it when done. A body that cannot
    /// be read is the client's fault: Kestrel reports some framing errors (a chunk size over 2 GiB, for one) as an
    /// <see cref="IOException"/> rather than a <see cref="BadHttpRequestException"/>, and those become one too (a 400
    /// at the edge, never a 500). When the client is gone (<paramref name="cancellationToken"/> is the request's) the
    /// error is left as it is: there is nobody to answer.
    /// </summary>
    public static async ValueTask<ReadResult> ReadWholeAsync(PipeReader body, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult read;
            try
            {
                read = await body.ReadAsync(cancellationToken);
            }
            catch (IOException ex) when (ex is not BadHttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                // (BadHttpRequestException is an IOException too, already with its status: 400, or 413 over the cap.)
                throw new BadHttpRequestException("The request body could not be read: " + ex.Message, StatusCodes.Status400BadRequest, ex);
            }
            if (read.IsCompleted || read.IsCanceled) return read;
            body.AdvanceTo(read.Buffer.Start, read.Buffer.End); // all examined: wait for more
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
