using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CdsHooks.Api.Services;

/// <summary>
/// Reads a JSON request body whole, then parses it in one pass. Streaming deserialisation costs 1.2-1.7x
/// the CPU here: every prefetch resource goes through a custom converter, which needs its whole value
/// buffered, so the streaming reader scans it ahead and again after each refill (bench/README.md).
/// </summary>
public static class HookRequestBody
{
    public static async ValueTask<T?> ReadAsync<T>(PipeReader body, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        ReadResult read;
        while (true)
        {
            read = await body.ReadAsync(cancellationToken);
            if (read.IsCompleted || read.IsCanceled) break;
            body.AdvanceTo(read.Buffer.Start, read.Buffer.End); // all examined: wait for more
        }

        var buffer = read.Buffer;
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
}
