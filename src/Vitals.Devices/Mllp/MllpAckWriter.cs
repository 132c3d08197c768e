using System.Buffers;
using System.Globalization;
using Vitals.Devices.Hl7;

namespace Vitals.Devices.Mllp;

/// <summary>
/// Writes MLLP-framed ACKs (HL7 MLLP Release 2 block around the <see cref="Hl7OruCodec.WriteAck"/> message), each with
/// a new MSH-10 of ours. Shared by the TCP listener and the serial HL7 codec. Thread-safe.
/// The codec is passed per ACK: the one that decoded the message, since the listener's codec can be replaced.
/// </summary>
internal sealed class MllpAckWriter
{
    private readonly string prefix;
    private long sequence;

    /// <summary>Creates a writer whose control ids start with a prefix derived from <paramref name="startedAt"/>.</summary>
    public MllpAckWriter(DateTimeOffset startedAt)
    {
        // MSH-10 of our ACKs: unique across restarts (start second, hex) and within a run (sequence); at most 20 chars.
        prefix = "V" + (startedAt.ToUnixTimeSeconds() & 0xFFFFFFF).ToString("x7", CultureInfo.InvariantCulture) + "-";
    }

    /// <summary>Appends <c>0x0B</c> ACK <c>0x1C 0x0D</c> for <paramref name="message"/>, written by <paramref name="codec"/>, to <paramref name="output"/>.</summary>
    public void Write(Hl7OruCodec codec, ReadOnlySpan<byte> message, in Hl7DecodeResult result, Hl7AckCode code, string? error, DateTimeOffset now, IBufferWriter<byte> output)
    {
        Span<char> id = stackalloc char[32];
        prefix.AsSpan().CopyTo(id);
        Interlocked.Increment(ref sequence).TryFormat(id[prefix.Length..], out var digits, default, CultureInfo.InvariantCulture);
        output.GetSpan(1)[0] = MllpFrameReader.StartBlock;
        output.Advance(1);
        codec.WriteAck(message, result, code, error, now, id[..(prefix.Length + digits)], output);
        var tail = output.GetSpan(2);
        tail[0] = MllpFrameReader.EndBlock;
        tail[1] = MllpFrameReader.CarriageReturn;
        output.Advance(2);
    }
}
