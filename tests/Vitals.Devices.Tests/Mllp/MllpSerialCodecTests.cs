using System.Buffers;
using System.Text;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Tests.Hl7;

namespace Vitals.Devices.Tests.Mllp;

public sealed class MllpSerialCodecTests
{
    private static MllpSerialCodec NewCodec(int maxFrameSize = MllpSerialCodec.DefaultMaxFrameSize) =>
        new(Hl7TestData.Codec(), Hl7TestData.Received, maxFrameSize);

    /// <summary>Frames and decodes everything in <paramref name="stream"/> like the feed does; one reply per decoded frame.</summary>
    private static (List<DecodeResult> Results, List<byte[]> Replies, List<Observation> Observations) Run(ISerialCodec codec, byte[] stream)
    {
        var results = new List<DecodeResult>();
        var replies = new List<byte[]>();
        var observations = new List<Observation>();
        var buffer = new ReadOnlySequence<byte>(stream);
        while (codec.TryReadFrame(ref buffer, out var frame))
        {
            results.Add(codec.Decode(frame.ToArray(), Hl7TestData.Context("chair-7"), observations));
            replies.Add(codec.Reply.ToArray());
        }

        return (results, replies, observations);
    }

    private static Hl7Ack ParseFramedAck(byte[] reply)
    {
        Assert.Equal(MllpFrameReader.StartBlock, reply[0]);
        Assert.Equal([MllpFrameReader.EndBlock, MllpFrameReader.CarriageReturn], reply[^2..]);
        Assert.True(Hl7Ack.TryParse(reply.AsSpan(1, reply.Length - 3), out var ack), Encoding.ASCII.GetString(reply));
        return ack!;
    }

    [Fact]
    public void Decode_FramedOru_ObservationsOnFeedChairAndFramedAaWithControlId()
    {
        var codec = NewCodec();

        var (results, replies, observations) = Run(codec, MllpEncoder.Frame(Hl7TestData.EightObx("MSG-42")));

        Assert.True(Assert.Single(results).Ok);
        Assert.Equal(8, observations.Count);
        Assert.All(observations, o => Assert.Equal("chair-7", o.Chair));
        Assert.All(observations, o => Assert.Equal(SourceProtocol.Hl7Mllp, o.Source));
        var ack = ParseFramedAck(Assert.Single(replies));
        Assert.Equal(Hl7AckCode.Accept, ack.Code);
        Assert.Equal("MSG-42", ack.AcknowledgedControlId);
        Assert.Equal(Hl7AckCode.Accept, codec.LastAck);
    }

    [Fact]
    public void Decode_GarbageFrameThenGoodMessage_AeThenAa()
    {
        var codec = NewCodec();
        byte[] stream = [.. "noise before any block"u8, .. MllpEncoder.Frame("\u0001\u00ffnot hl7 at all"u8), .. MllpEncoder.Frame(Hl7TestData.EightObx("NEXT1"))];

        var (results, replies, observations) = Run(codec, stream);

        Assert.Equal([false, true], results.Select(r => r.Ok));
        var bad = ParseFramedAck(replies[0]);
        Assert.Equal(Hl7AckCode.Error, bad.Code);
        Assert.Contains("MSH", bad.ErrorText, StringComparison.Ordinal);
        var good = ParseFramedAck(replies[1]);
        Assert.Equal(Hl7AckCode.Accept, good.Code);
        Assert.Equal("NEXT1", good.AcknowledgedControlId);
        Assert.Equal(8, observations.Count);
        Assert.Equal(0, codec.DiscardedFrames);
    }

    [Fact]
    public void Decode_MessageWithNoUsableObx_AeNeverAa()
    {
        var codec = NewCodec();
        var message = Hl7TestData.Message(
            "MSH|^~\\&|MON1|CLINIC|||20261121101530+0100||ORU^R01^ORU_R01|EMPTY9|P|2.6",
            "OBX|1|NM|999999^MDC_UNKNOWN^MDC|1.1.1.1|5|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R");

        var (results, replies, observations) = Run(codec, MllpEncoder.Frame(message));

        Assert.False(Assert.Single(results).Ok);
        Assert.Empty(observations);
        var ack = ParseFramedAck(Assert.Single(replies));
        Assert.Equal(Hl7AckCode.Error, ack.Code);
        Assert.Equal("EMPTY9", ack.AcknowledgedControlId);
    }

    [Fact]
    public void Decode_NotAnOru_Ar()
    {
        var codec = NewCodec();

        var (results, replies, _) = Run(codec, MllpEncoder.Frame(Hl7TestData.Capture("adt_a01_not_oru.hl7")));

        Assert.False(Assert.Single(results).Ok);
        Assert.Equal(Hl7AckCode.Reject, ParseFramedAck(Assert.Single(replies)).Code);
    }

    [Fact]
    public void TryReadFrame_OversizeFrame_DiscardedCountedWithoutReplyAndBufferBounded()
    {
        var codec = NewCodec(maxFrameSize: 4096);
        var big = new byte[10_000];
        Array.Fill(big, (byte)'A');
        byte[] stream = [.. MllpEncoder.Frame(big), .. MllpEncoder.Frame(Hl7TestData.EightObx("AFTER"))];

        var buffer = new ReadOnlySequence<byte>(stream, 0, 6000); // the start of the oversize frame only
        Assert.False(codec.TryReadFrame(ref buffer, out _));
        Assert.True(buffer.Length <= codec.MaxFrameBytes);

        var (results, replies, _) = Run(codec, stream[6000..]);

        Assert.Equal(1, codec.DiscardedFrames);
        Assert.Contains("4096", codec.DiscardedFrameReason, StringComparison.Ordinal);
        Assert.True(Assert.Single(results).Ok);
        Assert.Equal("AFTER", ParseFramedAck(Assert.Single(replies)).AcknowledgedControlId);
    }

    [Fact]
    public void Decode_TwoMessages_OurAckControlIdsDiffer()
    {
        var codec = NewCodec();
        byte[] stream = [.. MllpEncoder.Frame(Hl7TestData.EightObx("A1")), .. MllpEncoder.Frame(Hl7TestData.EightObx("A2"))];

        var (_, replies, _) = Run(codec, stream);

        static string OurControlId(byte[] reply) => Encoding.ASCII.GetString(reply[1..^2]).Split('\r')[0].Split('|')[9];
        Assert.Equal(2, replies.Count);
        Assert.NotEqual(OurControlId(replies[0]), OurControlId(replies[1]));
        Assert.StartsWith("V", OurControlId(replies[0]), StringComparison.Ordinal);
    }

    [Fact]
    public void LineCodec_AsSerialCodec_HasNoReply()
    {
        ISerialCodec codec = Vitals.Devices.Line.LineCodecs.Create("masimo");

        var (results, replies, _) = Run(codec, "02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 ALARM=0000 EXC=000800\r\n"u8.ToArray());

        Assert.True(Assert.Single(results).Ok);
        Assert.Empty(Assert.Single(replies));
    }
}
