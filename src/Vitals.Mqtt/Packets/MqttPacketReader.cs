using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Vitals.Mqtt.Packets;

/// <summary>
/// Pure MQTT 3.1.1 framing and decoding: bytes in, packets out, no I/O. Partial and coalesced packets
/// are normal: <see cref="TryReadPacket"/> returns false until a whole packet is buffered.
/// Anything malformed throws <see cref="MqttProtocolException"/>; nothing is allocated from a length
/// field before that many bytes have arrived and passed the <see cref="MaxPacketSize"/> check (a PUBLISH above it
/// yields only its head, <see cref="OversizedPublishPacket"/>, for the caller to skip the rest).
/// </summary>
public sealed class MqttPacketReader
{
    /// <summary>Default largest accepted packet (fixed header included): 1 MiB, far above any vitals message.</summary>
    public const int DefaultMaxPacketSize = 1024 * 1024;

    /// <summary>Largest remaining length the 4-byte varint can express [MQTT 2.2.3].</summary>
    public const int MaxRemainingLength = 268_435_455;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly TopicCache? _topics;

    public MqttPacketReader(int maxPacketSize = DefaultMaxPacketSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPacketSize, 2);
        MaxPacketSize = maxPacketSize;
        _topics = new TopicCache();
    }

    /// <summary>Test hook: false decodes and checks every PUBLISH topic anew, the path the topic cache must match.</summary>
    internal bool CachesTopics
    {
        get => _topics is not null;
        init => _topics = value ? _topics ?? new TopicCache() : null;
    }

    /// <summary>Largest packet, fixed header included, that is decoded; a larger PUBLISH comes back as an <see cref="OversizedPublishPacket"/>, anything else larger throws.</summary>
    public int MaxPacketSize { get; }

    /// <summary>
    /// When true, a PUBLISH read from a single-segment buffer carries its payload as a slice of that buffer, not a copy:
    /// valid only until the caller reuses the buffer. For a caller that is done with each packet before its next read
    /// (the client's <see cref="MqttClient.OnMessages"/>): no array per message (the gateway allocated ~730 bytes per
    /// MQTT reading, ~85 of them this copy; <c>tests/Vitals.Load mqtt-ingest --alloc</c>).
    /// </summary>
    public bool LendsPayloads { get; init; }

    /// <summary>
    /// Decodes one packet from the start of <paramref name="buffer"/> and slices it off. Returns false,
    /// leaving the buffer untouched, when more bytes are needed.
    /// </summary>
    /// <exception cref="MqttProtocolException">The bytes are not a valid MQTT 3.1.1 packet.</exception>
    public bool TryReadPacket(ref ReadOnlySequence<byte> buffer, [NotNullWhen(true)] out MqttPacket? packet)
    {
        packet = null;
        if (buffer.IsEmpty)
        {
            return false;
        }

        // The fixed header is at most 5 bytes: read from the first segment, which holds them unless the packet is split
        // (never in the connection's single receive buffer), else from a copy. No SequenceReader per packet: with
        // the body slices below it was most of this method's own samples in the gateway's harness window (perf, AOT).
        scoped var head = buffer.FirstSpan;
        if (head.Length < 5 && !buffer.IsSingleSegment)
        {
            Span<byte> joined = stackalloc byte[5];
            var n = (int)Math.Min(joined.Length, buffer.Length);
            buffer.Slice(0, n).CopyTo(joined);
            head = joined[..n];
        }

        var first = head[0];
        var type = (MqttPacketType)(first >> 4);
        var flags = first & 0x0F;
        ValidateFixedHeaderFlags(type, flags);

        // Remaining length: 7 bits per byte, continuation in bit 7, at most 4 bytes [MQTT 2.2.3].
        var remaining = 0;
        var multiplier = 1;
        var at = 1;
        for (; ; at++)
        {
            if (at == head.Length)
            {
                return false;
            }

            var b = head[at];
            remaining += (b & 0x7F) * multiplier;
            if ((b & 0x80) == 0)
            {
                break;
            }

            if (at == 4)
            {
                throw new MqttProtocolException("Malformed remaining length: more than 4 bytes [MQTT 2.2.3].");
            }

            multiplier *= 128;
        }

        var headerLength = at + 1;
        if ((long)headerLength + remaining > MaxPacketSize)
        {
            if (type == MqttPacketType.Publish)
            {
                return TryReadOversizedPublishHead(ref buffer, headerLength, remaining, flags, out packet);
            }

            throw new MqttProtocolException(
                $"{type} packet of {headerLength + (long)remaining} bytes exceeds the maximum packet size of {MaxPacketSize} bytes.");
        }

        if (buffer.Length < headerLength + remaining)
        {
            return false;
        }

        if (buffer.IsSingleSegment)
        {
            var body = buffer.First.Slice(headerLength, remaining);
            packet = Decode(type, flags, body.Span, _topics, LendsPayloads ? body : (ReadOnlyMemory<byte>?)null); // not plain null: that converts to an empty memory
        }
        else
        {
            packet = DecodeSplit(type, flags, buffer.Slice(headerLength, remaining), _topics, LendsPayloads);
        }

        buffer = buffer.Slice(headerLength + remaining);
        return true;
    }

    /// <summary>A packet whose bytes came in more than one segment: decoded in place when its body is in one of them, else from a pooled copy.</summary>
    private static MqttPacket DecodeSplit(MqttPacketType type, int flags, ReadOnlySequence<byte> body, TopicCache? topics, bool lendsPayloads)
    {
        if (body.IsSingleSegment)
        {
            return Decode(type, flags, body.FirstSpan, topics, lendsPayloads ? body.First : (ReadOnlyMemory<byte>?)null);
        }

        // Bounded by MaxPacketSize, checked by the caller.
        var remaining = (int)body.Length;
        var copy = ArrayPool<byte>.Shared.Rent(remaining);
        try
        {
            body.CopyTo(copy);
            return Decode(type, flags, copy.AsSpan(0, remaining), topics, lent: null); // the copy goes back to the pool
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>
    /// A PUBLISH above <see cref="MaxPacketSize"/> (a broker may hold such a retained message for anyone): reads only
    /// its topic and packet identifier, which lead the variable header [MQTT 3.3.2], and returns an
    /// <see cref="OversizedPublishPacket"/> telling the caller how many bytes to discard.
    /// </summary>
    private static bool TryReadOversizedPublishHead(
        ref ReadOnlySequence<byte> buffer, int headerLength, int remaining, int flags, [NotNullWhen(true)] out MqttPacket? packet)
    {
        packet = null;
        var qosBytes = ((flags >> 1) & 0x03) == 0 ? 0 : 2;
        if (buffer.Length < headerLength + 2)
        {
            return false;
        }

        Span<byte> lengthBytes = stackalloc byte[2];
        buffer.Slice(headerLength, 2).CopyTo(lengthBytes);
        var headLength = Math.Min(remaining, 2 + ((lengthBytes[0] << 8) | lengthBytes[1]) + qosBytes);
        if (buffer.Length < headerLength + headLength)
        {
            return false;
        }

        var head = buffer.Slice(headerLength, headLength).ToArray();
        var r = new BodyReader(head, MqttPacketType.Publish);
        var (topic, qos, packetId) = DecodePublishHead(ref r, flags, null);
        packet = new OversizedPublishPacket(topic, qos, (flags & 0x01) != 0, packetId, headerLength + (long)remaining, remaining - headLength);
        buffer = buffer.Slice(headerLength + headLength);
        return true;
    }

    private static void ValidateFixedHeaderFlags(MqttPacketType type, int flags)
    {
        switch (type)
        {
            case MqttPacketType.Publish:
                // [MQTT-3.3.1-4] both QoS bits set is malformed.
                if ((flags & 0x06) == 0x06)
                {
                    throw new MqttProtocolException("PUBLISH with QoS 3 is malformed [MQTT-3.3.1-4].");
                }

                return;
            case MqttPacketType.PubRel or MqttPacketType.Subscribe or MqttPacketType.Unsubscribe:
                // [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1] flags must be 0010.
                if (flags != 0x02)
                {
                    throw new MqttProtocolException($"{type} fixed header flags must be 0010, got {flags:X1} [MQTT-2.2.2-2].");
                }

                return;
            case >= MqttPacketType.Connect and <= MqttPacketType.Disconnect:
                if (flags != 0)
                {
                    throw new MqttProtocolException($"{type} fixed header flags must be 0000, got {flags:X1} [MQTT-2.2.2-2].");
                }

                return;
            default:
                // Types 0 and 15 are reserved in 3.1.1.
                throw new MqttProtocolException($"Reserved control packet type {(int)type} [MQTT 2.2.1].");
        }
    }

    /// <summary>Decodes one packet body; <paramref name="lent"/>, when given, is the same body as memory a PUBLISH payload may slice.</summary>
    private static MqttPacket Decode(MqttPacketType type, int flags, ReadOnlySpan<byte> body, TopicCache? topics, ReadOnlyMemory<byte>? lent)
    {
        var r = new BodyReader(body, type);
        MqttPacket packet = type switch
        {
            MqttPacketType.Connect => DecodeConnect(ref r),
            MqttPacketType.ConnAck => DecodeConnAck(ref r),
            MqttPacketType.Publish => DecodePublish(ref r, flags, topics, lent),
            MqttPacketType.PubAck => new PubAckPacket(r.ReadPacketId()),
            MqttPacketType.PubRec => new PubRecPacket(r.ReadPacketId()),
            MqttPacketType.PubRel => new PubRelPacket(r.ReadPacketId()),
            MqttPacketType.PubComp => new PubCompPacket(r.ReadPacketId()),
            MqttPacketType.Subscribe => DecodeSubscribe(ref r),
            MqttPacketType.SubAck => DecodeSubAck(ref r),
            MqttPacketType.Unsubscribe => DecodeUnsubscribe(ref r),
            MqttPacketType.UnsubAck => new UnsubAckPacket(r.ReadPacketId()),
            MqttPacketType.PingReq => PingReqPacket.Instance,
            MqttPacketType.PingResp => PingRespPacket.Instance,
            MqttPacketType.Disconnect => DisconnectPacket.Instance,
            _ => throw new MqttProtocolException($"Reserved control packet type {(int)type}."),
        };

        // Fixed-size packets must not carry extra bytes; variable ones are fully consumed by their decoder.
        if (r.Remaining != 0)
        {
            throw new MqttProtocolException($"{type} packet has {r.Remaining} unexpected trailing bytes.");
        }

        return packet;
    }

    private static ConnectPacket DecodeConnect(ref BodyReader r)
    {
        // [MQTT-3.1.2-1] protocol name "MQTT"; [MQTT-3.1.2-2] level 4 for 3.1.1.
        if (r.ReadString() != "MQTT")
        {
            throw new MqttProtocolException("CONNECT protocol name is not \"MQTT\" [MQTT-3.1.2-1].");
        }

        var level = r.ReadByte();
        if (level != 4)
        {
            throw new MqttProtocolException($"CONNECT protocol level {level} is not 4 (MQTT 3.1.1) [MQTT-3.1.2-2].");
        }

        var connectFlags = r.ReadByte();
        if ((connectFlags & 0x01) != 0)
        {
            throw new MqttProtocolException("CONNECT reserved flag must be 0 [MQTT-3.1.2-3].");
        }

        var willFlag = (connectFlags & 0x04) != 0;
        var willQos = (connectFlags >> 3) & 0x03;
        var willRetain = (connectFlags & 0x20) != 0;
        var hasPassword = (connectFlags & 0x40) != 0;
        var hasUsername = (connectFlags & 0x80) != 0;
        if (!willFlag && (willQos != 0 || willRetain))
        {
            throw new MqttProtocolException("CONNECT will QoS/retain set without will flag [MQTT-3.1.2-13] [MQTT-3.1.2-15].");
        }

        if (willQos == 3)
        {
            throw new MqttProtocolException("CONNECT will QoS 3 is invalid [MQTT-3.1.2-14].");
        }

        if (hasPassword && !hasUsername)
        {
            throw new MqttProtocolException("CONNECT password flag without user name flag [MQTT-3.1.2-22].");
        }

        var keepAlive = r.ReadUInt16();
        var clientId = r.ReadString();
        MqttWill? will = null;
        if (willFlag)
        {
            var willTopic = r.ReadString();
            MqttTopic.ValidateTopicName(willTopic);
            will = new MqttWill(willTopic, r.ReadBinary().ToArray(), (MqttQualityOfService)willQos, willRetain);
        }

        var username = hasUsername ? r.ReadString() : null;
        var password = hasPassword ? Encoding.UTF8.GetString(r.ReadBinary()) : null;
        return new ConnectPacket
        {
            ClientId = clientId,
            CleanSession = (connectFlags & 0x02) != 0,
            KeepAliveSeconds = keepAlive,
            Will = will,
            Username = username,
            Password = password,
        };
    }

    private static ConnAckPacket DecodeConnAck(ref BodyReader r)
    {
        var ackFlags = r.ReadByte();
        if ((ackFlags & 0xFE) != 0)
        {
            throw new MqttProtocolException("CONNACK reserved acknowledge flags must be 0 [MQTT 3.2.2.1].");
        }

        var code = r.ReadByte();
        if (code > (byte)MqttConnectReturnCode.NotAuthorized)
        {
            throw new MqttProtocolException($"CONNACK return code {code} is reserved [MQTT 3.2.2.3].");
        }

        return new ConnAckPacket((ackFlags & 0x01) != 0, (MqttConnectReturnCode)code);
    }

    private static PublishPacket DecodePublish(ref BodyReader r, int flags, TopicCache? topics, ReadOnlyMemory<byte>? lent)
    {
        var (topic, qos, packetId) = DecodePublishHead(ref r, flags, topics);
        var rest = r.ReadRest();
        ReadOnlyMemory<byte> payload = lent is { } body ? body[^rest.Length..] : rest.ToArray();
        return new PublishPacket(topic, payload, qos, (flags & 0x01) != 0, (flags & 0x08) != 0, packetId);
    }

    /// <summary>The variable header of a PUBLISH: topic name, then the packet identifier at QoS 1 and 2 [MQTT 3.3.2].</summary>
    private static (string Topic, MqttQualityOfService Qos, ushort PacketId) DecodePublishHead(ref BodyReader r, int flags, TopicCache? topics)
    {
        var qos = (MqttQualityOfService)((flags >> 1) & 0x03);
        if (qos == MqttQualityOfService.AtMostOnce && (flags & 0x08) != 0)
        {
            throw new MqttProtocolException("PUBLISH QoS 0 with DUP set [MQTT-3.3.1-2].");
        }

        var bytes = r.PeekBinary();
        if (topics?.Find(bytes) is not { } topic)
        {
            topic = r.ReadString();
            MqttTopic.ValidateTopicName(topic); // [MQTT-3.3.2-2] no wildcards in a topic name.
            topics?.Add(bytes, topic);
        }
        else
        {
            r.ReadBinary();
        }

        var packetId = qos == MqttQualityOfService.AtMostOnce ? (ushort)0 : r.ReadPacketId();
        return (topic, qos, packetId);
    }

    private static SubscribePacket DecodeSubscribe(ref BodyReader r)
    {
        var packetId = r.ReadPacketId();
        var subscriptions = new List<MqttSubscription>();
        while (r.Remaining > 0)
        {
            var filter = r.ReadString();
            MqttTopic.ValidateTopicFilter(filter);
            var qos = r.ReadByte();
            if (qos > 2)
            {
                throw new MqttProtocolException($"SUBSCRIBE requested QoS byte 0x{qos:X2} is malformed [MQTT-3-8.3-4] (sic, the spec id).");
            }

            subscriptions.Add(new MqttSubscription(filter, (MqttQualityOfService)qos));
        }

        if (subscriptions.Count == 0)
        {
            throw new MqttProtocolException("SUBSCRIBE without any topic filter [MQTT-3.8.3-3].");
        }

        return new SubscribePacket(packetId, subscriptions);
    }

    private static SubAckPacket DecodeSubAck(ref BodyReader r)
    {
        var packetId = r.ReadPacketId();
        var codes = r.ReadRest().ToArray();
        if (codes.Length == 0)
        {
            throw new MqttProtocolException("SUBACK without return codes [MQTT 3.9.3].");
        }

        foreach (var code in codes)
        {
            if (code > 2 && code != SubAckPacket.Failure)
            {
                throw new MqttProtocolException($"SUBACK return code 0x{code:X2} is reserved [MQTT-3.9.3-2].");
            }
        }

        return new SubAckPacket(packetId, codes);
    }

    private static UnsubscribePacket DecodeUnsubscribe(ref BodyReader r)
    {
        var packetId = r.ReadPacketId();
        var filters = new List<string>();
        while (r.Remaining > 0)
        {
            var filter = r.ReadString();
            MqttTopic.ValidateTopicFilter(filter);
            filters.Add(filter);
        }

        if (filters.Count == 0)
        {
            throw new MqttProtocolException("UNSUBSCRIBE without any topic filter [MQTT-3.10.3-2].");
        }

        return new UnsubscribePacket(packetId, filters);
    }

    /// <summary>Bounds-checked cursor over one packet body; running past the end is a malformed packet.</summary>
    private ref struct BodyReader(ReadOnlySpan<byte> span, MqttPacketType type)
    {
        private readonly ReadOnlySpan<byte> _span = span;
        private int _position;

        public readonly int Remaining => _span.Length - _position;

        public byte ReadByte() => Take(1)[0];

        public ushort ReadUInt16()
        {
            var s = Take(2);
            return (ushort)((s[0] << 8) | s[1]);
        }

        /// <summary>[MQTT-2.3.1-1] packet identifiers are non-zero.</summary>
        public ushort ReadPacketId()
        {
            var id = ReadUInt16();
            return id != 0 ? id : throw new MqttProtocolException($"{type} packet identifier is 0 [MQTT-2.3.1-1].");
        }

        public ReadOnlySpan<byte> ReadBinary() => Take(ReadUInt16());

        /// <summary>The next length-prefixed field without moving past it (empty when it does not fit: the read that follows throws).</summary>
        public readonly ReadOnlySpan<byte> PeekBinary()
        {
            if (Remaining < 2)
            {
                return default;
            }

            var length = (_span[_position] << 8) | _span[_position + 1];
            return length <= Remaining - 2 ? _span.Slice(_position + 2, length) : default;
        }

        public string ReadString()
        {
            var bytes = ReadBinary();
            string value;
            try
            {
                value = StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException ex)
            {
                throw new MqttProtocolException($"{type} contains an ill-formed UTF-8 string [MQTT-1.5.3-1].", ex);
            }

            if (value.Contains('\0', StringComparison.Ordinal))
            {
                throw new MqttProtocolException($"{type} contains a string with U+0000 [MQTT-1.5.3-2].");
            }

            return value;
        }

        public ReadOnlySpan<byte> ReadRest() => Take(Remaining);

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > Remaining)
            {
                throw new MqttProtocolException($"{type} packet is truncated: needs {count} more bytes, {Remaining} left.");
            }

            var slice = _span.Slice(_position, count);
            _position += count;
            return slice;
        }
    }
}
