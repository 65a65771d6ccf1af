using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CdsHooks.Api.Tests;

/// <summary>
/// The built service as a separate OS process (<c>dotnet CdsHooks.Api.dll --urls http://127.0.0.1:port</c>), for what an
/// in-process host cannot show: a SIGKILL mid-write, two nodes that share nothing but their stores, and what the
/// console logger really prints.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(string Text, TaskCompletionSource<string> Line)> _awaited = [];
    private string? _spool;

    private ServiceProcess(Process process, Uri baseAddress, HttpMessageHandler? handler)
    {
        _process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient(handler ?? new HttpClientHandler()) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>
    /// Starts the service with <paramref name="environment"/> added and waits until /health/ready answers 200.
    /// It runs as in production, but without client JWTs unless <paramref name="environment"/> configures issuers;
    /// <paramref name="handler"/> (e.g. one that signs each call) sits under <see cref="Client"/>.
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(IReadOnlyDictionary<string, string> environment, HttpMessageHandler? handler = null)
    {
        var port = FreeLoopbackPort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CdsHooks.Api.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // Unless the environment configures issuers: Production would otherwise require a JWT issuer.
        start.Environment["Security__RequireJwt"] = "false";
        // Production needs the lock-out's key; each process its own spool (nodes started from one folder share its data/).
        start.Environment["Analytics__PatientKey"] = CdsServiceHost.TestPatientKey;
        var spool = Path.Combine(Path.GetTempPath(), "cds-tests", $"spool-{Guid.NewGuid():N}");
        start.Environment["Analytics__CardLogSpoolPath"] = spool;
        foreach (var (key, value) in environment) start.Environment[key] = value;

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var node = new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}"), handler) { _spool = spool };
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await node.WaitUntilReadyAsync();
        return node;
    }

    /// <summary>The first line of output holding <paramref name="text"/>, as soon as the service writes it.</summary>
    public Task<string> WaitForLineAsync(string text, TimeSpan timeout)
    {
        var line = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            var written = _output.ToString().Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (written is not null) return Task.FromResult(written);
            _awaited.Add((text, line));
        }
        return line.Task.WaitAsync(timeout);
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush; whatever was not committed is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await KillAsync();
        _process.Dispose();
        if (_spool is not null) File.Delete(_spool);
    }

    private async Task WaitUntilReadyAsync()
    {
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(50);
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The service exited with {_process.ExitCode} while starting:\n{Output}");
            try
            {
                using var response = await probe.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Starting slowly on a busy machine.
            }
            // Polling a process we do not control: there is no event to wait on.
            await Task.Delay(pause);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 500));
        }
        throw new TimeoutException($"The service was not ready within {StartTimeout.TotalSeconds} s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var awaited in _awaited.Where(a => line.Contains(a.Text, StringComparison.Ordinal)).ToList())
            {
                awaited.Line.TrySetResult(line);
                _awaited.Remove(awaited);
            }
        }
    }

    internal static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
