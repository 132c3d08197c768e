using System.Text;
using Vitals.Core;
using Vitals.Devices.Hl7;

namespace Vitals.Devices.Tests.Hl7;

internal static class Hl7TestData
{
    public static readonly DateTimeOffset Received = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public static string CaptureDir => Path.Combine(AppContext.BaseDirectory, "Captures", "hl7");

    public static byte[] Capture(string name) => File.ReadAllBytes(Path.Combine(CaptureDir, name));

    public static DecodeContext Context(string chair = "", TimeZoneInfo? zone = null) =>
        new("clinic", chair, "hl7", Received, zone ?? TimeZoneInfo.Utc);

    public static Hl7OruCodec Codec(Hl7ChairRule rule = Hl7ChairRule.Feed, params (string Key, string Chair)[] map)
    {
        var options = new Hl7CodecOptions { ChairRule = rule, Facility = "CLINIC" };
        foreach (var (key, chair) in map)
        {
            options.ChairMap[key] = chair;
        }

        return new Hl7OruCodec(options);
    }

    public static byte[] Message(params string[] segments) => Encoding.UTF8.GetBytes(string.Join('\r', segments) + "\r");

    /// <summary>A PCD-01 message with 8 numeric OBX rows (the benchmark's shape).</summary>
    public static byte[] EightObx(string controlId = "MSG1") => Message(
        $"MSH|^~\\&|MON1^0012345678ABCDEF^EUI-64|CLINIC|||20261121101530+0100||ORU^R01^ORU_R01|{controlId}|P|2.6|||NE|AL",
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
        "OBX|8|NM|150364^MDC_TEMP_BODY^MDC|1.5.1.1|36.8|268192^MDC_DIM_DEGC^MDC|||||R|||20261121101500+0100");

    public static (Hl7DecodeResult Result, List<Observation> Observations) Decode(Hl7OruCodec codec, byte[] message, DecodeContext? context = null)
    {
        var list = new List<Observation>();
        var result = codec.Decode(message, context ?? Context("chair-x"), list);
        return (result, list);
    }

    public static double Value(List<Observation> observations, Sign sign) => observations.Single(o => o.Sign == sign).Value;
}
