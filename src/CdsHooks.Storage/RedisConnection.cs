using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CdsHooks.Storage;

/// <summary>
/// The process's one Redis connection, and the only way to use it: every operation gets
/// <see cref="RedisOptions.OperationTimeout"/> at most, and any failure, timeout included, becomes a
/// <see cref="StoreUnavailableException"/> (reported to <see cref="StoreHealth"/> as <see cref="StoreHealth.Redis"/>).
/// Start-up never waits for Redis: the connection is opened in the background when the host starts, and a Redis that
/// is down then (or later) is reconnected in the background while readiness says not ready and calls get 503.
/// </summary>
public sealed partial class RedisConnection : IHostedService, IAsyncDisposable
{
    /// <summary>Reconnect attempts back off from 250 ms to 2 s, so a Redis that is back is used again within ~2 s.</summary>
    private static readonly ExponentialRetry Reconnect = new(250, 2000);

    private readonly ConfigurationOptions _configuration;
    private readonly StoreHealth _health;
    private readonly ILogger<RedisConnection> _logger;
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection;

    public RedisConnection(IOptions<RedisOptions> options, StoreHealth health, ILogger<RedisConnection> logger)
    {
        OperationTimeout = options.Value.OperationTimeout;
        _configuration = Configure(options.Value);
        _health = health;
        _logger = logger;
        _connection = new(ConnectAsync);
    }

    public TimeSpan OperationTimeout { get; }

    /// <summary>
    /// The client settings: the connection string as given, with what makes failures fast and closed layered on top.
    /// Commands issued while disconnected fail at once (<see cref="BacklogPolicy.FailFast"/>) instead of queueing; the
    /// client's own timeouts match ours; a failed first connection does not abort (reconnects go on in the background);
    /// exceptions carry no command or key detail.
    /// </summary>
    public static ConfigurationOptions Configure(RedisOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.ConnectionString!);
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.AsyncTimeout = configuration.SyncTimeout = options.OperationTimeoutMilliseconds;
        configuration.ReconnectRetryPolicy = Reconnect;
        configuration.IncludeDetailInExceptions = false;
        return configuration;
    }

    /// <summary>Starts connecting; does not wait for it.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = _connection.Value;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The first connection attempt (started if not yet): for tests that must not race it.</summary>
    internal Task FirstAttempt => _connection.Value;

    /// <summary>
    /// Runs <paramref name="command"/> within <see cref="OperationTimeout"/> (connecting included). Throws
    /// <see cref="StoreUnavailableException"/> when Redis fails or does not answer in time, and
    /// <see cref="OperationCanceledException"/> only when <paramref name="cancellationToken"/> (the caller's) is cancelled.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> command, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var connecting = _connection.Value;
            var multiplexer = connecting.IsCompletedSuccessfully ? connecting.Result : await connecting.WaitAsync(OperationTimeout, cancellationToken);
            var remaining = OperationTimeout - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero) throw new TimeoutException();
            var pending = command(multiplexer.GetDatabase());
            T result;
            try
            {
                result = await pending.WaitAsync(remaining, cancellationToken);
            }
            catch when (!pending.IsCompleted)
            {
                // Given up on, not abandoned: the client fails it later (its own timeout); observe that quietly.
                _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                throw;
            }
            _health.ReportSuccess(StoreHealth.Redis);
            return result;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not StoreUnavailableException)
        {
            var reason = ex is TimeoutException ? $"no answer within {OperationTimeout.TotalMilliseconds:0} ms" : StoreHealth.Describe(ex);
            _health.ReportFailure(StoreHealth.Redis, reason, ex);
            throw new StoreUnavailableException(StoreHealth.Redis, reason, ex);
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(_configuration);
        multiplexer.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive) _health.ReportFailure(StoreHealth.Redis, $"connection lost ({e.FailureType})", e.Exception);
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive) _health.ReportSuccess(StoreHealth.Redis);
        };
        if (multiplexer.IsConnected)
        {
            LogConnected(_logger);
            _health.ReportSuccess(StoreHealth.Redis);
        }
        else
        {
            _health.ReportFailure(StoreHealth.Redis, "not connected at start-up (reconnecting in the background)");
        }
        return multiplexer;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_connection.IsValueCreated) return;
        var connecting = _connection.Value;
        try
        {
            // A hung Redis must not hold up shutdown: a connection still being opened is closed when it opens.
            await (await connecting.WaitAsync(TimeSpan.FromSeconds(1))).DisposeAsync();
        }
        catch (TimeoutException)
        {
            _ = connecting.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            // Shutting down: nothing to do about a connection that fails to close.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to Redis")]
    private static partial void LogConnected(ILogger logger);
}
