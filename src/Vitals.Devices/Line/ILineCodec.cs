using System.Buffers;
using Vitals.Core;
using Vitals.Devices.Feeds;

namespace Vitals.Devices.Line;

/// <summary>
/// A pure codec for a line-oriented serial protocol: a <see cref="ISerialCodec"/> whose framing is a
/// <see cref="LineFramer"/> (LF or CR LF terminated lines) and which never replies to the device. No I/O, no clock.
/// Instances keep per-stream state (the framer, a device-id cache), so use one per feed.
/// </summary>
public interface ILineCodec : ISerialCodec
{
    /// <summary>The framer; its <see cref="LineFramer.OverlongFrames"/> count as bad frames.</summary>
    LineFramer Framer { get; }

    /// <inheritdoc/>
    int ISerialCodec.MaxFrameBytes => Framer.MaxFrameBytes;

    /// <inheritdoc/>
    long ISerialCodec.DiscardedFrames => Framer.OverlongFrames;

    /// <inheritdoc/>
    string ISerialCodec.DiscardedFrameReason => $"line longer than {Framer.MaxFrameBytes} bytes discarded";

    /// <inheritdoc/>
    void ISerialCodec.ResetFraming() => Framer.Reset();

    /// <summary>Takes the next complete line off <paramref name="buffer"/>; see <see cref="LineFramer.TryReadFrame"/>.</summary>
    bool ISerialCodec.TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame) => Framer.TryReadFrame(ref buffer, out frame);
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
