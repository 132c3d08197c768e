namespace Vitals.Testing;

/// <summary>
/// A manual clock whose wall time can be stepped (NTP after boot, an admin setting the time) while its monotonic
/// timestamp (<see cref="TimeProvider.GetTimestamp"/>) runs on unchanged, as a real machine's does.
/// <c>FakeTimeProvider</c> derives its timestamp from its wall time, so it cannot show a step. Creates no timers.
/// </summary>
public sealed class SteppedClock(DateTimeOffset start) : TimeProvider
{
    private readonly Lock gate = new();
    private DateTimeOffset wall = start;
    private long elapsedTicks;

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return wall;
        }
    }

    /// <inheritdoc />
    public override long GetTimestamp()
    {
        lock (gate)
        {
            return elapsedTicks;
        }
    }

    /// <summary>Real time passes: the wall clock and the monotonic timestamp both move by <paramref name="by"/>.</summary>
    public void Advance(TimeSpan by)
    {
        lock (gate)
        {
            wall += by;
            elapsedTicks += by.Ticks;
        }
    }

    /// <summary>The wall clock is set: it jumps by <paramref name="by"/> (negative: back) while no real time passes.</summary>
    public void Step(TimeSpan by)
    {
        lock (gate)
        {
            wall += by;
        }
    }
}
