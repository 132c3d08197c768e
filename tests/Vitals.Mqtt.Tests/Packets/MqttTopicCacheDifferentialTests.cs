using System.Buffers;
using System.Text;
using Vitals.Mqtt.Packets;

namespace Vitals.Mqtt.Tests.Packets;

/// <summary>
/// The topic cache is a fast path: a reader with it must decode every PUBLISH exactly as a reader without it
/// (<see cref="MqttPacketReader.CachesTopics"/> false), packet for packet and error for error, whatever the topics:
/// a steady set, more topics than the cache holds, churn, long topics, topics crafted to share a slot, and refused ones.
/// </summary>
public class MqttTopicCacheDifferentialTests
{
    [Fact]
    public void SteadyTopicSet_UpToCacheSize_NeverDecodedAgain()
    {
        // The old cache (one slot per hash, 256 slots) let topics sharing a slot evict each other on every message.
        var reader = new MqttPacketReader();
        var topics = Enumerable.Range(0, TopicCache.MaxEntries).Select(i => $"vitals/clinic/bed-{i}/obs").ToList();
        var first = topics.Select(t => Topic(reader, Publish(Encoding.UTF8.GetBytes(t)))).ToList();

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < topics.Count; i++)
            {
                var again = Topic(reader, Publish(Encoding.UTF8.GetBytes(topics[i])));
                Assert.Equal(topics[i], again);
                Assert.Same(first[i], again); // the kept string: not decoded and checked again
            }
        }
    }

    [Fact]
    public void HarnessTopics_SameAsUncached()
    {
        var stream = Enumerable.Range(0, 5_000).Select(i => Publish(Encoding.UTF8.GetBytes($"vitals/clinic/bed-{i % 50}/obs"), payload: i));
        AssertSameAsUncached(stream);
    }

    [Fact]
    public void ManyTopicsAndChurnBeyondCacheSize_SameAsUncached()
    {
        var random = new Random(1501);
        var topics = Enumerable.Range(0, 3 * TopicCache.MaxEntries).Select(i => $"site/{i % 7}/chair-{i}/obs").ToList();
        var stream = new List<byte[]>();
        for (var i = 0; i < 20_000; i++)
        {
            // A hot set, a cold tail wider than the cache, and now and then a never-seen topic.
            var topic = random.Next(10) switch
            {
                < 6 => topics[random.Next(40)],
                < 9 => topics[random.Next(topics.Count)],
                _ => $"new/{i}/{random.Next()}",
            };
            stream.Add(Publish(Encoding.UTF8.GetBytes(topic), payload: i, qos: random.Next(2)));
        }

        AssertSameAsUncached(stream);
    }

    [Fact]
    public void LongTopics_AroundAndFarBeyondTheCachedLength_SameAsUncached()
    {
        var random = new Random(1502);
        var lengths = new[] { 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, TopicCache.MaxTopicBytes - 1, TopicCache.MaxTopicBytes, TopicCache.MaxTopicBytes + 1, 1_000, 65_535 };
        var topics = lengths.SelectMany(n => new[] { new string('a', n), new string('a', n - 1) + "b", "b" + new string('a', n - 1) })
            .Where(t => t.Length > 0)
            .Select(Encoding.UTF8.GetBytes)
            .ToList();
        var stream = Enumerable.Range(0, 2_000).Select(i => Publish(topics[random.Next(topics.Count)], payload: i)).ToList();

        AssertSameAsUncached(stream);
    }

    [Fact]
    public void TopicsSharingOneSlot_MoreThanTheProbeReaches_SameAsUncached()
    {
        // Crafted collisions: many topics whose hash picks the same slot (as a hostile publisher could search for).
        var slot = TopicCache.Hash("x/0"u8) & (TopicCache.Slots - 1);
        var colliding = Enumerable.Range(0, 400_000)
            .Select(i => Encoding.UTF8.GetBytes($"x/{i}"))
            .Where(t => (TopicCache.Hash(t) & (TopicCache.Slots - 1)) == slot)
            .Take(24)
            .ToList();
        Assert.True(colliding.Count >= 12, $"found only {colliding.Count} colliding topics");
        var random = new Random(1503);
        var stream = Enumerable.Range(0, 5_000).Select(i => Publish(colliding[random.Next(colliding.Count)], payload: i)).ToList();

        AssertSameAsUncached(stream);
    }

    [Fact]
    public void RefusedTopicsAmongGoodOnes_SameErrorsAsUncached()
    {
        byte[][] bad =
        [
            "a/+"u8.ToArray(), "a/#"u8.ToArray(), "+"u8.ToArray(), [(byte)'a', 0xC3, (byte)'b'], [(byte)'a', 0x00, (byte)'b'],
            [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xC0, 0xAF], [],
        ];
        var good = Enumerable.Range(0, 60).Select(i => Encoding.UTF8.GetBytes($"vitals/clinic/bed-{i}/obs")).ToList();
        var random = new Random(1504);
        var stream = Enumerable.Range(0, 5_000)
            .Select(i => random.Next(4) == 0 ? Publish(bad[random.Next(bad.Length)], payload: i) : Publish(good[random.Next(good.Count)], payload: i))
            .ToList();

        AssertSameAsUncached(stream);
    }

    [Fact]
    public void RandomTopicBytes_SameAsUncached()
    {
        // Short random topics from a small alphabet (so they repeat) with UTF-8 fragments, NUL and wildcards mixed in.
        byte[] alphabet = [.. "ab/+#é"u8, 0x00, 0xC3, 0x80, 0xFF];
        var random = new Random(1505);
        var stream = new List<byte[]>();
        for (var i = 0; i < 20_000; i++)
        {
            var topic = new byte[random.Next(0, 6)];
            for (var k = 0; k < topic.Length; k++)
            {
                topic[k] = alphabet[random.Next(alphabet.Length)];
            }

            stream.Add(Publish(topic, payload: i, qos: random.Next(2)));
        }

        AssertSameAsUncached(stream);
    }

    /// <summary>Each packet through a cached and an uncached reader: the same packet, or the same protocol error.</summary>
    private static void AssertSameAsUncached(IEnumerable<byte[]> packets)
    {
        var cached = new MqttPacketReader();
        var uncached = new MqttPacketReader { CachesTopics = false };
        var n = 0;
        foreach (var bytes in packets)
        {
            var (expected, expectedError) = TryRead(uncached, bytes);
            var (actual, actualError) = TryRead(cached, bytes);

            Assert.True(expectedError == actualError, $"packet {n}: uncached error '{expectedError}', cached '{actualError}'");
            if (expected is not null)
            {
                var e = Assert.IsType<PublishPacket>(expected);
                var a = Assert.IsType<PublishPacket>(actual);
                Assert.True(e.Topic == a.Topic, $"packet {n}: topic '{a.Topic}' instead of '{e.Topic}'");
                Assert.True(e.Payload.Span.SequenceEqual(a.Payload.Span), $"packet {n}: payload differs");
                Assert.Equal((e.Qos, e.Retain, e.Dup, e.PacketId), (a.Qos, a.Retain, a.Dup, a.PacketId));
            }

            n++;
        }

        Assert.True(n > 0);
    }

    private static (MqttPacket? Packet, string? Error) TryRead(MqttPacketReader reader, byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        try
        {
            Assert.True(reader.TryReadPacket(ref buffer, out var packet));
            Assert.True(buffer.IsEmpty);
            return (packet, null);
        }
        catch (MqttProtocolException e)
        {
            return (null, e.Message);
        }
    }

    private static string Topic(MqttPacketReader reader, byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(reader.TryReadPacket(ref buffer, out var packet));
        return ((PublishPacket)packet).Topic;
    }

    // A PUBLISH with these topic bytes as they are (the writer refuses bad topics), a packet id at QoS 1, a 4-byte payload.
    private static byte[] Publish(byte[] topic, int payload = 0, int qos = 0)
    {
        var body = new List<byte> { (byte)(topic.Length >> 8), (byte)topic.Length };
        body.AddRange(topic);
        if (qos == 1)
        {
            var id = (payload % 65535) + 1;
            body.AddRange([(byte)(id >> 8), (byte)id]);
        }

        body.AddRange(BitConverter.GetBytes(payload));
        var packet = new List<byte> { (byte)(0x30 | (qos << 1)) };
        for (var remaining = body.Count; ; remaining >>= 7)
        {
            packet.Add((byte)((remaining & 0x7F) | (remaining > 0x7F ? 0x80 : 0)));
            if (remaining <= 0x7F)
            {
                break;
            }
        }

        packet.AddRange(body);
        return [.. packet];
    }
}
