using Vitals.Devices.Feeds;

namespace Vitals.Gateway.Pipeline;

/// <summary>A point-in-time copy of a feed's counters, as served on the status endpoint and the dashboard.</summary>
/// <param name="Chair">Chair the feed is bound to (empty for the HL7 listener, which serves many chairs).</param>
/// <param name="Device">Device id (for the listener, <c>mllp:address:port</c>).</param>
/// <param name="Kind"><c>simulator</c>, <c>serial</c>, <c>hl7</c> or <c>hl7-listener</c>.</param>
/// <param name="Connected">Transport open (simulator: not silent; hl7 device: the listener has a connection and the device has sent).</param>
/// <param name="FramesOk">Frames (lines, messages, simulator steps) that decoded.</param>
/// <param name="FramesBad">Frames that could not be used.</param>
/// <param name="Bytes">Bytes received (0 for the in-process simulator).</param>
/// <param name="LastFrameAt">When the last good frame arrived.</param>
/// <param name="Reconnects">Times the transport was lost and retried.</param>
/// <param name="LastError">Why the last frame was bad or the transport dropped.</param>
/// <param name="Conditions">Technical conditions the device reports now (for example <c>SensorOff</c>).</param>
/// <param name="Connections">The HL7 listener's connection counters (only on the <c>hl7-listener</c> entry).</param>
public sealed record FeedSnapshot(
    string Chair,
    string Device,
    string Kind,
    bool Connected,
    long FramesOk,
    long FramesBad,
    long Bytes,
    DateTimeOffset? LastFrameAt,
    long Reconnects = 0,
    string? LastError = null,
    IReadOnlyList<string>? Conditions = null,
    ListenerConnections? Connections = null);

/// <summary>What a TCP listener did with its connections, since start.</summary>
/// <param name="Open">Connections open now.</param>
/// <param name="IdleClosed">Closed because they sent no complete message within the idle timeout (<c>hl7.idleTimeoutSeconds</c>).</param>
/// <param name="Evicted">Idle connections closed to make room for a new one at a connection cap (<c>hl7.maxConnectionsPerSource</c> or the listener-wide cap).</param>
/// <param name="Refused">New connections closed at once: a cap was reached and every connection in it was busy with a message.</param>
/// <param name="Faults">Connections ended by an unexpected error in the gateway (not by the peer); should stay 0.</param>
public sealed record ListenerConnections(int Open, long IdleClosed, long Evicted, long Refused, long Faults);

/// <summary>
/// One feed's identity and its counters. The counting itself is <see cref="FeedCounters"/> (Vitals.Devices), the one
/// counter type every feed (simulator, serial, HL7) updates; this adds the chair binding and kind.
/// </summary>
/// <remarks><paramref name="connections"/> reads a listener's connection counters (the <c>hl7-listener</c> entry only).</remarks>
public sealed class FeedStatus(string chair, string device, string kind, FeedCounters? counters = null, Func<ListenerConnections>? connections = null)
{
    /// <summary>Chair the feed is bound to.</summary>
    public string Chair { get; } = chair;

    /// <summary>Device id.</summary>
    public string Device { get; } = device;

    /// <summary>Device kind (simulator, serial, hl7, hl7-listener).</summary>
    public string Kind { get; } = kind;

    /// <summary>The live counters, shared with the feed that writes them.</summary>
    public FeedCounters Counters { get; } = counters ?? new FeedCounters();

    /// <summary>Counts a frame that decoded.</summary>
    public void FrameOk(DateTimeOffset at, int byteCount = 0)
    {
        Counters.AddBytes(byteCount);
        Counters.FrameOk(at);
    }

    /// <summary>Counts a frame that could not be used.</summary>
    public void FrameBad(string reason, int byteCount = 0)
    {
        Counters.AddBytes(byteCount);
        Counters.FrameBad(reason);
    }

    /// <summary>Records whether the transport is connected.</summary>
    public void SetConnected(bool value) => Counters.SetConnected(value);

    /// <summary>A consistent-enough copy for display.</summary>
    public FeedSnapshot Snapshot()
    {
        var c = Counters.Snapshot();
        return new FeedSnapshot(
            Chair, Device, Kind, c.Connected, c.FramesOk, c.FramesBad, c.Bytes, c.LastFrameAt, c.Reconnects, c.LastError, c.Conditions.Count == 0 ? null : c.Conditions,
            connections?.Invoke());
    }
}

/// <summary>Every feed's status, registered at startup.</summary>
public sealed class FeedRegistry
{
    private readonly List<FeedStatus> feeds = [];

    /// <summary>Registers a feed and returns its status; pass the feed's own <paramref name="counters"/> when it has them.</summary>
    public FeedStatus Register(string chair, string device, string kind, FeedCounters? counters = null, Func<ListenerConnections>? connections = null)
    {
        var status = new FeedStatus(chair, device, kind, counters, connections);
        lock (feeds)
        {
            feeds.Add(status);
        }

        return status;
    }

    /// <summary>Removes a feed whose device was unbound from its chair.</summary>
    public void Remove(FeedStatus status)
    {
        lock (feeds)
        {
            feeds.Remove(status);
        }
    }

    /// <summary>The registered feeds.</summary>
    public List<FeedStatus> All()
    {
        lock (feeds)
        {
            return [.. feeds];
        }
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
