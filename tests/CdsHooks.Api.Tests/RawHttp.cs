using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CdsHooks.Api.Tests;

/// <summary>A response read off a raw socket: status, headers (lower-case names) and the decoded body.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// HTTP/1.1 written byte for byte on a TcpClient, for what HttpClient will not send: broken chunk sizes, bodies
/// shorter than announced, a client that half-closes or resets mid-body.
/// </summary>
public sealed class RawHttp : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _received = [];
    private readonly byte[] _chunk = new byte[8192];

    private RawHttp(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawHttp> ConnectAsync(Uri baseAddress)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, baseAddress.Port);
        return new RawHttp(client);
    }

    /// <summary>The request line and headers of a JSON POST, then the blank line; the body is written separately.</summary>
    public static string PostHead(string path, params string[] headers) =>
        $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + string.Concat(headers.Select(h => h + "\r\n")) + "\r\n";

    public async Task WriteAsync(string text)
    {
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(text));
        await _stream.FlushAsync();
    }

    /// <summary>No more bytes from this side (FIN); the server can still answer.</summary>
    public void EndOfRequest() => _client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>Gone at once (RST): what a client that crashes or times out mid-body does.</summary>
    public void Reset()
    {
        _client.Client.LingerState = new LingerOption(true, 0);
        _client.Client.Close();
    }

    public async Task<RawResponse> ReadResponseAsync()
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        var headEnd = await FillUntilAsync(() => IndexOf(_received, "\r\n\r\n"u8), timeout.Token);
        var head = Encoding.ASCII.GetString([.. _received.Take(headEnd)]).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = head.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        _received.RemoveRange(0, headEnd + 4);

        var body = new List<byte>();
        if (headers.TryGetValue("content-length", out var length))
        {
            var n = int.Parse(length, CultureInfo.InvariantCulture);
            await FillUntilAsync(() => _received.Count >= n ? n : -1, timeout.Token);
            body.AddRange(_received.Take(n));
        }
        else if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (true)
            {
                var lineEnd = await FillUntilAsync(() => IndexOf(_received, "\r\n"u8), timeout.Token);
                var size = int.Parse(Encoding.ASCII.GetString([.. _received.Take(lineEnd)]).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                _received.RemoveRange(0, lineEnd + 2);
                await FillUntilAsync(() => _received.Count >= size + 2 ? size : -1, timeout.Token);
                body.AddRange(_received.Take(size));
                _received.RemoveRange(0, size + 2);
                if (size == 0) break;
            }
        }
        return new RawResponse(status, headers, Encoding.UTF8.GetString([.. body]));
    }

    /// <summary>Reads until <paramref name="found"/> gives a position (not -1); fails if the server closes first.</summary>
    private async Task<int> FillUntilAsync(Func<int> found, CancellationToken cancellationToken)
    {
        int at;
        while ((at = found()) < 0)
        {
            var n = await _stream.ReadAsync(_chunk, cancellationToken);
            if (n == 0) throw new IOException($"The server closed the connection; received so far: {Encoding.ASCII.GetString([.. _received])}");
            _received.AddRange(_chunk.AsSpan(0, n));
        }
        return at;
    }

    private static int IndexOf(List<byte> bytes, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i + value.Length <= bytes.Count; i++)
        {
            var match = true;
            for (var j = 0; j < value.Length && match; j++) match = bytes[i + j] == value[j];
            if (match) return i;
        }
        return -1;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
