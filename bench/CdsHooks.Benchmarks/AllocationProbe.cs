using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CdsHooks.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Benchmarks;

/// <summary>
/// Bytes the service allocates per HTTP request, ASP.NET Core and Kestrel included: the real service runs in
/// this process on a Kestrel socket at 127.0.0.1 (fixed clock at the fixtures' date, warning-level logging), and
/// a raw-socket keep-alive client on one dedicated thread sends the same request N times. The process-wide
/// <see cref="GC.GetTotalAllocatedBytes(bool)"/> delta, minus what the client thread itself allocated
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>, close to zero by design), divided by N, is the figure.
/// Background work during the loop (Kestrel's heartbeat) is counted too, so it is an upper bound. The process
/// CPU time per request (client included, one connection, no concurrency) is reported beside it.
/// </summary>
public static class AllocationProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        var o = CommandLine.Parse(args);
        var path = o.GetValueOrDefault("path", "/cds-services/rls-iron-order-select");
        var bodyFile = o.GetValueOrDefault("body", FixtureFiles.FixturePath("requests/order-select-sertraline-big-benchmark.json"));
        var requests = int.Parse(o.GetValueOrDefault("requests", "5000"), CultureInfo.InvariantCulture);
        var body = File.ReadAllBytes(bodyFile);
        // WebApplicationFactory finds the service's content root through MvcTestingAppManifest.json in the current directory.
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);

        await using var host = new ProbeHost();
        host.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        host.StartServer();
        using (var client = host.CreateClient())
        {
            var port = client.BaseAddress!.Port;
            var result = await Task.Factory.StartNew(() => Measure(port, path, body, requests), TaskCreationOptions.LongRunning);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT path={path} requests={requests} bytes_per_request={result.PerRequest:0} client_bytes_per_request={result.ClientPerRequest:0} cpu_us_per_request={result.CpuMicroseconds:0} response_bytes={result.ResponseBytes}"));
        }
        return 0;
    }

    private static (double PerRequest, double ClientPerRequest, double CpuMicroseconds, int ResponseBytes) Measure(int port, string path, byte[] body, int requests)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(IPAddress.Loopback, port);
        var head = Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");
        var message = new byte[head.Length + body.Length];
        head.CopyTo(message, 0);
        body.CopyTo(message, head.Length);
        var buffer = new byte[1 << 20];

        // Warm-up: JIT, tiered compilation, pools.
        int responseBytes = 0;
        for (int i = 0; i < Math.Max(1000, requests / 5); i++) responseBytes = RoundTrip(socket, message, buffer);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var clientBefore = GC.GetAllocatedBytesForCurrentThread();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var cpuBefore = Environment.CpuUsage.TotalTime;
        for (int i = 0; i < requests; i++) RoundTrip(socket, message, buffer);
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        var after = GC.GetTotalAllocatedBytes(precise: true);
        var client = GC.GetAllocatedBytesForCurrentThread() - clientBefore;
        return ((after - before - client) / (double)requests, client / (double)requests, cpu.TotalMicroseconds / requests, responseBytes);
    }

    /// <summary>Sends one request and reads one HTTP/1.1 response (Content-Length or chunked) without allocating.</summary>
    private static int RoundTrip(Socket socket, byte[] message, byte[] buffer)
    {
        socket.Send(message);
        int read = 0;
        while (true)
        {
            var n = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
            if (n == 0) throw new IOException("The service closed the connection.");
            read += n;
            var span = buffer.AsSpan(0, read);
            var headerEnd = span.IndexOf("\r\n\r\n"u8);
            if (headerEnd < 0) continue;
            if (!span.StartsWith("HTTP/1.1 200"u8)) throw new InvalidOperationException("Expected 200: " + Encoding.ASCII.GetString(span[..Math.Min(200, read)]));
            var headers = span[..headerEnd];
            var lengthAt = headers.IndexOf("Content-Length: "u8);
            if (lengthAt >= 0)
            {
                var digits = headers[(lengthAt + 16)..];
                var end = digits.IndexOf("\r\n"u8);
                var length = int.Parse(end < 0 ? digits : digits[..end], CultureInfo.InvariantCulture);
                if (read >= headerEnd + 4 + length) return read;
            }
            else if (span.EndsWith("\r\n0\r\n\r\n"u8))
            {
                return read;
            }
        }
    }

    private sealed class ProbeHost : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            // As the load benchmark: no client JWTs (scenarios e/e2 measure those), no per-client rate limit, the
            // card log in a scratch file.
            builder.UseSetting("Security:RequireJwt", "false");
            builder.UseSetting("Limits:RequestsPerMinutePerClient", "0");
            builder.UseSetting("Storage:ConnectionString", "Data Source=" + Path.Combine(Path.GetTempPath(), $"cds-alloc-{Environment.ProcessId}.db"));
            builder.UseSetting("Analytics:CardLogSpoolPath", Path.Combine(Path.GetTempPath(), $"cds-alloc-{Environment.ProcessId}.spool"));
            // Production hashes patient ids for the lock-out with a configured key: a throwaway one.
            builder.UseSetting("Analytics:PatientKey", Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
            builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(new FixedTimeProvider()));
        }
    }
}
