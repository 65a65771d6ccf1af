namespace CdsHooks.Testing;

/// <summary>
/// A clock whose time, and timers, move only when a test says so: Polly's delays, timeouts and circuit breaks
/// and the service's deadlines run against it without any test sleeping. Starts at the fixtures' date.
/// </summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = start;
    private TaskCompletionSource _timerCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ManualTimeProvider() : this(FixedTimeProvider.FixtureDate) { }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>Due times (from their creation) of the timers still waiting.</summary>
    public IReadOnlyList<TimeSpan> PendingTimers()
    {
        lock (_lock) return [.. _timers.Select(t => t.Requested)];
    }

    /// <summary>Waits (in real time, bounded) until a timer whose requested due time matches is waiting.</summary>
    public async Task WaitForTimerAsync(Func<TimeSpan, bool> dueTime, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task created;
            lock (_lock)
            {
                if (_timers.Exists(t => dueTime(t.Requested))) return;
                created = _timerCreated.Task;
            }
            await created.WaitAsync(cts.Token);
        }
    }

    /// <summary>Moves time forward, firing every timer that falls due on the way, in order.</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset target;
        lock (_lock) target = _now + by;
        while (true)
        {
            ManualTimer? due;
            lock (_lock)
            {
                due = _timers.Where(t => t.DueAt <= target).MinBy(t => t.DueAt);
                if (due is null)
                {
                    _now = target;
                    return;
                }
                if (due.DueAt > _now) _now = due.DueAt;
                if (due.Period > TimeSpan.Zero && due.Period != Timeout.InfiniteTimeSpan) due.DueAt = _now + due.Period;
                else _timers.Remove(due);
            }
            due.Fire();
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private void Schedule(ManualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        TaskCompletionSource created;
        lock (_lock)
        {
            _timers.Remove(timer);
            if (dueTime == Timeout.InfiniteTimeSpan) return;
            timer.Requested = dueTime;
            timer.DueAt = _now + dueTime;
            timer.Period = period;
            _timers.Add(timer);
            created = _timerCreated;
            _timerCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        created.TrySetResult();
    }

    private void Remove(ManualTimer timer)
    {
        lock (_lock) _timers.Remove(timer);
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public TimeSpan Requested { get; set; }
        public DateTimeOffset DueAt { get; set; }
        public TimeSpan Period { get; set; }

        public void Fire() => callback(state);

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
