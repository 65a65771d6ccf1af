using Microsoft.Extensions.Time.Testing;

namespace CdsHooks.Testing;

/// <summary>
/// The date stands still unless a test moves it (<see cref="FakeTimeProvider.Advance"/>, <see cref="Set"/>): tests never
/// depend on today's date. Unlike <see cref="ManualTimeProvider"/>, its timers and timestamps are the system's, so a
/// host's deadlines and bounds (the FHIR read deadline, the lock-out lookup's bound, durations) still run in real time
/// while the dates the rules see are fixed.
/// </summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : FakeTimeProvider(now)
{
    /// <summary>The date the fixtures were written for.</summary>
    public static readonly DateTimeOffset FixtureDate = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public FixedTimeProvider() : this(FixtureDate) { }

    /// <summary>Sets the date, backwards too (a test going back to the fixtures' date).</summary>
    public void Set(DateTimeOffset now) => AdjustTime(now);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        System.CreateTimer(callback, state, dueTime, period);

    public override long GetTimestamp() => System.GetTimestamp();

    public override long TimestampFrequency => System.TimestampFrequency;
}
