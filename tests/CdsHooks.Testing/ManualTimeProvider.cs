using Microsoft.Extensions.Time.Testing;

namespace CdsHooks.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> (time, and timers, move only when a test says so: Polly's delays, timeouts and
/// circuit breaks and the service's deadlines run against it without any test sleeping) that also lets a test wait
/// until the code under test has set a timer, instead of polling for it. Starts at the fixtures' date.
/// </summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock _lock = new();
    private readonly List<WatchedTimer> _pending = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ManualTimeProvider() : this(FixedTimeProvider.FixtureDate) { }

    /// <summary>Due times (as requested when each was set) of the timers still waiting.</summary>
    public IReadOnlyList<TimeSpan> PendingTimers()
    {
        lock (_lock) return [.. _pending.Select(t => t.Requested)];
    }

    /// <summary>Waits (in real time, bounded) until a timer whose requested due time matches is waiting.</summary>
    public Task WaitForTimerAsync(Func<TimeSpan, bool> dueTime, TimeSpan timeout) =>
        WaitForTimersAsync(pending => pending.Any(dueTime), timeout);

    /// <summary>Waits (in real time, bounded) until the waiting timers' requested due times meet <paramref name="condition"/>.</summary>
    public async Task WaitForTimersAsync(Func<IReadOnlyList<TimeSpan>, bool> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (condition([.. _pending.Select(t => t.Requested)])) return;
                changed = _changed.Task;
            }
            await changed.WaitAsync(cts.Token);
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new WatchedTimer(this, callback, state);
        timer.Inner = base.CreateTimer(static s => ((WatchedTimer)s!).Fire(), timer, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Records a timer's (re)scheduling, then wakes the waiters: the fake timer is set before anyone can advance past it.</summary>
    private void Schedule(WatchedTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            timer.Inner!.Change(dueTime, period);
            _pending.Remove(timer);
            timer.Requested = dueTime;
            timer.Periodic = period > TimeSpan.Zero && period != Timeout.InfiniteTimeSpan;
            if (dueTime != Timeout.InfiniteTimeSpan) _pending.Add(timer);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    private void Fired(WatchedTimer timer)
    {
        lock (_lock)
        {
            if (!timer.Periodic) _pending.Remove(timer);
        }
    }

    private void Remove(WatchedTimer timer)
    {
        lock (_lock)
        {
            _pending.Remove(timer);
            timer.Inner!.Dispose();
        }
    }

    /// <summary>The library's fake timer, watched: which timers wait, and for how long each asked.</summary>
    private sealed class WatchedTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public ITimer? Inner { get; set; }
        public TimeSpan Requested { get; set; }
        public bool Periodic { get; set; }

        public void Fire()
        {
            owner.Fired(this);
            callback(state);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            owner.Schedule(this, dueTime, period);
            return true;
        }

        public void Dispose() => owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
