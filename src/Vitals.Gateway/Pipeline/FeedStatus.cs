using Vitals.Devices.Feeds;

namespace Vitals.Gateway.Pipeline;

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

    /// <summary>
    /// Snapshots of one chair's feeds. The chair's view is built every second per chair for its MQTT state: snapshotting
    /// every feed there made chairs x chairs snapshots a second (a million at 1,000 chairs).
    /// </summary>
    public List<FeedSnapshot> Snapshot(string chair)
    {
        lock (feeds)
        {
            List<FeedSnapshot> of = [];
            foreach (var f in feeds)
            {
                if (f.Chair == chair)
                {
                    of.Add(f.Snapshot());
                }
            }

            return of;
        }
    }
}
