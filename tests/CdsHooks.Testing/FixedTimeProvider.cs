namespace CdsHooks.Testing;

/// <summary>A clock that stands still unless moved: tests never sleep and never depend on today's date.</summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    /// <summary>The date the fixtures were written for.</summary>
    public static readonly DateTimeOffset FixtureDate = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private DateTimeOffset _now = now;

    public FixedTimeProvider() : this(FixtureDate) { }

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;

    public void Set(DateTimeOffset now) => _now = now;
}
