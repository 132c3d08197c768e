using System.Buffers;
using System.Text;
using Vitals.Mqtt.Packets;

namespace Vitals.Mqtt.Tests.Packets;

public class MqttCodecTests
{
    private static readonly MqttPacketReader Reader = new();

    public static TheoryData<string, MqttPacket> EveryPacket() => new()
    {
        { "connect minimal", new ConnectPacket { ClientId = "c1" } },
        {
            "connect full",
            new ConnectPacket
            {
                ClientId = "gateway-7",
                CleanSession = false,
                KeepAliveSeconds = 60,
                Username = "nurse",
                Password = "pässword",
                Will = new MqttWill("vitals/site/gateway/status", Encoding.UTF8.GetBytes("offline"), MqttQualityOfService.AtLeastOnce, Retain: true),
            }
        },
        { "connack accepted", new ConnAckPacket(SessionPresent: true, MqttConnectReturnCode.Accepted) },
        { "connack refused", new ConnAckPacket(SessionPresent: false, MqttConnectReturnCode.BadUserNameOrPassword) },
        { "publish qos0", new PublishPacket("vitals/a/chair1/obs", Encoding.UTF8.GetBytes("{\"hr\":72}")) },
        { "publish qos1 retain dup", new PublishPacket("vitals/a/chair1/state", new byte[] { 0, 1, 2, 255 }, MqttQualityOfService.AtLeastOnce, Retain: true, Dup: true, PacketId: 65535) },
        { "publish empty payload", new PublishPacket("x", ReadOnlyMemory<byte>.Empty, MqttQualityOfService.AtLeastOnce, PacketId: 1) },
        { "publish big payload", new PublishPacket("big", new byte[70_000], MqttQualityOfService.AtMostOnce) },
        { "puback", new PubAckPacket(42) },
        { "pubrec", new PubRecPacket(43) },
        { "pubrel", new PubRelPacket(44) },
        { "pubcomp", new PubCompPacket(45) },
        { "subscribe", new SubscribePacket(7, [new MqttSubscription("vitals/+/+/obs", MqttQualityOfService.AtLeastOnce), new MqttSubscription("#", MqttQualityOfService.AtMostOnce)]) },
        { "suback", new SubAckPacket(7, [1, 0, SubAckPacket.Failure]) },
        { "unsubscribe", new UnsubscribePacket(8, ["a/b", "c/#"]) },
        { "unsuback", new UnsubAckPacket(8) },
        { "pingreq", PingReqPacket.Instance },
        { "pingresp", PingRespPacket.Instance },
        { "disconnect", DisconnectPacket.Instance },
    };

    [Theory]
    [MemberData(nameof(EveryPacket))]
    public void TryReadPacket_EncodedPacket_RoundTripsToSameBytesAndFields(string name, MqttPacket packet)
    {
        var bytes = MqttPacketWriter.ToArray(packet);
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.True(Reader.TryReadPacket(ref buffer, out var decoded), name);

        Assert.True(buffer.IsEmpty);
        Assert.Equal(packet.Type, decoded.Type);
        Assert.Equal(bytes, MqttPacketWriter.ToArray(decoded));
        AssertSameFields(packet, decoded);
    }

    [Theory]
    [MemberData(nameof(EveryPacket))]
    public void TryReadPacket_EverySplitIntoTwoSegments_DecodesSamePacket(string name, MqttPacket packet)
    {
        var bytes = MqttPacketWriter.ToArray(packet);
        for (var split = 1; split < Math.Min(bytes.Length, 64); split++)
        {
            var buffer = TwoSegments(bytes, split);
            Assert.True(Reader.TryReadPacket(ref buffer, out var decoded), $"{name} split at {split}");
            Assert.Equal(bytes, MqttPacketWriter.ToArray(decoded));
        }
    }

