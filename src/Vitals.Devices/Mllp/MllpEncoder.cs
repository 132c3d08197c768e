using System.Buffers;

namespace Vitals.Devices.Mllp;

/// <summary>Wraps outgoing messages in MLLP blocks (HL7 MLLP Release 2 block format).</summary>
public static class MllpEncoder
{
    /// <summary>Bytes MLLP adds around a message.</summary>
    public const int Overhead = 3;

    /// <summary>Writes <c>0x0B</c> + <paramref name="message"/> + <c>0x1C 0x0D</c> to <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(message.Length + Overhead);
        span[0] = MllpFrameReader.StartBlock;
        message.CopyTo(span[1..]);
        span[message.Length + 1] = MllpFrameReader.EndBlock;
        span[message.Length + 2] = MllpFrameReader.CarriageReturn;
        output.Advance(message.Length + Overhead);
    }

    /// <summary>Returns a new array holding the framed message.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> message)
    {
        var framed = new byte[message.Length + Overhead];
        framed[0] = MllpFrameReader.StartBlock;
        message.CopyTo(framed.AsSpan(1));
        framed[^2] = MllpFrameReader.EndBlock;
        framed[^1] = MllpFrameReader.CarriageReturn;
        return framed;
    }
}
