using Vitals.Core;
using Vitals.Devices;
using Vitals.Devices.Feeds;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;

namespace Vitals.Fuzz.Targets;

/// <summary>The HL7 codecs the targets share: one per chair rule, with the maps a clinic would configure.</summary>
internal static class Hl7Codecs
{
    public static readonly IReadOnlyList<Hl7OruCodec> All =
    [
        new(new Hl7CodecOptions { Facility = "CLINIC" }),
        Mapped(Hl7ChairRule.Pv1Bed, ("BED3", "chair-3"), ("CHAIR-01", "chair-1")),
        Mapped(Hl7ChairRule.SendingApplication, ("MON1", "chair-4")),
        Mapped(Hl7ChairRule.EquipmentId, ("0012345678ABCDEF", "chair-5")),
    ];

    /// <summary>Every chair the codecs can name, and the feed's own.</summary>
    public static readonly IReadOnlySet<string> Chairs = new HashSet<string>(StringComparer.Ordinal) { "", "chair-1", "chair-3", "chair-4", "chair-5" };

    public static readonly IReadOnlyList<byte[]> Dictionary = [.. new[]
    {
        "MSH|^~\\&|", "MSH", "\r", "\n", "\r\n", "|", "^", "~", "\\", "&", "\\F\\", "\\S\\", "\\T\\", "\\R\\", "\\E\\", "\\X0D\\",
        "PID|||", "PV1||O|", "OBR|1|||", "OBX|1|NM|", "NTE|", "ORU^R01", "ORU^R01^ORU_R01", "ACK", "ADT^A01", "|P|2.6", "|T|", "NE|AL",
        "147842^MDC_ECG_HEART_RATE^MDC", "150456^^MDC", "^MDC_PULS_OXIM_SAT_O2^MDC", "0002-4182", "0002-4a05", "8867-4^^LN",
        "266016^MDC_DIM_MMHG^MDC", "mm[Hg]", "kPa", "[degF]", "Cel", "%", "/min", "|R|", "|F|", "|X|", "BED3", "MON1",
        "0012345678ABCDEF^EUI-64", "20261121101500", "20261121101500+0100", "99991231235959", "00010101000000", "00010101000000+1400",
        "99991231235959-1200", "20261121101500.1234", "-0000", "+9999", "NaN", "1e309", "-1", "1E2", "0x1C", "\u000b", "\u001c",
    }.Select(System.Text.Encoding.Latin1.GetBytes)];

    public static IReadOnlyList<byte[]> Seeds() =>
        [.. Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Corpus", "hl7")).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];

    private static Hl7OruCodec Mapped(Hl7ChairRule rule, params (string Key, string Chair)[] map)
    {
        var options = new Hl7CodecOptions { ChairRule = rule, Facility = "CLINIC" };
        foreach (var (key, chair) in map)
        {
            options.ChairMap[key] = chair;
        }

        return new Hl7OruCodec(options);
    }
}

/// <summary>
/// One HL7 v2 message (the bytes between the MLLP blocks) through <see cref="Hl7OruCodec.Decode"/> with every chair rule
/// and device time zone, then its ACK: observations keep the invariants, and the ACK is one well-formed MLLP frame whose
/// code is the decode's.
/// </summary>
public sealed class Hl7Target : FuzzTarget
{
    /// <inheritdoc/>
    public override string Name => "hl7";

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Dictionary => Hl7Codecs.Dictionary;

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Seeds() => [.. Hl7Codecs.Seeds().Where(s => !Hl7CaptureDecoder.IsMllp(s))];

    /// <inheritdoc/>
    public override string Run(byte[] input)
    {
        var outcome = new SortedSet<string>(StringComparer.Ordinal);
        var output = new List<Observation>();
        foreach (var zone in Invariants.Zones)
        {
            // Times depend on the zone, chairs on the rule: every rule in the first zone, the feed rule in the others.
            foreach (var codec in zone == Invariants.Zones[0] ? Hl7Codecs.All : Hl7Codecs.All.Take(1))
            {
                var context = new DecodeContext("clinic", codec.Options.ChairRule == Hl7ChairRule.Feed ? "chair-1" : "", "hl7", Invariants.ReceivedAt, zone);
                output.Clear();
                var result = codec.Decode(input, context, output);
                Invariants.Check(result.Result);
                Invariants.That(result.Ack != Hl7AckCode.Accept || result.Result.Ok, "AA for a message the codec called bad");
                foreach (var o in output)
                {
                    Invariants.Check(o, context, SourceProtocol.Hl7Mllp, Hl7Codecs.Chairs);
                }

                var ack = MllpEncoder.Frame(codec.CreateAck(input, result, result.Ack, null, Invariants.ReceivedAt, "VACK-1"));
                Invariants.CheckFramedAck(ack, result.Ack);
                outcome.Add($"{result.Ack}:{Invariants.Outcome(result.Result.Error)}{(output.Count > 0 ? "+obs" : string.Empty)}");
            }
        }

        return string.Join('|', outcome);
    }
}

/// <summary>
/// A byte stream from an HL7 sender through the MLLP serial codec (MLLP deframer, HL7 decode, framed ACK), whole and
/// chunked: the same messages, observations and ACKs either way, and every ACK one well-formed frame.
/// </summary>
public sealed class MllpTarget : SerialCodecTarget
{
    private static readonly DateTimeOffset StartedAt = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    /// <inheritdoc/>
    public override string Name => "mllp";

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Dictionary { get; } = [.. Hl7Codecs.Dictionary, [0x0B], [0x1C, 0x0D], [0x1C], [0x0D, 0x1C, 0x0D], [0x0B, 0x0B]];

    /// <inheritdoc/>
    protected override SourceProtocol Source => SourceProtocol.Hl7Mllp;

    /// <inheritdoc/>
    protected override IReadOnlySet<string>? Chairs => Hl7Codecs.Chairs;

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Seeds() => [.. Hl7Codecs.Seeds().Select(s => Hl7CaptureDecoder.IsMllp(s) ? s : MllpEncoder.Frame(s))];

    /// <inheritdoc/>
    protected override IEnumerable<Func<ISerialCodec>> Codecs() =>
        [() => new MllpSerialCodec(Hl7Codecs.All[0], StartedAt, 2048), () => new MllpSerialCodec(Hl7Codecs.All[1], StartedAt, 2048)];

    /// <inheritdoc/>
    protected override string AfterDecode(ISerialCodec codec)
    {
        var mllp = (MllpSerialCodec)codec;
        Invariants.CheckFramedAck(mllp.Reply.Span, mllp.LastAck);
        return Convert.ToHexString(mllp.Reply.Span);
    }
}
