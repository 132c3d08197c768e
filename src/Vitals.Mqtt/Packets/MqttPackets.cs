namespace Vitals.Mqtt.Packets;

/// <summary>MQTT 3.1.1 control packet types, the high nibble of the fixed header [MQTT 2.2.1].</summary>
public enum MqttPacketType : byte
{
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
}

/// <summary>Delivery guarantee of a message [MQTT 4.3].</summary>
public enum MqttQualityOfService : byte
{
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

/// <summary>CONNACK return codes [MQTT 3.2.2.3, table 3.1].</summary>
public enum MqttConnectReturnCode : byte
{
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUserNameOrPassword = 4,
    NotAuthorized = 5,
}

/// <summary>One decoded or to-be-encoded MQTT 3.1.1 control packet.</summary>
public abstract record MqttPacket
{
    public abstract MqttPacketType Type { get; }
}

/// <summary>The last will a broker publishes when the client vanishes without DISCONNECT [MQTT 3.1.2.5].</summary>
public sealed record MqttWill(string Topic, ReadOnlyMemory<byte> Payload, MqttQualityOfService Qos = MqttQualityOfService.AtLeastOnce, bool Retain = false);

public sealed record ConnectPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Connect;

    public required string ClientId { get; init; }

    public bool CleanSession { get; init; } = true;

    public ushort KeepAliveSeconds { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public MqttWill? Will { get; init; }
}

public sealed record ConnAckPacket(bool SessionPresent, MqttConnectReturnCode ReturnCode) : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.ConnAck;
}

/// <summary>A PUBLISH packet; <see cref="PacketId"/> is 0 for QoS 0 (it is not on the wire then).</summary>
public sealed record PublishPacket(string Topic, ReadOnlyMemory<byte> Payload, MqttQualityOfService Qos = MqttQualityOfService.AtMostOnce, bool Retain = false, bool Dup = false, ushort PacketId = 0) : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Publish;
}

/// <summary>
/// The head of a PUBLISH larger than the reader's maximum packet size: the topic and packet identifier (0 at QoS 0),
/// enough to acknowledge it. The reader consumed only the head; the caller discards the next <see cref="Discard"/>
/// bytes of the stream unbuffered, so one oversized message costs neither memory nor the connection.
/// </summary>
public sealed record OversizedPublishPacket(string Topic, MqttQualityOfService Qos, bool Retain, ushort PacketId, long Size, long Discard) : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Publish;
}

/// <summary>
/// The acknowledgements whose variable header is the packet identifier alone and which have no payload:
/// PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK [MQTT 3.4.2, 3.5.2, 3.6.2, 3.7.2, 3.11.2].
/// </summary>
public abstract record PacketIdOnlyPacket(ushort PacketId) : MqttPacket;

public sealed record PubAckPacket(ushort PacketId) : PacketIdOnlyPacket(PacketId)
{
    public override MqttPacketType Type => MqttPacketType.PubAck;
}

public sealed record PubRecPacket(ushort PacketId) : PacketIdOnlyPacket(PacketId)
{
    public override MqttPacketType Type => MqttPacketType.PubRec;
}

public sealed record PubRelPacket(ushort PacketId) : PacketIdOnlyPacket(PacketId)
{
    public override MqttPacketType Type => MqttPacketType.PubRel;
}

public sealed record PubCompPacket(ushort PacketId) : PacketIdOnlyPacket(PacketId)
{
    public override MqttPacketType Type => MqttPacketType.PubComp;
}

/// <summary>One topic filter with its requested maximum QoS.</summary>
public readonly record struct MqttSubscription(string Filter, MqttQualityOfService Qos);

public sealed record SubscribePacket(ushort PacketId, IReadOnlyList<MqttSubscription> Subscriptions) : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Subscribe;
}

/// <summary>SUBACK; each return code is the granted QoS (0-2) or 0x80 for failure [MQTT 3.9.3].</summary>
public sealed record SubAckPacket(ushort PacketId, IReadOnlyList<byte> ReturnCodes) : MqttPacket
{
    /// <summary>The SUBACK return code meaning the broker refused that filter.</summary>
    public const byte Failure = 0x80;

    public override MqttPacketType Type => MqttPacketType.SubAck;
}

public sealed record UnsubscribePacket(ushort PacketId, IReadOnlyList<string> Filters) : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Unsubscribe;
}

public sealed record UnsubAckPacket(ushort PacketId) : PacketIdOnlyPacket(PacketId)
{
    public override MqttPacketType Type => MqttPacketType.UnsubAck;
}

public sealed record PingReqPacket : MqttPacket
{
    public static readonly PingReqPacket Instance = new();

    public override MqttPacketType Type => MqttPacketType.PingReq;
}

public sealed record PingRespPacket : MqttPacket
{
    public static readonly PingRespPacket Instance = new();

    public override MqttPacketType Type => MqttPacketType.PingResp;
}

public sealed record DisconnectPacket : MqttPacket
{
    public static readonly DisconnectPacket Instance = new();

    public override MqttPacketType Type => MqttPacketType.Disconnect;
}
