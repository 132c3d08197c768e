using System.Buffers;
using System.Text;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;

namespace Vitals.Fuzz.Targets;

/// <summary>
/// A byte stream from a broker through the MQTT 3.1.1 packet reader, whole and chunked. A malformed packet may only end
/// the stream with <see cref="MqttProtocolException"/> (the connection is closed); anything else thrown is a crash. The
/// same packets (and the same error at the same place) either way, and every packet read re-encodes to itself.
/// </summary>
public sealed class MqttTarget : FuzzTarget
{
    /// <summary>Small, so the oversize check is reached by mutated length fields.</summary>
    private const int MaxPacketSize = 4096;

    /// <inheritdoc/>
    public override string Name => "mqtt";

    /// <inheritdoc/>
    public override int MaxInputBytes => 8 * 1024;

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Dictionary { get; } =
    [
        [0x30], [0x32], [0x34], [0x36], [0x3B], [0x20, 0x02], [0x40, 0x02], [0x90], [0xB0, 0x02], [0xD0, 0x00], [0xE0, 0x00], [0x00],
        [0xFF, 0xFF, 0xFF, 0x7F], [0x80, 0x80, 0x80, 0x80, 0x01], [0x80, 0x00], [0x00, 0x00], [0xFF, 0xFF], [0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T'],
        [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], "vitals/clinic/chair-1/obs"u8.ToArray(), "#"u8.ToArray(), "+"u8.ToArray(),
    ];

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Seeds()
    {
        var payloads = CorpusFiles("*.json").Where(b => b.Length < 2048).ToList();
        MqttPacket[] packets =
        [
            new ConnAckPacket(false, MqttConnectReturnCode.Accepted),
            new ConnAckPacket(true, MqttConnectReturnCode.NotAuthorized),
            new PublishPacket("vitals/clinic/chair-1/obs", payloads[0]),
            new PublishPacket("vitals/clinic/chair-2/obs", payloads[^1], MqttQualityOfService.AtLeastOnce, Retain: true, PacketId: 7),
            new PublishPacket("vitals/clinic/chair-2/alarm", Encoding.UTF8.GetBytes("{\"rule\":\"hr.low\"}"), MqttQualityOfService.ExactlyOnce, Dup: true, PacketId: 65535),
            new PubAckPacket(1), new PubRecPacket(2), new PubRelPacket(3), new PubCompPacket(4),
            new SubAckPacket(9, [0, 1, SubAckPacket.Failure]), new UnsubAckPacket(10), PingRespPacket.Instance,
            new SubscribePacket(11, [new MqttSubscription("vitals/+/+/obs", MqttQualityOfService.AtLeastOnce)]),
            new UnsubscribePacket(12, ["vitals/#"]),
            new ConnectPacket { ClientId = "vitals-clinic-1", KeepAliveSeconds = 30, Username = "u", Password = "p", Will = new MqttWill("vitals/clinic/gateway/status", "offline"u8.ToArray(), Retain: true) },
        ];

        var encoded = packets.Select(MqttPacketWriter.ToArray).ToList();
        return [.. encoded, [.. encoded.SelectMany(p => p)]];
    }

    /// <inheritdoc/>
    public override string Run(byte[] input)
    {
        var whole = Read(input, null);
        Invariants.Same(whole, Read(input, ChunkedFeed.RandomSizes(input, 64)), "in random chunks");
        Invariants.Same(whole, Read(input, ChunkedFeed.Bytewise()), "byte by byte");
        return string.Join('|', whole.Select(item => item.Split(' ')[0]).Distinct().Order(StringComparer.Ordinal));
    }

    private static List<string> Read(byte[] input, IEnumerable<int>? sizes)
    {
        var reader = new MqttPacketReader(MaxPacketSize);
        var items = new List<string>();
        try
        {
            ChunkedFeed.Feed<MqttPacket?>(input, sizes, reader.TryReadPacket, packet =>
            {
                var text = Describe(packet!);
                CheckRoundTrip(packet!, text);
                items.Add(text);
            });
        }
        catch (MqttProtocolException e)
        {
            items.Add("error " + Invariants.Outcome(e.Message)); // the connection would be closed here
        }

        return items;
    }

    private static void CheckRoundTrip(MqttPacket packet, string text)
    {
        byte[] bytes;
        try
        {
            bytes = MqttPacketWriter.ToArray(packet);
        }
        catch (ArgumentException)
        {
            return; // the writer refuses what a client must not send (for example a wildcard topic); reading it is not a crash
        }

        var sequence = new ReadOnlySequence<byte>(bytes);
        Invariants.That(new MqttPacketReader(MaxPacketSize * 2).TryReadPacket(ref sequence, out var again) && sequence.IsEmpty, $"{text} does not read back after writing");
        Invariants.That(Describe(again!) == text, $"{text} reads back as {Describe(again!)}");
    }

    private static string Describe(MqttPacket packet) => packet switch
    {
        PublishPacket p => $"PUBLISH {p.Topic} q{(int)p.Qos} r{p.Retain} d{p.Dup} id{p.PacketId} {Convert.ToHexString(p.Payload.Span)}",
        ConnectPacket c => $"CONNECT {c.ClientId} {c.CleanSession} {c.KeepAliveSeconds} {c.Username} {c.Password} {c.Will?.Topic} {(c.Will is { } w ? Convert.ToHexString(w.Payload.Span) : string.Empty)} {c.Will?.Qos} {c.Will?.Retain}",
        SubscribePacket s => $"SUBSCRIBE {s.PacketId} {string.Join(',', s.Subscriptions)}",
        SubAckPacket s => $"SUBACK {s.PacketId} {string.Join(',', s.ReturnCodes)}",
        UnsubscribePacket u => $"UNSUBSCRIBE {u.PacketId} {string.Join(',', u.Filters)}",
        _ => packet.ToString()!.Replace(' ', '_'),
    };
}
