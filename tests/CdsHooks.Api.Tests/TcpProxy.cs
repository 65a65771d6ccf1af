using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CdsHooks.Api.Tests;

/// <summary>
/// A TCP forwarder on 127.0.0.1:&lt;random port&gt; in front of a server the tests share (the test PostgreSQL), so one test
/// can take "its" server down without stopping it for the others: <see cref="Stop"/> resets every open connection and
/// refuses new ones (a stopped server), <see cref="Pause"/> keeps connections open but forwards nothing (a server
/// paused with SIGSTOP: connects succeed, nothing answers), <see cref="Resume"/> forwards again.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _closing = new();
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private volatile TaskCompletionSource _flowing = Flowing();
    private volatile bool _refusing;
    private readonly Task _accepting;

    public TcpProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Resets every open connection and refuses (resets) new ones until <see cref="Resume"/>.</summary>
    public void Stop()
    {
        _refusing = true;
        foreach (var socket in _sockets.Keys) Reset(socket);
    }

    /// <summary>Forwards nothing more in either direction (connections stay open, new ones are accepted) until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        if (_flowing.Task.IsCompleted) _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Resume()
    {
        _refusing = false;
        _flowing.TrySetResult();
    }

    private async Task AcceptAsync()
    {
        while (!_closing.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_closing.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            if (_refusing)
            {
                Reset(client);
                continue;
            }
            _ = LinkAsync(client);
        }
    }

    private async Task LinkAsync(Socket client)
    {
        _sockets.TryAdd(client, 0);
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sockets.TryAdd(server, 0);
        try
        {
            await _flowing.Task.WaitAsync(_closing.Token);
            await server.ConnectAsync(_targetHost, _targetPort, _closing.Token);
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // One side went away (or the proxy reset it): the other side is closed below.
        }
        finally
        {
            Reset(client);
            Reset(server);
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, _closing.Token);
            if (read == 0) return;
            await _flowing.Task.WaitAsync(_closing.Token);
            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _closing.Token);
        }
    }

    /// <summary>Closes with RST (linger 0): the peer sees the connection reset at once, as when a server process dies.</summary>
    private void Reset(Socket socket)
    {
        _sockets.TryRemove(socket, out _);
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        _listener.Stop();
        await _accepting;
        foreach (var socket in _sockets.Keys) Reset(socket);
        _closing.Dispose();
    }

    private static TaskCompletionSource Flowing()
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flowing.SetResult();
        return flowing;
    }
}
