using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;

namespace Vitals.Devices.Benchmarks;

/// <summary>HL7 ORU^R01 (PCD-01) decode of a message with 8 numeric OBX rows; issue 3 target: 200k messages/s per core.</summary>
[MemoryDiagnoser]
public class Hl7DecodeBenchmark
{
    private readonly List<Observation> sink = new(16);
    private readonly ArrayBufferWriter<byte> ack = new(512);
    private Hl7OruCodec codec = null!;
    private DecodeContext context = null!;
    private byte[] message = [];
    private byte[] framed = [];
    private MllpFrameReader framer = null!;

    [GlobalSetup]
    public void Setup()
    {
        codec = new Hl7OruCodec(new Hl7CodecOptions { ChairRule = Hl7ChairRule.Pv1Bed, ChairMap = { ["CHAIR-01"] = "chair-1" } });
        context = new DecodeContext("clinic", string.Empty, "hl7", new DateTimeOffset(2026, 11, 21, 9, 15, 30, TimeSpan.Zero), TimeZoneInfo.Utc);
        message = Encoding.ASCII.GetBytes(string.Join('\r',
            "MSH|^~\\&|MON1^0012345678ABCDEF^EUI-64|CLINIC|||20261121101530+0100||ORU^R01^ORU_R01|MSG00001|P|2.6|||NE|AL||UNICODE UTF-8",
            "PID|||MRN1",
            "PV1||O|INF^R1^CHAIR-01",
            "OBR|1|||182777000^monitoring of patient^SNOMED-CT|||20261121101500+0100",
            "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||20261121101500+0100||||0012345678ABCDEF^EUI-64",
            "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|98|262688^MDC_DIM_PERCENT^MDC|||||R|||20261121101500+0100",
            "OBX|3|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.2.1.2|73|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||20261121101500+0100",
            "OBX|4|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.3.1.1|118|266016^MDC_DIM_MMHG^MDC|||||R|||20261121101200+0100",
            "OBX|5|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.3.1.2|76|266016^MDC_DIM_MMHG^MDC|||||R|||20261121101200+0100",
            "OBX|6|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.3.1.3|90|266016^MDC_DIM_MMHG^MDC|||||R|||20261121101200+0100",
            "OBX|7|NM|151562^MDC_RESP_RATE^MDC|1.4.1.1|16|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R|||20261121101500+0100",
            "OBX|8|NM|150364^MDC_TEMP_BODY^MDC|1.5.1.1|36.8|268192^MDC_DIM_DEGC^MDC|||||R|||20261121101500+0100") + "\r");
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
