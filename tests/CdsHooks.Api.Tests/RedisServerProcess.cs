using System.Diagnostics;
using System.Runtime.InteropServices;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests;

/// <summary>
/// A redis-server of the test's own, on a free loopback port, that the test may kill, pause (SIGSTOP) and resume
/// (SIGCONT) or start again on the same port: the shared test Redis must never be harmed. Needs the redis-server
/// binary, which scripts/test-services.sh installs.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private const int SigStop = 19;
    private const int SigCont = 18;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private Process? _process;
    private bool _paused;

    public RedisServerProcess(int? port = null) => Port = port ?? ServiceProcess.FreeLoopbackPort();

    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static string? Binary => new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    /// <summary>Starts the server and returns once it says it accepts connections (no polling).</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(Binary ?? throw new InvalidOperationException("redis-server is not installed: run scripts/test-services.sh start"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes" })
        {
            start.ArgumentList.Add(arg);
        }
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            output.Enqueue(e.Data);
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal)) ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("redis-server exited while starting:\n" + string.Join('\n', output)));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await ready.Task.WaitAsync(StartTimeout);
    }

    /// <summary>SIGKILL, as a crash or an OOM kill: connections drop at once.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process) return;
        _process = null;
        if (_paused) Signal(process, SigCont);
        _paused = false;
        if (!process.HasExited) process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
    }

    /// <summary>SIGSTOP: connections stay open and nothing answers, as a hung or swapped-out server.</summary>
    public void Pause()
    {
        Signal(_process ?? throw new InvalidOperationException("not running"), SigStop);
        _paused = true;
    }

    public void Resume()
    {
        Signal(_process ?? throw new InvalidOperationException("not running"), SigCont);
        _paused = false;
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    private static void Signal(Process process, int signal)
    {
        if (Kill(process.Id, signal) != 0) throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    // DllImport, not LibraryImport: this int-only signature needs no marshalling code, and so no unsafe blocks.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}

/// <summary>A fact that starts its own redis-server: skipped (never passed) when the binary is missing outside CI.</summary>
public sealed class RequiresRedisServerFactAttribute : FactAttribute
{
    public RequiresRedisServerFactAttribute()
    {
        if (RedisServerProcess.Binary is null && !TestServers.InCi) Skip = "redis-server is not installed: scripts/test-services.sh start installs it (see .ci/run)";
    }
}
