using System.Buffers;

namespace Vitals.Devices.Mllp;

/// <summary>
/// Incremental MLLP deframer: <c>0x0B</c> message <c>0x1C 0x0D</c> (HL7 MLLP Release 2 block format: SB 0x0B, EB 0x1C, CR 0x0D).
/// Pure and allocation-free; one instance per byte stream (it remembers whether it is discarding an oversize frame).
/// Not thread-safe.
/// </summary>
public sealed class MllpFrameReader
{
    /// <summary>Default maximum message size (1 MiB); a PCD-01 message with a few dozen OBX is a few KiB.</summary>
    public const int DefaultMaxFrameSize = 1024 * 1024;

    /// <summary>Start block, VT (HL7 MLLP R2 block format).</summary>
    public const byte StartBlock = 0x0B;

    /// <summary>End block, FS, followed by <see cref="CarriageReturn"/>.</summary>
    public const byte EndBlock = 0x1C;

    /// <summary>The carriage return that closes the trailer.</summary>
    public const byte CarriageReturn = 0x0D;

    private bool discarding;

    /// <summary>Creates a reader.</summary>
    /// <param name="maxFrameSize">Largest message (bytes between the start and end blocks) that is kept; larger frames are discarded.</param>
    public MllpFrameReader(int maxFrameSize = DefaultMaxFrameSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameSize, 16);
        MaxFrameSize = maxFrameSize;
    }

    /// <summary>Largest message kept, in bytes.</summary>
    public int MaxFrameSize { get; }

    /// <summary>Bytes skipped outside any frame (before a start block).</summary>
    public long GarbageBytes { get; private set; }

    /// <summary>Frames dropped because they exceeded <see cref="MaxFrameSize"/>.</summary>
    public long OversizeFrames { get; private set; }

    /// <summary>Frames dropped because a new start block arrived before their end block.</summary>
    public long TruncatedFrames { get; private set; }

    /// <summary>Frames that were dropped for any reason (oversize or truncated): each counts as a bad frame.</summary>
    public long BadFrames => OversizeFrames + TruncatedFrames;

    /// <summary>
    /// Takes the next complete frame off the front of <paramref name="buffer"/>.
    /// On return <paramref name="buffer"/> starts at the first byte not yet consumed: pass <c>buffer.Start</c> as
    /// consumed and the original end as examined to <c>PipeReader.AdvanceTo</c>.
    /// </summary>
    /// <param name="buffer">Bytes received so far; advanced past garbage, discarded frames and the returned frame.</param>
    /// <param name="frame">The message between the start block and the end block (trailer excluded), valid until the buffer is advanced.</param>
    /// <returns>True when a frame was produced; false when more bytes are needed.</returns>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        while (!buffer.IsEmpty)
        {
            if (discarding)
            {
                // Oversize frame: drop everything up to and including its trailer, keeping memory bounded.
                var end = FindTrailer(buffer, out var restartAt);
                if (restartAt is not null)
                {
                    // The oversize frame never got its trailer; a new frame starts here.
                    buffer = buffer.Slice(restartAt.Value);
                    discarding = false;
                    OversizeFrames++;
                    continue;
                }

                if (end is null)
                {
                    // Keep a trailing 0x1C: it may be the first half of the trailer.
                    var keep = EndsWith(buffer, EndBlock) ? 1 : 0;
                    buffer = buffer.Slice(buffer.Length - keep);
                    return false;
                }

                buffer = buffer.Slice(end.Value);
                discarding = false;
                OversizeFrames++;
                continue;
            }

            // HL7 MLLP R2 block format: bytes before the start block are not part of any message.
            var start = buffer.PositionOf(StartBlock);
            if (start is null)
            {
                GarbageBytes += buffer.Length;
                buffer = buffer.Slice(buffer.End);
                return false;
            }

            var skipped = buffer.Slice(0, start.Value).Length;
            GarbageBytes += skipped;
            buffer = buffer.Slice(start.Value);

            var body = buffer.Slice(1);
            var trailer = FindTrailer(body, out var restart);
            if (restart is not null)
            {
                // A new start block before the end block: the sender gave up on the previous frame.
                TruncatedFrames++;
                buffer = body.Slice(restart.Value);
                continue;
            }

            if (trailer is null)
            {
                // Incomplete: FindTrailer stops at 0x1C+CR, so everything before a last 0x1C is message body.
                var pending = EndsWith(body, EndBlock) ? body.Length - 1 : body.Length;
                if (pending > MaxFrameSize)
                {
                    discarding = true;
                    var keep = EndsWith(body, EndBlock) ? 1 : 0;
                    buffer = body.Slice(body.Length - keep);
                }

                return false;
            }

            var message = body.Slice(0, trailer.Value);
            var messageLength = message.Length - 2; // trailer is the position after 0x1C 0x0D
            var afterTrailer = body.Slice(trailer.Value);
            if (messageLength > MaxFrameSize)
            {
                OversizeFrames++;
                buffer = afterTrailer;
                continue;
            }

            frame = body.Slice(0, messageLength);
            buffer = afterTrailer;
            return true;
        }

        return false;
    }

    /// <summary>Clears the discarding state (for example after a reconnect). Counters are kept.</summary>
    public void Reset() => discarding = false;

    /// <summary>
    /// Finds the position just after the first <c>0x1C 0x0D</c>; or, if a start block comes first,
    /// reports its position in <paramref name="restart"/> instead.
    /// </summary>
    private static SequencePosition? FindTrailer(ReadOnlySequence<byte> body, out SequencePosition? restart)
    {
        restart = null;
        var reader = new SequenceReader<byte>(body);
        ReadOnlySpan<byte> stops = [StartBlock, EndBlock];
        while (reader.TryAdvanceToAny(stops, advancePastDelimiter: false))
        {
            reader.TryRead(out var b);
            if (b == StartBlock)
            {
                restart = body.GetPosition(reader.Consumed - 1);
                return null;
            }

            if (!reader.TryPeek(out var next))
            {
                return null; // 0x1C at the very end: wait for the next byte
            }

            if (next == CarriageReturn)
            {
                reader.Advance(1);
                return reader.Position;
            }

            // A lone 0x1C inside a message is not a trailer (HL7 text never contains it); keep scanning.
        }

        return null;
    }

    private static bool EndsWith(ReadOnlySequence<byte> sequence, byte value)
    {
        if (sequence.IsEmpty)
        {
            return false;
        }

        var last = sequence.Slice(sequence.Length - 1);
        return last.FirstSpan[0] == value;
    }
}
