namespace Vitals.Gateway.Pipeline;

/// <summary>A point-in-time copy of a feed's counters, as served on the status endpoint and the dashboard.</summary>
public sealed record FeedSnapshot(
    string Chair, string Device, string Kind, bool Connected, long FramesOk, long FramesBad, long Bytes, DateTimeOffset? LastFrameAt);

/// <summary>Live counters of one feed. Updated by the feed's own task, read by anyone: lock-free.</summary>
public sealed class FeedStatus(string chair, string device, string kind)
{
    private long framesOk;
    private long framesBad;
    private long bytes;
    private long lastFrameMs = long.MinValue;
    private int connected;

    /// <summary>Chair the feed is bound to.</summary>
    public string Chair { get; } = chair;

    /// <summary>Device id.</summary>
    public string Device { get; } = device;

    /// <summary>Device kind (simulator, serial, hl7, mqtt).</summary>
    public string Kind { get; } = kind;

    /// <summary>Counts a frame that decoded.</summary>
    public void FrameOk(DateTimeOffset at, int byteCount = 0)
    {
        Interlocked.Increment(ref framesOk);
        Interlocked.Add(ref bytes, byteCount);
        Interlocked.Exchange(ref lastFrameMs, at.ToUnixTimeMilliseconds());
    }

    /// <summary>Counts a frame that could not be used.</summary>
    public void FrameBad(int byteCount = 0)
    {
        Interlocked.Increment(ref framesBad);
        Interlocked.Add(ref bytes, byteCount);
    }

    /// <summary>Records whether the transport is connected.</summary>
    public void SetConnected(bool value) => Interlocked.Exchange(ref connected, value ? 1 : 0);

    /// <summary>A consistent-enough copy for display.</summary>
    public FeedSnapshot Snapshot()
    {
        var last = Interlocked.Read(ref lastFrameMs);
        return new FeedSnapshot(
            Chair, Device, Kind, Volatile.Read(ref connected) == 1, Interlocked.Read(ref framesOk), Interlocked.Read(ref framesBad),
            Interlocked.Read(ref bytes), last == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(last));
    }
}

/// <summary>Every feed's status, registered at startup.</summary>
public sealed class FeedRegistry
{
    private readonly List<FeedStatus> feeds = [];

    /// <summary>Registers a feed and returns its counters.</summary>
    public FeedStatus Register(string chair, string device, string kind)
    {
        var status = new FeedStatus(chair, device, kind);
        lock (feeds)
        {
            feeds.Add(status);
        }

        return status;
    }

    /// <summary>Snapshots of every feed.</summary>
    public List<FeedSnapshot> Snapshot()
    {
        lock (feeds)
        {
            return [.. feeds.Select(f => f.Snapshot())];
        }
    }
}
