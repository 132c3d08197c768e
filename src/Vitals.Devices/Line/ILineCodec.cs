using System.Buffers;
using Vitals.Core;

namespace Vitals.Devices.Line;

/// <summary>
/// A pure codec for a line-oriented serial protocol: framing plus decoding, no I/O, no clock.
/// Instances keep per-stream state (the framer, a device-id cache), so use one per feed.
/// </summary>
public interface ILineCodec
{
    /// <summary>The protocol stamped on observations.</summary>
    SourceProtocol Protocol { get; }

    /// <summary>The framer; its <see cref="LineFramer.OverlongFrames"/> count as bad frames.</summary>
    LineFramer Framer { get; }

    /// <summary>Takes the next complete line off <paramref name="buffer"/>; see <see cref="LineFramer.TryReadFrame"/>.</summary>
    bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame) => Framer.TryReadFrame(ref buffer, out frame);

    /// <summary>
    /// Technical conditions the device reported in the last good frame (for example <c>SensorOff</c>), for technical
    /// alarms and the dashboard; empty when none or when the protocol has no such field.
    /// </summary>
    IReadOnlyList<string> ActiveConditions => [];

    /// <summary>Decodes one line (without terminator), appending observations to <paramref name="output"/>. Never throws on bad input.</summary>
    DecodeResult Decode(ReadOnlySpan<byte> line, DecodeContext context, ICollection<Observation> output);
}

/// <summary>Helpers shared by line codecs.</summary>
public static class LineCodecExtensions
{
    /// <summary>Decodes a frame that may span several buffer segments (copied to a pooled buffer only then).</summary>
    public static DecodeResult Decode(this ILineCodec codec, in ReadOnlySequence<byte> frame, DecodeContext context, ICollection<Observation> output)
    {
        ArgumentNullException.ThrowIfNull(codec);
        if (frame.IsSingleSegment)
        {
            return codec.Decode(frame.FirstSpan, context, output);
        }

        int length = checked((int)frame.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            frame.CopyTo(rented);
            return codec.Decode(rented.AsSpan(0, length), context, output);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
