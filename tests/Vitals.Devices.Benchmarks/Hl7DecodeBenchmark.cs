using System.Buffers;
using BenchmarkDotNet.Attributes;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Tests.Hl7;

namespace Vitals.Devices.Benchmarks;

/// <summary>HL7 ORU^R01 (PCD-01) decode of a message with 8 numeric OBX rows; issue 3 target: 200k messages/s per core.</summary>
[MemoryDiagnoser]
public class Hl7DecodeBenchmark
{
    private readonly List<Observation> sink = new(16);
    private readonly ArrayBufferWriter<byte> ack = new(512);
    private Hl7OruCodec codec = null!;
    private DecodeContext context;
    private byte[] message = [];
    private byte[] framed = [];
    private MllpFrameReader framer = null!;

    [GlobalSetup]
    public void Setup()
    {
        codec = new Hl7OruCodec(new Hl7CodecOptions { ChairRule = Hl7ChairRule.Pv1Bed, ChairMap = { ["CHAIR-01"] = "chair-1" } });
        context = new DecodeContext("clinic", string.Empty, "hl7", new DateTimeOffset(2026, 11, 21, 9, 15, 30, TimeSpan.Zero), TimeZoneInfo.Utc);
        message = Hl7TestData.EightObx("MSG00001");
        framed = MllpEncoder.Frame(message);
        framer = new MllpFrameReader();
    }

    /// <summary>Codec only: bytes to 8 observations.</summary>
    [Benchmark(Baseline = true)]
    public int Decode()
    {
        sink.Clear();
        return codec.Decode(message, context, sink).Accepted;
    }

    /// <summary>What the listener does per message: deframe, decode, write the ACK.</summary>
    [Benchmark]
    public int DeframeDecodeAck()
    {
        var buffer = new ReadOnlySequence<byte>(framed);
        framer.TryReadFrame(ref buffer, out var frame);
        sink.Clear();
        var span = frame.FirstSpan;
        var result = codec.Decode(span, context, sink);
        ack.ResetWrittenCount();
        codec.WriteAck(span, result, result.Ack, null, context.ReceivedAt, "V1-1", ack);
        return ack.WrittenCount;
    }
}
