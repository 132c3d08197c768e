namespace Vitals.Devices.Feeds;

/// <summary>
/// Health counters for one feed, written by the feed and read by status endpoints from any thread (Interlocked/Volatile).
/// Maps to the <c>feed_status</c> measurement in DESIGN.md (connected, frames_ok, frames_bad).
/// </summary>
public sealed class FeedCounters
{
    private long framesOk;
    private long framesBad;
    private long bytes;
    private long reconnects;
    private long lastFrameUtcTicks;
    private long lastReconnectDelayTicks;
    private int connected;
    private string? lastError;
    private IReadOnlyList<string> conditions = [];

    /// <summary>Frames that decoded.</summary>
    public long FramesOk => Interlocked.Read(ref framesOk);

    /// <summary>Frames counted bad (undecodable, overlong, codec error).</summary>
    public long FramesBad => Interlocked.Read(ref framesBad);

    /// <summary>Bytes received.</summary>
    public long Bytes => Interlocked.Read(ref bytes);

    /// <summary>Times the transport was lost and retried.</summary>
    public long Reconnects => Interlocked.Read(ref reconnects);

    /// <summary>Receive time of the last good frame, or null before the first.</summary>
    public DateTimeOffset? LastFrameAt
    {
        get
        {
            long ticks = Interlocked.Read(ref lastFrameUtcTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>True while the transport is open.</summary>
    public bool Connected => Volatile.Read(ref connected) != 0;

    /// <summary>Why the last frame was bad or the transport dropped; never contains patient data beyond the device's own error text.</summary>
    public string? LastError => Volatile.Read(ref lastError);

    /// <summary>Technical conditions the device reported in its last good frame (for example <c>SensorOff</c>).</summary>
    public IReadOnlyList<string> Conditions => Volatile.Read(ref conditions);

    /// <summary>Replaces the device's technical conditions (the list is not copied: pass an immutable one).</summary>
    public void SetConditions(IReadOnlyList<string> value) => Volatile.Write(ref conditions, value ?? []);

    /// <summary>Counts received bytes.</summary>
    public void AddBytes(int count) => Interlocked.Add(ref bytes, count);

    /// <summary>Counts a good frame received at <paramref name="receivedAt"/>.</summary>
    public void FrameOk(DateTimeOffset receivedAt)
    {
        Interlocked.Increment(ref framesOk);
        Interlocked.Exchange(ref lastFrameUtcTicks, receivedAt.UtcTicks);
    }

    /// <summary>Counts <paramref name="count"/> bad frames and remembers why.</summary>
    public void FrameBad(string reason, long count = 1)
    {
        Interlocked.Add(ref framesBad, count);
        Volatile.Write(ref lastError, reason);
    }

    /// <summary>Records a transport state change.</summary>
    public void SetConnected(bool value, string? reason = null)
    {
        Volatile.Write(ref connected, value ? 1 : 0);
        if (reason is not null)
        {
            Volatile.Write(ref lastError, reason);
        }
    }

    /// <summary>How long the feed waits before its next reconnect attempt (zero when reconnecting at once).</summary>
    public TimeSpan LastReconnectDelay => TimeSpan.FromTicks(Interlocked.Read(ref lastReconnectDelayTicks));

    /// <summary>Counts a reconnect attempt that starts after <paramref name="delay"/>.</summary>
    public void Reconnecting(TimeSpan delay = default)
    {
        Interlocked.Increment(ref reconnects);
        Interlocked.Exchange(ref lastReconnectDelayTicks, delay.Ticks);
    }

    /// <summary>A consistent-enough copy for a status endpoint.</summary>
    public FeedCountersSnapshot Snapshot() => new(Connected, FramesOk, FramesBad, Bytes, Reconnects, LastFrameAt, LastError, LastReconnectDelay, Conditions);
}

/// <summary>A copy of <see cref="FeedCounters"/> at one moment.</summary>
public sealed record FeedCountersSnapshot(
    bool Connected, long FramesOk, long FramesBad, long Bytes, long Reconnects, DateTimeOffset? LastFrameAt, string? LastError, TimeSpan LastReconnectDelay, IReadOnlyList<string> Conditions);
