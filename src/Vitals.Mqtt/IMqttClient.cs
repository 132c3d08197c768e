using System.Threading.Channels;
using Vitals.Mqtt.Packets;

namespace Vitals.Mqtt;

/// <summary>Where the client is in its connect/reconnect cycle.</summary>
public enum MqttConnectionState
{
    Disconnected,
    Connecting,
    Connected,
    Disposed,
}

/// <summary>An application message received on a subscribed topic.</summary>
public sealed record MqttMessage(string Topic, ReadOnlyMemory<byte> Payload, MqttQualityOfService Qos, bool Retain)
{
    /// <summary>The PUBACK this message still owes, when the client acknowledges manually and it came at QoS 1.</summary>
    internal InboundAck? Ack { get; init; }
}

/// <summary>One received QoS 1 message awaiting its PUBACK, on the connection it arrived on.</summary>
internal sealed class InboundAck(ushort packetId, int connection)
{
    public ushort PacketId { get; } = packetId;

    public int Connection { get; } = connection;

    public bool Done { get; set; }
}

/// <summary>Raised on every state change; <see cref="Error"/> says why a connection was lost or refused.</summary>
public sealed class MqttConnectionStateChangedEventArgs(MqttConnectionState state, Exception? error) : EventArgs
{
    public MqttConnectionState State { get; } = state;

    public Exception? Error { get; } = error;
}

/// <summary>
/// A small MQTT 3.1.1 client that keeps one broker connection alive: it reconnects with exponential backoff and
/// jitter, resubscribes, and resends unacknowledged QoS 1 messages after every reconnect.
/// </summary>
public interface IMqttClient : IAsyncDisposable
{
    MqttConnectionState State { get; }

    /// <summary>Raised from a background thread; handlers must be quick and must not throw.</summary>
    event EventHandler<MqttConnectionStateChangedEventArgs>? StateChanged;

    /// <summary>
    /// Messages on subscribed topics, in arrival order. Read it whenever you subscribe: when it is full the client stops
    /// reading the socket, and QoS 1 messages are acknowledged only once they are in this channel (with
    /// <see cref="MqttClientOptions.AcknowledgeManually"/>: only once <see cref="Acknowledge"/> is called).
    /// </summary>
    ChannelReader<MqttMessage> Messages { get; }

    /// <summary>
    /// With <see cref="MqttClientOptions.AcknowledgeManually"/>: the application owns <paramref name="message"/> now, so its
    /// PUBACK may go. PUBACKs leave in the order the messages arrived [MQTT-4.6.0-2], so this one waits for any earlier
    /// message not yet acknowledged. Does nothing for QoS 0, without manual acknowledgement, twice, after dispose, or when
    /// the connection it arrived on is gone (the broker sends it again on a persistent session [MQTT-4.4.0-1]).
    /// Never blocks; callable from any thread.
    /// </summary>
    void Acknowledge(MqttMessage message);

    /// <summary>
    /// Connects once and throws a clear <see cref="MqttConnectException"/> if that fails (refused, unreachable, TLS);
    /// after a success the client reconnects by itself until disposed.
    /// </summary>
    Task ConnectAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts connecting in the background and keeps retrying with backoff; failures are reported through <see cref="StateChanged"/>.</summary>
    void Start();

    /// <summary>
    /// Queues a message and returns at once, connected or not. QoS 0: if the queue is full the oldest QoS 0 message is
    /// dropped. QoS 1: kept, across reconnects, until the broker acknowledges it; if
    /// <see cref="MqttClientOptions.MaxPendingQos1"/> are already pending this throws <see cref="MqttQueueFullException"/>.
    /// QoS 2 throws <see cref="ArgumentException"/>. The payload is copied.
    /// </summary>
    Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos = MqttQualityOfService.AtMostOnce, bool retain = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subscribes (and re-subscribes after every reconnect). When connected, waits for SUBACK and throws
    /// <see cref="MqttSubscribeException"/> if the broker refuses; when disconnected it returns at once and the
    /// subscription is sent on connect. QoS 2 is refused with <see cref="ArgumentException"/>.
    /// </summary>
    Task SubscribeAsync(string topicFilter, MqttQualityOfService qos = MqttQualityOfService.AtLeastOnce, CancellationToken cancellationToken = default);

    Task UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default);

    /// <summary>Completes when every queued message has been written and every QoS 1 message acknowledged.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>QoS 1 messages not yet acknowledged by the broker.</summary>
    int PendingQos1Count { get; }

    /// <summary>QoS 0 messages dropped because the outgoing queue was full.</summary>
    long DroppedQos0Count { get; }

    /// <summary>
    /// Received messages larger than <see cref="MqttClientOptions.MaxPacketSize"/>: skipped unread (QoS 1 ones acknowledged,
    /// so the broker does not send them again) while the connection stays up.
    /// </summary>
    long OversizedSkippedCount { get; }

    /// <summary>Topic and size of the last skipped oversized message, or null.</summary>
    string? LastOversized { get; }
}
