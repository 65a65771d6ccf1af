using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace CdsHooks.Benchmarks;

/// <summary>
/// A fixed-rate, open-loop HTTP load generator (what wrk2 does; wrk2 is not packaged in Debian). Request i is
/// due at start + i / rate whatever happened to earlier requests, and its latency is measured from that due
/// time, not from when it was actually sent: a stalled server or a late generator shows up in the percentiles
/// instead of silently lowering the rate (no coordinated omission). The generator's own lateness is reported
/// separately as "send lag" so it can be told apart from the service's.
/// With <c>--tokens FILE</c> (one client JWT per line, from <c>tokens</c>) every request carries
/// <c>Authorization: Bearer</c> with its own token: the warm-up takes the first rate × warmup lines, the measured
/// phase the next rate × seconds, none is sent twice, and a file too short for both is refused before anything is sent.
/// With <c>--vary hookInstance,patientId</c> each request gets fresh random hex digits in those JSON string values (same
/// length, '-' kept: a UUID stays a UUID), so every call is a new hook call about a new patient (outage runs count the
/// cards stored). With <c>--timeline FILE</c> the measured phase's requests are written one per line: due time (Unix ms),
/// latency (ms), HTTP status (0: no answer), how late the generator sent it (ms; part of the latency).
/// </summary>
public static class OpenLoopLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        var o = CommandLine.Parse(args);
        var url = new Uri(o.Required("url"));
        var body = o.TryGetValue("body", out var bodyFile) ? File.ReadAllBytes(bodyFile) : null;
        var rate = int.Parse(o.GetValueOrDefault("rate", "1000"), CultureInfo.InvariantCulture);
        var seconds = double.Parse(o.GetValueOrDefault("seconds", "10"), CultureInfo.InvariantCulture);
        var warmup = double.Parse(o.GetValueOrDefault("warmup", "2"), CultureInfo.InvariantCulture);
        var connections = int.Parse(o.GetValueOrDefault("connections", "64"), CultureInfo.InvariantCulture);
        var varied = body is null || !o.TryGetValue("vary", out var vary) ? [] : VariedValues(body, vary.Split(','));
        var warmupCount = (int)(rate * warmup);
        var count = (int)(rate * seconds);
        string[]? tokens = null;
        if (o.TryGetValue("tokens", out var tokensFile))
        {
            tokens = File.ReadAllLines(tokensFile).Where(t => t.Length > 0).ToArray();
            if (tokens.Length < warmupCount + count)
            {
                await Console.Error.WriteLineAsync($"{tokensFile} holds {tokens.Length} tokens; {rate} req/s for {warmup} + {seconds} s needs {warmupCount + count} (one per request, never reused).");
                return 2;
            }
        }

        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            UseProxy = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };

        if (warmupCount > 0) await RunPhaseAsync(client, url, body, varied, rate, warmupCount, tokens?.AsMemory(0, warmupCount));
        var result = await RunPhaseAsync(client, url, body, varied, rate, count, tokens?.AsMemory(warmupCount, count));
        if (o.TryGetValue("timeline", out var timeline))
        {
            await File.WriteAllLinesAsync(timeline, result.Timeline.Select(r =>
                string.Create(CultureInfo.InvariantCulture, $"{r.DueUnixMs}\t{r.LatencyMs:0.00}\t{r.Status}\t{r.SendLagMs:0.00}")));
        }

        // One machine-readable line for bench/run.sh; milliseconds.
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT requests={result.Count} ok={result.Ok} errors={result.Errors} rps={result.AchievedRate:0} p50={result.Percentile(50):0.00} p90={result.Percentile(90):0.00} p99={result.Percentile(99):0.00} max={result.Percentile(100):0.00} sendlag_p99={result.SendLagP99:0.00}{(tokens is null ? "" : $" tokens={count} unauthorized={result.Unauthorized}")}"));
        return 0;
    }

    /// <summary>Sends <paramref name="count"/> requests at <paramref name="rate"/> per second; <paramref name="tokens"/>: one per request, in order, or null for unauthenticated requests.</summary>
    private static async Task<PhaseResult> RunPhaseAsync(HttpClient client, Uri url, byte[]? body, (int Start, int Length)[] varied, int rate, int count, ReadOnlyMemory<string>? tokens)
    {
        var latencies = new double[count];
        var lags = new double[count];
        var tasks = new Task<int>[count];
        var ticksPerRequest = (double)Stopwatch.Frequency / rate;

        // A dedicated thread dispatches on schedule so that request completions on the thread pool cannot delay it.
        var start = Stopwatch.GetTimestamp();
        var startUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var dispatcher = new Thread(() =>
        {
            for (int i = 0; i < count; i++)
            {
                var due = start + (long)(i * ticksPerRequest);
                long now;
                while ((now = Stopwatch.GetTimestamp()) < due)
                {
                    if (due - now > Stopwatch.Frequency / 500) Thread.Sleep(1);
                    else Thread.Yield();
                }
                lags[i] = Milliseconds(now - due);
                var index = i;
                var token = tokens?.Span[i];
                tasks[i] = Task.Run(() => SendAsync(client, url, Vary(body, varied), token, due, latencies, index));
            }
        }) { IsBackground = true, Name = "open-loop dispatcher" };
        dispatcher.Start();
        dispatcher.Join();
        var outcomes = await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ok = outcomes.Count(status => status is >= 200 and < 300);
        var unauthorized = outcomes.Count(status => status == 401);
        var timeline = new TimelineEntry[count];
        for (var i = 0; i < count; i++) timeline[i] = new TimelineEntry(startUnixMs + (long)(i * 1000.0 / rate), latencies[i], outcomes[i], lags[i]);
        Array.Sort(latencies);
        Array.Sort(lags);
        return new PhaseResult(count, ok, count - ok, unauthorized, count / elapsed, latencies, lags[Math.Min(count - 1, (int)(count * 0.99))], timeline);
    }

    /// <summary>Where the values of the named JSON string properties are in <paramref name="body"/> (their first occurrence).</summary>
    private static (int Start, int Length)[] VariedValues(byte[] body, string[] names)
    {
        var text = System.Text.Encoding.UTF8.GetString(body);
        return [.. names.Select(name =>
        {
            var match = System.Text.RegularExpressions.Regex.Match(text, "\"" + System.Text.RegularExpressions.Regex.Escape(name) + "\"\\s*:\\s*\"([^\"]+)\"");
            if (!match.Success || text.Length != body.Length) throw new ArgumentException($"--vary: no ASCII string value for \"{name}\" in the body.");
            return (match.Groups[1].Index, match.Groups[1].Length);
        })];
    }

    /// <summary>A copy of <paramref name="body"/> with fresh random hex digits in the varied values ('-' kept).</summary>
    private static byte[]? Vary(byte[]? body, (int Start, int Length)[] varied)
    {
        if (body is null || varied.Length == 0) return body;
        var copy = (byte[])body.Clone();
        foreach (var (start, length) in varied)
        {
            for (var i = start; i < start + length; i++)
            {
                if (copy[i] != (byte)'-') copy[i] = (byte)"0123456789abcdef"[Random.Shared.Next(16)];
            }
        }
        return copy;
    }

    /// <returns>The HTTP status, or 0 when no answer came.</returns>
    private static async Task<int> SendAsync(HttpClient client, Uri url, byte[]? body, string? token, long due, double[] latencies, int index)
    {
        try
        {
            using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, url);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            return (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
        finally
        {
            latencies[index] = Milliseconds(Stopwatch.GetTimestamp() - due);
        }
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private readonly record struct TimelineEntry(long DueUnixMs, double LatencyMs, int Status, double SendLagMs);

    private sealed record PhaseResult(int Count, int Ok, int Errors, int Unauthorized, double AchievedRate, double[] Sorted, double SendLagP99, TimelineEntry[] Timeline)
    {
        public double Percentile(double p) => Sorted.Length == 0 ? 0 : Sorted[Math.Min(Sorted.Length - 1, (int)Math.Ceiling(Sorted.Length * p / 100.0) - 1)];
    }
}

/// <summary>"--name value" pairs.</summary>
internal static class CommandLine
{
    public static Dictionary<string, string> Parse(string[] args)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Expected --name value, got '{args[i]}'.");
            map[args[i][2..]] = args[i + 1];
        }
        return map;
    }

    public static string Required(this Dictionary<string, string> map, string name) =>
        map.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required.");
}
