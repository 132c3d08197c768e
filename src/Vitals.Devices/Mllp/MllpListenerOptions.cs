using System.Net;

namespace Vitals.Devices.Mllp;

/// <summary>Configuration of <see cref="MllpListener"/>. Call <see cref="Validate"/> at startup.</summary>
public sealed class MllpListenerOptions
{
    /// <summary>Default bind address: loopback only, so nothing is exposed until an integrator says so.</summary>
    public const string DefaultAddress = "127.0.0.1";

    /// <summary>Default port: 2575, the IANA port registered for HL7 over MLLP.</summary>
    public const int DefaultPort = 2575;

    /// <summary>Default time to wait for room in the observation channel before answering AE.</summary>
    public static readonly TimeSpan DefaultChannelWriteTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Default cap on simultaneous connections.</summary>
    public const int DefaultMaxConnections = 256;

    /// <summary>
    /// Default cap on simultaneous connections from one address: room for a vendor gateway that opens one connection per
    /// monitor, while one misbehaving host cannot take every slot.
    /// </summary>
    public const int DefaultMaxConnectionsPerSource = 32;

    /// <summary>
    /// Default time a connection may go without a complete message before it is closed. Monitors that send less often
    /// (GE B40: every 1-60 min) simply reconnect with their next message, as MLLP senders do after any disconnect.
    /// </summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Default time to wait for the store to commit a message's readings before answering AE. Below the 10-30 s that
    /// senders commonly wait for an ACK, so the sender hears AE (and retransmits) rather than timing out.
    /// </summary>
    public static readonly TimeSpan DefaultAckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Default time an ACK may take to be written. A sender that reads its ACKs takes each at once; a write waits only when
    /// the sender has left hundreds of kilobytes of ACKs unread, so this long a wait means it stopped reading.
    /// </summary>
    public static readonly TimeSpan DefaultAckWriteTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Default quiet time before TCP keep-alive probes start. A sender whose cable is pulled or that lost power
    /// never closes its connection; probes find it gone (after <see cref="KeepAliveProbes"/> unanswered ones,
    /// <see cref="KeepAliveProbeInterval"/> apart: about 45 s in all) so it stops counting as connected and
    /// frees its slot. A quiet but live sender answers the probes and is never cut off.
    /// </summary>
    public static readonly TimeSpan DefaultKeepAliveIdle = TimeSpan.FromSeconds(30);

    /// <summary>Time between unanswered keep-alive probes.</summary>
    public static readonly TimeSpan KeepAliveProbeInterval = TimeSpan.FromSeconds(5);

    /// <summary>Unanswered keep-alive probes after which the connection is dropped.</summary>
    public const int KeepAliveProbes = 3;

    /// <summary>Address to bind (IPv4 or IPv6 literal; <c>0.0.0.0</c> for every interface).</summary>
    public string Address { get; set; } = DefaultAddress;

    /// <summary>TCP port; 0 picks a free port (tests), see <see cref="MllpListener.LocalEndPoint"/>.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>Largest accepted message; larger frames are discarded and counted bad.</summary>
    public int MaxFrameSize { get; set; } = MllpFrameReader.DefaultMaxFrameSize;

    /// <summary>How long to wait for room in the channel; after that the message is answered AE, never AA.</summary>
    public TimeSpan ChannelWriteTimeout { get; set; } = DefaultChannelWriteTimeout;

    /// <summary>Connections beyond this make room by closing the longest-idle one (or are closed at once when all are busy).</summary>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>Connections from one remote address beyond this make room by closing that address's longest-idle connection.</summary>
    public int MaxConnectionsPerSource { get; set; } = DefaultMaxConnectionsPerSource;

    /// <summary>A connection that completes no message for this long is closed (a sender reconnects with its next message).</summary>
    public TimeSpan IdleTimeout { get; set; } = DefaultIdleTimeout;

    /// <summary>
    /// When set, a message is answered AA only once <see cref="Feeds.IReadingStore"/> reports its readings committed; no
    /// confirmation within <see cref="AckTimeout"/> answers AE. When null, AA means "queued in the channel" (tests, tools).
    /// </summary>
    public Feeds.IReadingStore? Store { get; set; }

    /// <summary>How long a message may wait for the pipeline and the store to take its readings before it is answered AE.</summary>
    public TimeSpan AckTimeout { get; set; } = DefaultAckTimeout;

    /// <summary>
    /// How long writing one ACK may take before the connection is closed: the sender stopped reading. The message was
    /// already stored; the sender, never having read its ACK, resends it on its next connection.
    /// </summary>
    public TimeSpan AckWriteTimeout { get; set; } = DefaultAckWriteTimeout;

    /// <summary>Quiet time before TCP keep-alive probes start, in whole seconds; <see cref="TimeSpan.Zero"/> turns them off.</summary>
    public TimeSpan KeepAliveIdle { get; set; } = DefaultKeepAliveIdle;

    /// <summary>Site written into every observation.</summary>
    public string Site { get; set; } = "default";

    /// <summary>Chair for messages the chair rule cannot map (empty: such messages are answered AE).</summary>
    public string Chair { get; set; } = string.Empty;

