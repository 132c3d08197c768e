using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Vitals.Mqtt.Packets;

/// <summary>Pure MQTT 3.1.1 encoder: packets in, bytes out, no I/O.</summary>
public static class MqttPacketWriter
{
    /// <summary>Encodes <paramref name="packet"/> into <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">The packet breaks a rule the client must follow (bad topic, too long).</exception>
    public static void Write(MqttPacket packet, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(output);
        var remaining = BodyLength(packet);
        if (remaining > MqttPacketReader.MaxRemainingLength)
        {
            throw new ArgumentException($"{packet.Type} packet body of {remaining} bytes exceeds the MQTT maximum.", nameof(packet));
        }

        var total = 1 + RemainingLengthSize(remaining) + remaining;
        var span = output.GetSpan(total);
        span[0] = FixedHeaderByte(packet);
        var pos = 1 + WriteRemainingLength(span[1..], remaining);
        WriteBody(packet, span[pos..total]);
        output.Advance(total);
    }

    /// <summary>Encodes <paramref name="packet"/> into a new array.</summary>
    public static byte[] ToArray(MqttPacket packet)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(packet, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the remaining-length varint [MQTT 2.2.3]; returns the bytes written (1-4).</summary>
    public static int WriteRemainingLength(Span<byte> destination, int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MqttPacketReader.MaxRemainingLength);
        var i = 0;
        do
        {
            var b = (byte)(value % 128);
            value /= 128;
            if (value > 0)
            {
                b |= 0x80;
            }

            destination[i++] = b;
        }
        while (value > 0);
        return i;
    }

    /// <summary>Bytes the remaining-length varint of <paramref name="value"/> takes.</summary>
    public static int RemainingLengthSize(int value) => value switch
    {
        < 128 => 1,
        < 16_384 => 2,
        < 2_097_152 => 3,
        _ => 4,
    };

    private static byte FixedHeaderByte(MqttPacket packet)
    {
        var flags = packet switch
        {
            PublishPacket p => (p.Dup ? 0x08 : 0) | ((int)p.Qos << 1) | (p.Retain ? 0x01 : 0),
            PubRelPacket or SubscribePacket or UnsubscribePacket => 0x02, // [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1]
            _ => 0,
        };
        return (byte)(((int)packet.Type << 4) | flags);
    }

    private static int StringSize(string value)
    {
        var n = Encoding.UTF8.GetByteCount(value);
        return n <= ushort.MaxValue
            ? 2 + n
            : throw new ArgumentException($"MQTT strings are at most 65535 UTF-8 bytes; got {n} [MQTT 1.5.3].", nameof(value));
    }

    private static int BodyLength(MqttPacket packet)
    {
        switch (packet)
        {
            case ConnectPacket c:
                var n = 10 + StringSize(c.ClientId);
                if (c.Will is { } will)
                {
                    n += StringSize(will.Topic) + 2 + will.Payload.Length;
                }

                if (c.Username is not null)
                {
                    n += StringSize(c.Username);
                }

                if (c.Password is not null)
                {
                    n += StringSize(c.Password);
                }

                return n;
            case ConnAckPacket:
                return 2;
            case PublishPacket p:
                if (p.Qos == MqttQualityOfService.AtMostOnce && p.Dup)
                {
                    throw new ArgumentException("QoS 0 PUBLISH must not set DUP [MQTT-3.3.1-2].", nameof(packet));
                }

                return StringSize(p.Topic) + (p.Qos > 0 ? 2 : 0) + p.Payload.Length;
            case PacketIdOnlyPacket:
                return 2;
            case SubscribePacket s:
                return 2 + s.Subscriptions.Sum(x => StringSize(x.Filter) + 1);
            case SubAckPacket a:
                return 2 + a.ReturnCodes.Count;
            case UnsubscribePacket u:
                return 2 + u.Filters.Sum(StringSize);
            case PingReqPacket or PingRespPacket or DisconnectPacket:
                return 0;
            default:
                throw new ArgumentException($"Unknown packet {packet.GetType().Name}.", nameof(packet));
        }
    }

    private static void WriteBody(MqttPacket packet, Span<byte> span)
    {
        var w = new SpanWriter(span);
        switch (packet)
        {
            case ConnectPacket c:
                w.WriteString("MQTT"); // [MQTT-3.1.2-1]
                w.WriteByte(4); // [MQTT-3.1.2-2] protocol level 4 = 3.1.1
                var flags = (c.CleanSession ? 0x02 : 0) | (c.Username is not null ? 0x80 : 0) | (c.Password is not null ? 0x40 : 0);
                if (c.Will is { } will)
                {
                    flags |= 0x04 | ((int)will.Qos << 3) | (will.Retain ? 0x20 : 0);
                }

                w.WriteByte((byte)flags);
                w.WriteUInt16(c.KeepAliveSeconds);
                w.WriteString(c.ClientId); // [MQTT-3.1.3-1] payload order: id, will topic, will message, user, password
                if (c.Will is { } w2)
                {
                    w.WriteString(w2.Topic);
                    w.WriteUInt16((ushort)w2.Payload.Length);
                    w.WriteBytes(w2.Payload.Span);
                }

                if (c.Username is not null)
                {
                    w.WriteString(c.Username);
                }

                if (c.Password is not null)
                {
                    w.WriteString(c.Password);
                }

                break;
            case ConnAckPacket a:
                w.WriteByte(a.SessionPresent ? (byte)1 : (byte)0);
                w.WriteByte((byte)a.ReturnCode);
                break;
            case PublishPacket p:
                w.WriteString(p.Topic);
                if (p.Qos > 0)
                {
                    w.WriteUInt16(p.PacketId);
                }

                w.WriteBytes(p.Payload.Span);
                break;
            case PacketIdOnlyPacket x:
                w.WriteUInt16(x.PacketId);
                break;
            case SubscribePacket s:
                w.WriteUInt16(s.PacketId);
                foreach (var sub in s.Subscriptions)
                {
                    w.WriteString(sub.Filter);
                    w.WriteByte((byte)sub.Qos);
                }

                break;
            case SubAckPacket a:
                w.WriteUInt16(a.PacketId);
                foreach (var code in a.ReturnCodes)
                {
                    w.WriteByte(code);
                }

                break;
            case UnsubscribePacket u:
                w.WriteUInt16(u.PacketId);
                foreach (var filter in u.Filters)
                {
                    w.WriteString(filter);
                }

                break;
            default:
                break;
        }
    }

    private ref struct SpanWriter(Span<byte> span)
    {
        private readonly Span<byte> _span = span;
        private int _position;

        public void WriteByte(byte value) => _span[_position++] = value;

        public void WriteUInt16(ushort value)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_span[_position..], value);
            _position += 2;
        }

        public void WriteBytes(ReadOnlySpan<byte> value)
        {
            value.CopyTo(_span[_position..]);
            _position += value.Length;
        }

        public void WriteString(string value)
        {
            var n = Encoding.UTF8.GetBytes(value, _span[(_position + 2)..]);
            WriteUInt16((ushort)n);
            _position += n;
        }
    }
}
