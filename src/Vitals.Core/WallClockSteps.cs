namespace Vitals.Core;

/// <summary>One step of the wall clock, as <see cref="WallClockSteps"/> noticed it.</summary>
/// <param name="By">How far the wall clock jumped beyond the real time that passed (negative: set back).</param>
/// <param name="At">The wall clock when the step was noticed (on the new clock).</param>
public readonly record struct WallClockStep(TimeSpan By, DateTimeOffset At)
{
    /// <summary>
    /// True for a time read from the wall clock before the step (nearer the old clock than the new): readings stamped
    /// just before the step but judged after it, or times that were kept from before it.
    /// </summary>
    public bool IsBefore(DateTimeOffset time) => By > TimeSpan.Zero ? time < At - (By / 2) : time > At - (By / 2);
}

/// <summary>
/// Notices steps of the wall clock by comparing how far it moved with how far a monotonic clock moved between two
/// readings. A box without a real-time clock boots at a wrong time and is stepped by NTP; an admin sets the clock. Small
/// differences are NTP slewing (at most 0.5 ms/s) and the time between the two clock reads, never a step: only a
/// difference of at least <see cref="Tolerance"/> counts. Pure: the caller reads both clocks (at the edge) and passes them.
/// </summary>
/// <param name="tolerance">Smallest difference that counts as a step.</param>
public sealed class WallClockSteps(TimeSpan tolerance)
{
    /// <summary>
    /// Default smallest step: 2 s. Over a second between ticks slewing adds under a millisecond, and a busy machine
    /// may pause a thread between the two clock reads for some tens of milliseconds; a smaller step shifts no alarm by
    /// more than itself.
    /// </summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromSeconds(2);

    private DateTimeOffset? lastWall;
    private long lastTimestamp;

    /// <summary>Creates a watch with <see cref="DefaultTolerance"/>.</summary>
    public WallClockSteps()
        : this(DefaultTolerance)
    {
    }

    /// <summary>Smallest difference that counts as a step.</summary>
    public TimeSpan Tolerance { get; } = tolerance;

    /// <summary>Steps noticed since start.</summary>
    public long Count { get; private set; }

    /// <summary>The latest step noticed, if any.</summary>
    public WallClockStep? Last { get; private set; }

    /// <summary>
    /// Compares <paramref name="wall"/> and <paramref name="timestamp"/> (a monotonic clock counting
    /// <paramref name="frequency"/> per second, as <see cref="TimeProvider.GetTimestamp"/>) with the previous call's.
    /// Returns the step when the wall clock moved at least <see cref="Tolerance"/> more or less than real time.
    /// </summary>
    public WallClockStep? Check(DateTimeOffset wall, long timestamp, long frequency)
    {
        var previous = lastWall;
        var real = TimeSpan.FromTicks((long)((timestamp - lastTimestamp) * ((double)TimeSpan.TicksPerSecond / frequency)));
        lastWall = wall;
        lastTimestamp = timestamp;
        if (previous is not { } before)
        {
            return null;
        }

        var by = wall - before - real;
        if (by.Duration() < Tolerance)
        {
            return null;
        }

        Count++;
        Last = new WallClockStep(by, wall);
        return Last;
    }
}
