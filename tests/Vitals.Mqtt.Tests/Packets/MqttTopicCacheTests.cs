using System.Buffers;
using System.Text;
using Vitals.Mqtt.Packets;

namespace Vitals.Mqtt.Tests.Packets;

/// <summary>
/// The reader keeps the topic names it decoded, by their bytes, so a repeated topic is not decoded and checked again.
/// A kept name must never stand in for other bytes, and bytes that were refused once must be refused every time.
/// </summary>
public class MqttTopicCacheTests
{
    [Fact]
    public void TryReadPacket_ManyTopicsEachTwice_EveryPublishKeepsItsOwnTopic()
    {
        var reader = new MqttPacketReader();
        var topics = Enumerable.Range(0, 2_000).Select(i => $"vitals/clinic/bed-{i}/obs").ToList();

        // Far more topics than the cache holds, in an order that makes them share and replace its slots.
        foreach (var topic in topics.Concat(topics).Concat(Enumerable.Reverse(topics)))
        {
            Assert.Equal(topic, ((PublishPacket)Read(reader, new PublishPacket(topic, Encoding.UTF8.GetBytes(topic)))).Topic);
        }
    }

    [Fact]
    public void TryReadPacket_TopicsDifferingInOneByte_AreNotConfused()
    {
        var reader = new MqttPacketReader();
        string[] topics = ["a/b/c", "a/b/d", "a/b/c/", "a/b/", "A/b/c", "a/b/c"];

        foreach (var topic in topics.Concat(topics))
        {
            Assert.Equal(topic, ((PublishPacket)Read(reader, new PublishPacket(topic, ReadOnlyMemory<byte>.Empty))).Topic);
        }
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)'/', (byte)'+' })] // a wildcard in a topic name [MQTT-3.3.2-2]
    [InlineData(new byte[] { (byte)'a', (byte)'/', (byte)'#' })]
    [InlineData(new byte[] { (byte)'a', 0xC3, (byte)'b' })] // ill-formed UTF-8 [MQTT-1.5.3-1]
    [InlineData(new byte[] { (byte)'a', 0x00, (byte)'b' })] // U+0000 [MQTT-1.5.3-2]
    public void TryReadPacket_RefusedTopicRepeatedAfterGoodOnes_IsRefusedEveryTime(byte[] topic)
    {
        var reader = new MqttPacketReader();
        var bad = RawPublish(topic);

        for (var i = 0; i < 3; i++)
        {
            Read(reader, new PublishPacket("a/b", ReadOnlyMemory<byte>.Empty));
            var buffer = new ReadOnlySequence<byte>(bad);
            Assert.Throws<MqttProtocolException>(() => reader.TryReadPacket(ref buffer, out _));
        }
    }

    [Fact]
    public void TryReadPacket_TopicLengthBeyondPacket_IsTruncatedNotCachedLookup()
    {
        var reader = new MqttPacketReader();
        Read(reader, new PublishPacket("a/b", ReadOnlyMemory<byte>.Empty));

        // PUBLISH QoS 0, remaining length 4, topic length 3 but only "a/" follows.
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0x30, 0x04, 0x00, 0x03, (byte)'a', (byte)'/' });

        var error = Assert.Throws<MqttProtocolException>(() => reader.TryReadPacket(ref buffer, out _));
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    private static MqttPacket Read(MqttPacketReader reader, MqttPacket packet)
    {
        var buffer = new ReadOnlySequence<byte>(MqttPacketWriter.ToArray(packet));
        Assert.True(reader.TryReadPacket(ref buffer, out var decoded));
        Assert.True(buffer.IsEmpty);
        return decoded;
    }

    // A QoS 0 PUBLISH with these topic bytes as they are (the writer refuses bad topics) and a one-byte payload.
    private static byte[] RawPublish(byte[] topic) => [0x30, (byte)(2 + topic.Length + 1), 0x00, (byte)topic.Length, .. topic, 0x2A];
}
