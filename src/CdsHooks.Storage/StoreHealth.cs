using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace CdsHooks.Storage;

/// <summary>A store component that is failing: since when, why (safe to show: no data, no addresses), how often.</summary>
public sealed record StoreFailure(string Component, string Reason, DateTimeOffset Since, long Failures);

/// <summary>
/// What the stores' writers have seen lately, shared by every writer and read by <c>/health/ready</c>. A writer
/// calls <see cref="ReportFailure"/> when an operation fails and <see cref="ReportSuccess"/> when one succeeds;
/// readiness is unhealthy while any component is failing, with the reason. One warning is logged when a component
/// starts failing and one line when it recovers (an episode), never one per call; <c>cds.store.failures</c> counts
/// every failed operation. <see cref="ReportSuccess"/> costs one volatile read while nothing is failing, so a hot
/// path may call it after every operation.
/// </summary>
public sealed partial class StoreHealth
{
    public const string MeterName = "CdsHooks.Storage";

    /// <summary>Feedback writes (<see cref="FeedbackStore"/>).</summary>
    public const string Feedback = "feedback";

    /// <summary>Redis (the jti replay store and the readiness probe).</summary>
    public const string Redis = "redis";

    private const int MaxReasonLength = 200;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Episode> _failing = new(StringComparer.Ordinal);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;
    private readonly ILogger<StoreHealth> _logger;
    private readonly Counter<long> _failures;
    private TaskCompletionSource _changed = NewSignal();
    private int _failingCount;

    public StoreHealth(TimeProvider clock, IMeterFactory meters, ILogger<StoreHealth> logger)
    {
        _clock = clock;
        _logger = logger;
        var meter = meters.Create(MeterName);
        _failures = meter.CreateCounter<long>("cds.store.failures", "{operation}", "Store operations that failed, by component (feedback, card-log, redis).");
        meter.CreateObservableGauge("cds.store.failing", ObserveFailing, "{component}", "1 while a store component is failing, 0 once it has recovered.");
    }

    /// <summary>Whether any component is failing now.</summary>
    public bool AnyFailing => Volatile.Read(ref _failingCount) > 0;

    /// <summary>Completes at the next change (a component starts failing or recovers): lets tests wait without polling.</summary>
    public Task WhenChanged
    {
        get
        {
            lock (_lock) return _changed.Task;
        }
    }

    /// <summary>The failing components, oldest episode first.</summary>
    public IReadOnlyList<StoreFailure> Failing
    {
        get
        {
            if (!AnyFailing) return [];
            lock (_lock)
            {
                return [.. _failing.Select(f => new StoreFailure(f.Key, f.Value.Reason, f.Value.Since, f.Value.Failures)).OrderBy(f => f.Since)];
            }
        }
    }

    public bool IsFailing(string component)
    {
        if (!AnyFailing) return false;
        lock (_lock) return _failing.ContainsKey(component);
    }

    /// <summary>
    /// One operation of <paramref name="component"/> failed. <paramref name="reason"/> is shown by <c>/health/ready</c>:
    /// keep it free of data, addresses and secrets (<see cref="Describe"/> makes one from an exception). The exception,
    /// when given, is logged with the first failure of an episode only.
    /// </summary>
    public void ReportFailure(string component, string reason, Exception? exception = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(component);
        if (reason.Length > MaxReasonLength) reason = reason[..MaxReasonLength] + "…";
        _failures.Add(1, new KeyValuePair<string, object?>("component", component));
        TaskCompletionSource? signal = null;
        lock (_lock)
        {
            _seen.Add(component);
            if (_failing.TryGetValue(component, out var episode))
            {
                episode.Reason = reason;
                episode.Failures++;
                return;
            }
            _failing[component] = new Episode(reason, _clock.GetUtcNow(), _clock.GetTimestamp());
            Volatile.Write(ref _failingCount, _failing.Count);
            signal = SwapSignal();
            // Under the lock (once per episode): a caller that finds the component failing, and answers 503 for it,
            // finds the episode's line already written. Logged after the lock, a connection-lost event on the Redis
            // client's thread could leave a burst of 503s with no line yet (seen in CI under load).
            LogFailing(_logger, exception, component, reason);
        }
        signal.TrySetResult();
    }

    /// <summary>An operation of <paramref name="component"/> succeeded: ends its failure episode, if any.</summary>
    public void ReportSuccess(string component)
    {
        if (!AnyFailing) return;
        Episode? ended;
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (!_failing.Remove(component, out ended)) return;
            Volatile.Write(ref _failingCount, _failing.Count);
            signal = SwapSignal();
            LogRecovered(_logger, component, _clock.GetElapsedTime(ended.StartedAt).TotalSeconds, ended.Failures);
        }
        signal.TrySetResult();
    }

    /// <summary>
    /// A short reason for an exception from a store client, fit for <c>/health/ready</c> (which is open): the engine's
    /// error code and message, or the kind of failure, never a host, file path, query value or password.
    /// </summary>
    public static string Describe(Exception exception) => exception switch
    {
        SqliteException sqlite => sqlite.Message, // "SQLite Error 13: 'database or disk is full'."
        PostgresException postgres => $"PostgreSQL {postgres.SqlState}: {postgres.MessageText}",
        NpgsqlException { InnerException: System.Net.Sockets.SocketException socket } => $"PostgreSQL connection failed ({socket.SocketErrorCode})",
        NpgsqlException { InnerException: TimeoutException } => "PostgreSQL did not answer in time",
        NpgsqlException npgsql => "PostgreSQL: " + npgsql.GetType().Name,
        RedisConnectionException redis => $"not connected ({redis.FailureType})",
        RedisServerException redis => "error reply: " + redis.Message,
        TimeoutException => "timed out",
        _ => exception.GetType().Name,
    };

    private TaskCompletionSource SwapSignal()
    {
        var previous = _changed;
        _changed = NewSignal();
        return previous;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private IEnumerable<Measurement<int>> ObserveFailing()
    {
        lock (_lock)
        {
            return [.. _seen.Select(c => new Measurement<int>(_failing.ContainsKey(c) ? 1 : 0, new KeyValuePair<string, object?>("component", c)))];
        }
    }

    private sealed class Episode(string reason, DateTimeOffset since, long startedAt)
    {
        public string Reason { get; set; } = reason;
        public DateTimeOffset Since { get; } = since;
        public long StartedAt { get; } = startedAt;
        public long Failures { get; set; } = 1;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store {Component} is failing: {Reason}. Logged once until it recovers; /health/ready reports it")]
    private static partial void LogFailing(ILogger logger, Exception? exception, string component, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store {Component} recovered after {Seconds:0.0} s ({Failures} failed operations)")]
    private static partial void LogRecovered(ILogger logger, string component, double seconds, long failures);
}

/// <summary>A store could not answer (down, hung past its timeout, refusing): the caller answers 503, never 500.</summary>
public sealed class StoreUnavailableException(string component, string reason, Exception? innerException = null)
    : Exception($"{component} is unavailable: {reason}", innerException)
{
    public string Component { get; } = component;

    /// <summary>Why, as <see cref="StoreHealth.Describe"/> says it (safe to log and show).</summary>
    public string Reason { get; } = reason;
}
