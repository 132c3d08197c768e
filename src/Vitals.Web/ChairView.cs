using Vitals.Core;

namespace Vitals.Web;

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
/// <param name="AckWriteTimeouts">Closed because the sender stopped reading: an ACK could not be written within <c>hl7.ackWriteTimeoutSeconds</c> (the message itself was stored).</param>
/// <param name="Faults">Connections ended by an unexpected error in the gateway (not by the peer); should stay 0.</param>
public sealed record ListenerConnections(int Open, long IdleClosed, long Evicted, long Refused, long AckWriteTimeouts, long Faults);

/// <summary>The latest value of one sign at one chair.</summary>
public sealed record LatestValue(double Value, string Unit, DateTimeOffset At, ObservationQuality Quality);

/// <summary>What the dashboard shows for one chair.</summary>
/// <param name="Id">Chair id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Feeds">The chair's feeds and their counters.</param>
/// <param name="Values">Latest value per sign.</param>
/// <param name="Alarms">Active alarms, highest priority first.</param>
/// <param name="StaleSigns">Signs this chair's monitor has stopped sending while other values still arrive (judged by the host's stale limits).</param>
public sealed record ChairView(
    string Id,
    string Name,
    IReadOnlyList<FeedSnapshot> Feeds,
    IReadOnlyDictionary<Sign, LatestValue> Values,
    IReadOnlyList<AlarmEvent> Alarms,
    IReadOnlyList<Sign> StaleSigns);