    /// <summary>Device id when a message names none (no OBX-18 and no MSH-3).</summary>
    public string Device { get; set; } = "hl7";

    /// <summary>Time zone of monitors whose times carry no UTC offset.</summary>
    public TimeZoneInfo DeviceTimeZone { get; set; } = TimeZoneInfo.Utc;

    /// <summary>
    /// IANA id of the monitors' time zone (for example <c>Europe/London</c>), for configuration files; when set it
    /// replaces <see cref="DeviceTimeZone"/> (resolved by <see cref="Validate"/>).
    /// </summary>
    public string? DeviceTimeZoneId { get; set; }

    /// <summary>Optional listener-wide counters (all sources together), in the shape every feed reports.</summary>
    public Feeds.FeedCounters? Counters { get; set; }

    /// <summary>
    /// Optional callback after each message is answered: its observations (empty when none were kept) and the ACK code sent.
    /// Runs on the connection's task, so it must be quick and thread-safe; it must not keep the list.
    /// </summary>
    public Action<IReadOnlyList<Vitals.Core.Observation>, Hl7.Hl7AckCode>? MessageHandled { get; set; }

    /// <summary>Throws <see cref="InvalidOperationException"/> with a clear message when the options cannot work.</summary>
    public void Validate()
    {
        if (!IPAddress.TryParse(Address, out _))
        {
            throw new InvalidOperationException($"Mllp: Address '{Address}' is not an IP address.");
        }

        if (Port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"Mllp: Port {Port} is outside 0-65535.");
        }

        if (MaxFrameSize < 1024)
        {
            throw new InvalidOperationException($"Mllp: MaxFrameSize {MaxFrameSize} is below 1024 bytes.");
        }

        if (ChannelWriteTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Mllp: ChannelWriteTimeout must be positive.");
        }

        if (MaxConnections < 1)
        {
            throw new InvalidOperationException("Mllp: MaxConnections must be at least 1.");
        }

        if (MaxConnectionsPerSource < 1)
        {
            throw new InvalidOperationException("Mllp: MaxConnectionsPerSource must be at least 1.");
        }

        if (IdleTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Mllp: IdleTimeout must be positive.");
        }

        if (AckTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Mllp: AckTimeout must be positive.");
        }

        if (AckWriteTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Mllp: AckWriteTimeout must be positive.");
        }

        if (KeepAliveIdle < TimeSpan.Zero || KeepAliveIdle.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new InvalidOperationException($"Mllp: KeepAliveIdle {KeepAliveIdle} must be whole seconds (0 turns keep-alive off).");
        }

        if (string.IsNullOrWhiteSpace(Site))
        {
            throw new InvalidOperationException("Mllp: Site must not be empty.");
        }

        if (!string.IsNullOrWhiteSpace(DeviceTimeZoneId))
        {
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(DeviceTimeZoneId, out var zone))
            {
                throw new InvalidOperationException($"Mllp: DeviceTimeZoneId '{DeviceTimeZoneId}' is not a known time zone (use an IANA id such as Europe/London).");
            }

            DeviceTimeZone = zone;
        }
    }
}

/// <summary>A snapshot of one source's counters (source = remote IP address).</summary>
/// <param name="Source">Remote address.</param>
/// <param name="FramesOk">Messages decoded and acknowledged AA.</param>
/// <param name="FramesBad">Messages answered AE/AR, plus frames dropped by the deframer (oversize, truncated).</param>
/// <param name="Bytes">Bytes received.</param>
/// <param name="GarbageBytes">Bytes received outside any MLLP block.</param>
/// <param name="LastFrameAt">When the last complete frame arrived.</param>
/// <param name="Connected">Open connections from this source now.</param>
public sealed record MllpSourceStats(string Source, long FramesOk, long FramesBad, long Bytes, long GarbageBytes, DateTimeOffset? LastFrameAt, int Connected);

/// <summary>Thread-safe counters of one source.</summary>
internal sealed class MllpSourceCounters(string source)
{
    private long framesOk;
    private long framesBad;
    private long bytes;
    private long garbage;
    private long lastFrameTicks = long.MinValue;
    private int connected;

    public void Ok() => Interlocked.Increment(ref framesOk);

    public void Bad(long count = 1) => Interlocked.Add(ref framesBad, count);

    public void AddBytes(long count) => Interlocked.Add(ref bytes, count);

    public void AddGarbage(long count) => Interlocked.Add(ref garbage, count);

    public void Frame(DateTimeOffset at) => Interlocked.Exchange(ref lastFrameTicks, at.UtcTicks);

    public void Connect() => Interlocked.Increment(ref connected);

    public void Disconnect() => Interlocked.Decrement(ref connected);

    public MllpSourceStats Snapshot()
    {
        var ticks = Interlocked.Read(ref lastFrameTicks);
        return new MllpSourceStats(
            source,
            Interlocked.Read(ref framesOk),
            Interlocked.Read(ref framesBad),
            Interlocked.Read(ref bytes),
            Interlocked.Read(ref garbage),
            ticks == long.MinValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero),
            Volatile.Read(ref connected));
    }
}