    [Fact]
    public void TryReadPacket_IncompleteInput_ReturnsFalseAndLeavesBuffer()
    {
        var bytes = MqttPacketWriter.ToArray(new PublishPacket("a/b", new byte[300], MqttQualityOfService.AtLeastOnce, PacketId: 9));
        for (var length = 0; length < bytes.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, length);
            Assert.False(Reader.TryReadPacket(ref buffer, out _));
            Assert.Equal(length, buffer.Length);
        }
    }

    [Fact]
    public void TryReadPacket_LendsPayloads_PayloadIsTheInputBytesNotACopy()
    {
        var bytes = MqttPacketWriter.ToArray(new PublishPacket("a/b", "{\"hr\":72}"u8.ToArray(), MqttQualityOfService.AtLeastOnce, PacketId: 3));
        var lent = new ReadOnlySequence<byte>(bytes);
        var copied = new ReadOnlySequence<byte>(bytes);

        Assert.True(new MqttPacketReader { LendsPayloads = true }.TryReadPacket(ref lent, out var fromLender));
        Assert.True(Reader.TryReadPacket(ref copied, out var fromCopier));
        bytes[^1] = (byte)']'; // the caller reuses its buffer

        Assert.Equal("{\"hr\":72]", Encoding.UTF8.GetString(Assert.IsType<PublishPacket>(fromLender).Payload.Span));
        Assert.Equal("{\"hr\":72}", Encoding.UTF8.GetString(Assert.IsType<PublishPacket>(fromCopier).Payload.Span));
    }

    [Fact]
    public void TryReadPacket_LendsPayloadsFromTwoSegments_PayloadIsACopy()
    {
        var bytes = MqttPacketWriter.ToArray(new PublishPacket("a/b", "{\"hr\":72}"u8.ToArray()));
        var buffer = TwoSegments(bytes, 4);
        Assert.True(new MqttPacketReader { LendsPayloads = true }.TryReadPacket(ref buffer, out var packet));
        Assert.Equal("{\"hr\":72}", Encoding.UTF8.GetString(Assert.IsType<PublishPacket>(packet).Payload.Span));
    }

    [Fact]
    public void TryReadPacket_CoalescedPackets_ReadsEachInOrderAndKeepsTheRest()
    {
        var a = MqttPacketWriter.ToArray(new PubAckPacket(1));
        var b = MqttPacketWriter.ToArray(new PublishPacket("t", "hi"u8.ToArray()));
        var c = MqttPacketWriter.ToArray(PingRespPacket.Instance);
        var all = a.Concat(b).Concat(c.Take(1)).ToArray();
        var buffer = new ReadOnlySequence<byte>(all);

        Assert.True(Reader.TryReadPacket(ref buffer, out var first));
        Assert.True(Reader.TryReadPacket(ref buffer, out var second));
        Assert.False(Reader.TryReadPacket(ref buffer, out _));

        Assert.Equal(new PubAckPacket(1), first);
        Assert.Equal("t", Assert.IsType<PublishPacket>(second).Topic);
        Assert.Equal(1, buffer.Length);
    }

    [Fact]
    public void Write_KnownPackets_MatchSpecBytes()
    {
        Assert.Equal(new byte[] { 0xC0, 0x00 }, MqttPacketWriter.ToArray(PingReqPacket.Instance));
        Assert.Equal(new byte[] { 0xE0, 0x00 }, MqttPacketWriter.ToArray(DisconnectPacket.Instance));
        Assert.Equal(new byte[] { 0x82, 0x08, 0x00, 0x0A, 0x00, 0x03, (byte)'a', (byte)'/', (byte)'b', 0x01 }, MqttPacketWriter.ToArray(new SubscribePacket(10, [new MqttSubscription("a/b", MqttQualityOfService.AtLeastOnce)])));

        // CONNECT header per MQTT 3.1.2: "MQTT", level 4, flags 0x02 (clean session), keep-alive 60.
        var connect = MqttPacketWriter.ToArray(new ConnectPacket { ClientId = "id", KeepAliveSeconds = 60 });
        Assert.Equal(new byte[] { 0x10, 14, 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 0x02, 0, 60, 0, 2, (byte)'i', (byte)'d' }, connect);
    }

    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x01 })]
    [InlineData(16_383, new byte[] { 0xFF, 0x7F })]
    [InlineData(16_384, new byte[] { 0x80, 0x80, 0x01 })]
    [InlineData(2_097_151, new byte[] { 0xFF, 0xFF, 0x7F })]
    [InlineData(2_097_152, new byte[] { 0x80, 0x80, 0x80, 0x01 })]
    [InlineData(268_435_455, new byte[] { 0xFF, 0xFF, 0xFF, 0x7F })]
    public void WriteRemainingLength_SpecBoundaries_MatchesTable(int value, byte[] expected)
    {
        var span = new byte[4];
        var n = MqttPacketWriter.WriteRemainingLength(span, value);

        Assert.Equal(expected, span[..n]);
        Assert.Equal(expected.Length, MqttPacketWriter.RemainingLengthSize(value));
    }

    [Fact]
    public void TryReadPacket_LargeRemainingLengthWithinMax_WaitsForBody()
    {
        var reader = new MqttPacketReader(maxPacketSize: 3_000_000);
        var header = new byte[] { 0x30, 0x80, 0x80, 0x80, 0x01 }; // PUBLISH, remaining 2,097,152
        var buffer = new ReadOnlySequence<byte>(header);

        Assert.False(reader.TryReadPacket(ref buffer, out _));
    }

    public static TheoryData<string, byte[]> MalformedPackets() => new()
    {
        { "remaining length over 4 bytes", [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01] },
        { "reserved type 0", [0x00, 0x00] },
        { "reserved type 15", [0xF0, 0x00] },
        { "subscribe flags 0000", [0x80, 0x06, 0x00, 0x01, 0x00, 0x01, (byte)'a', 0x00] },
        { "unsubscribe flags 0000", [0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, (byte)'a'] },
        { "pubrel flags 0000", [0x60, 0x02, 0x00, 0x01] },
        { "pingreq flags set", [0xC1, 0x00] },
        { "publish qos 3", [0x36, 0x05, 0x00, 0x01, (byte)'a', 0x00, 0x01] },
        { "publish qos0 with dup", [0x38, 0x03, 0x00, 0x01, (byte)'a'] },
        { "publish topic longer than packet", [0x30, 0x04, 0x00, 0x10, (byte)'a', (byte)'b'] },
        { "publish qos1 missing packet id", [0x32, 0x03, 0x00, 0x01, (byte)'a'] },
        { "publish packet id 0", [0x32, 0x05, 0x00, 0x01, (byte)'a', 0x00, 0x00] },
        { "publish wildcard topic", [0x30, 0x03, 0x00, 0x01, (byte)'#'] },
        { "publish empty topic", [0x30, 0x02, 0x00, 0x00] },
        { "publish invalid utf8", [0x30, 0x04, 0x00, 0x02, 0xC3, 0x28] },
        { "publish topic with nul", [0x30, 0x04, 0x00, 0x02, (byte)'a', 0x00] },
        { "connack too long", [0x20, 0x03, 0x00, 0x00, 0x00] },
        { "connack truncated", [0x20, 0x01, 0x00] },
        { "connack reserved flags", [0x20, 0x02, 0x02, 0x00] },
        { "connack reserved code", [0x20, 0x02, 0x00, 0x06] },
        { "puback truncated", [0x40, 0x01, 0x01] },
        { "pingresp with body", [0xD0, 0x01, 0x00] },
        { "subscribe without filters", [0x82, 0x02, 0x00, 0x01] },
        { "subscribe qos byte 3", [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, (byte)'a', 0x03] },
        { "subscribe bad filter", [0x82, 0x07, 0x00, 0x01, 0x00, 0x02, (byte)'a', (byte)'#', 0x00] },
        { "suback reserved code", [0x90, 0x03, 0x00, 0x01, 0x03] },
        { "suback no codes", [0x90, 0x02, 0x00, 0x01] },
        { "unsubscribe without filters", [0xA2, 0x02, 0x00, 0x01] },
        { "connect wrong protocol name", [0x10, 0x0C, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'X', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00] },
        { "connect level 3", [0x10, 0x0C, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x03, 0x02, 0x00, 0x3C, 0x00, 0x00] },
        { "connect reserved flag", [0x10, 0x0C, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0x03, 0x00, 0x3C, 0x00, 0x00] },
        { "connect password without user", [0x10, 0x0E, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0x42, 0x00, 0x3C, 0x00, 0x00, 0x00, 0x00] },
        { "oversize packet (not a PUBLISH)", [0x90, 0xFF, 0xFF, 0x7F] },
        { "oversize publish with a wildcard topic", [0x30, 0xFF, 0xFF, 0x7F, 0x00, 0x01, 0x23] },
    };

    [Theory]
    [MemberData(nameof(MalformedPackets))]
    public void TryReadPacket_MalformedInput_ThrowsProtocolException(string name, byte[] bytes)
    {
        var reader = new MqttPacketReader(maxPacketSize: 1024);
        var buffer = new ReadOnlySequence<byte>(bytes);

        var ex = Assert.Throws<MqttProtocolException>(() => reader.TryReadPacket(ref buffer, out _));

        Assert.False(string.IsNullOrWhiteSpace(ex.Message), name);
    }

    [Fact]
    public void TryReadPacket_OversizeHeaderAlone_ThrowsBeforeBodyArrives()
    {
        var reader = new MqttPacketReader(maxPacketSize: 1000);
        var buffer = new ReadOnlySequence<byte>([0x90, 0xE8, 0x07]); // SUBACK, remaining length 1000 -> 1003 bytes

        var ex = Assert.Throws<MqttProtocolException>(() => reader.TryReadPacket(ref buffer, out _));

        Assert.Contains("maximum packet size", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MqttQualityOfService.AtMostOnce, 0)]
    [InlineData(MqttQualityOfService.AtLeastOnce, 4242)]
    public void TryReadPacket_OversizePublishFedByteByByte_YieldsHeadOnlyAndTheBytesToDiscard(MqttQualityOfService qos, int packetId)
    {
        var reader = new MqttPacketReader(maxPacketSize: 1000);
        var publish = new PublishPacket("vitals/a/chair9/obs", new byte[5000], qos, Retain: true, PacketId: (ushort)packetId);
        var bytes = MqttPacketWriter.ToArray(publish);
        var next = MqttPacketWriter.ToArray(PingRespPacket.Instance);

        // Only the head is needed: fed one byte at a time, it is recognised as soon as the packet id is in.
        MqttPacket? packet = null;
        var fed = 0;
        var buffer = ReadOnlySequence<byte>.Empty;
        while (packet is null)
        {
            buffer = new ReadOnlySequence<byte>(bytes, 0, ++fed);
            reader.TryReadPacket(ref buffer, out packet);
        }

        var head = Assert.IsType<OversizedPublishPacket>(packet);
        Assert.Equal(("vitals/a/chair9/obs", qos, true, (ushort)packetId, (long)bytes.Length), (head.Topic, head.Qos, head.Retain, head.PacketId, head.Size));
        Assert.True(buffer.IsEmpty);
        Assert.Equal(bytes.Length - fed, head.Discard);

        // What follows the discarded bytes decodes normally.
        var rest = new ReadOnlySequence<byte>([.. bytes.AsSpan(fed + (int)head.Discard), .. next]);
        Assert.True(reader.TryReadPacket(ref rest, out var after));
        Assert.IsType<PingRespPacket>(after);
    }

    [Fact]
    public void TryReadPacket_RandomBytes_OnlyProtocolExceptionsOrPackets()
    {
        var random = new Random(20261122);
        var reader = new MqttPacketReader(maxPacketSize: 4096);
        var bytes = new byte[64];
        var decoded = 0;
        var rejected = 0;
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(bytes);
            var length = random.Next(1, bytes.Length);

            // Bias towards small plausible remaining lengths so the decoders, not just the header checks, are exercised.
            bytes[1] = (byte)random.Next(0, length);
            var buffer = new ReadOnlySequence<byte>(bytes, 0, length);
            try
            {
                while (reader.TryReadPacket(ref buffer, out _))
                {
                    decoded++;
                }
            }
            catch (MqttProtocolException)
            {
                rejected++;
            }
        }

        Assert.True(rejected > 1000, $"rejected {rejected}");
        Assert.True(decoded > 10, $"decoded {decoded}");
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int split)
    {
        var first = new Segment(bytes.AsMemory(0, split), 0);
        var last = first.Append(bytes.AsMemory(split));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static void AssertSameFields(MqttPacket expected, MqttPacket actual)
    {
        switch (expected)
        {
            case PublishPacket p:
                var q = Assert.IsType<PublishPacket>(actual);
                Assert.Equal((p.Topic, p.Qos, p.Retain, p.Dup, p.PacketId), (q.Topic, q.Qos, q.Retain, q.Dup, q.PacketId));
                Assert.Equal(p.Payload.ToArray(), q.Payload.ToArray());
                break;
            case ConnectPacket c:
                var d = Assert.IsType<ConnectPacket>(actual);
                Assert.Equal((c.ClientId, c.CleanSession, c.KeepAliveSeconds, c.Username, c.Password), (d.ClientId, d.CleanSession, d.KeepAliveSeconds, d.Username, d.Password));
                Assert.Equal(c.Will?.Topic, d.Will?.Topic);
                Assert.Equal(c.Will?.Payload.ToArray(), d.Will?.Payload.ToArray());
                Assert.Equal((c.Will?.Qos, c.Will?.Retain), (d.Will?.Qos, d.Will?.Retain));
                break;
            case SubscribePacket s:
                Assert.Equal(s.Subscriptions, Assert.IsType<SubscribePacket>(actual).Subscriptions);
                break;
            case SubAckPacket a:
                Assert.Equal(a.ReturnCodes, Assert.IsType<SubAckPacket>(actual).ReturnCodes);
                break;
            case UnsubscribePacket u:
                Assert.Equal(u.Filters, Assert.IsType<UnsubscribePacket>(actual).Filters);
                break;
            default:
                Assert.Equal(expected, actual); // Value-equal records.
                break;
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
