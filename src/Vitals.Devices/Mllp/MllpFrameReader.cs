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

    // Resume point of an incomplete frame: bytes of its body already searched (no trailer, no start block in them),
    // and where that search stopped, so the next call scans only the new bytes (deframing stays linear in bytes received).
    private long pendingScanned;
    private SequencePosition pendingFrameStart;
    private SequencePosition pendingResumeAt;

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
    /// Bytes examined while searching for block boundaries, over the reader's life. Stays proportional to the bytes
    /// received however a frame is split into reads (an incomplete frame is never searched again from its start).
    /// </summary>
    public long ScannedBytes { get; private set; }

    /// <summary>
    /// Takes the next complete frame off the front of <paramref name="buffer"/>.
    /// On return <paramref name="buffer"/> starts at the first byte not yet consumed: pass <c>buffer.Start</c> as
    /// consumed and the original end as examined to <c>PipeReader.AdvanceTo</c>. The next call after a false return
    /// must pass those unconsumed bytes followed by any new ones (as a <c>PipeReader</c> does).
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
                var skip = FindTrailer(buffer);
                if (skip.Found == Boundary.StartBlock)
                {
                    // The oversize frame never got its trailer; a new frame starts here.
                    buffer = buffer.Slice(skip.At);
                    discarding = false;
                    OversizeFrames++;
                    continue;
                }

                // Incomplete: keep only a trailing 0x1C (it may be the first half of the trailer).
                buffer = buffer.Slice(skip.At);
                if (skip.Found == Boundary.None)
                {
                    return false;
                }

                discarding = false;
                OversizeFrames++;
                continue;
            }

            var body = Resume(buffer, out var searchFrom, out var searchedBefore);
            if (body is null)
            {
                // HL7 MLLP R2 block format: bytes before the start block are not part of any message.
                var start = buffer.PositionOf(StartBlock);
                if (start is null)
                {
                    ScannedBytes += buffer.Length;
                    GarbageBytes += buffer.Length;
                    buffer = buffer.Slice(buffer.End);
                    return false;
                }

                var skipped = buffer.Slice(0, start.Value).Length;
                ScannedBytes += skipped + 1;
                GarbageBytes += skipped;
                buffer = buffer.Slice(start.Value);
                body = buffer.Slice(1);
                searchFrom = body.Value.Start;
                searchedBefore = 0;
            }

            var found = FindTrailer(body.Value.Slice(searchFrom));
            pendingScanned = 0;
            if (found.Found == Boundary.StartBlock)
            {
                // A new start block before the end block: the sender gave up on the previous frame.
                TruncatedFrames++;
                buffer = buffer.Slice(found.At);
                continue;
            }

            if (found.Found == Boundary.None)
            {
                // Incomplete: FindTrailer stops at 0x1C+CR, so everything before found.At is message body.
                var pending = searchedBefore + body.Value.Slice(searchFrom, found.At).Length;
                if (pending > MaxFrameSize)
                {
                    discarding = true;
                    buffer = buffer.Slice(found.At);
                    return false;
                }

                pendingScanned = pending;
                pendingFrameStart = buffer.Start;
                pendingResumeAt = found.At;
                return false;
            }

            var afterTrailer = buffer.Slice(found.At);
            var message = body.Value.Slice(0, found.At);
            var messageLength = message.Length - 2; // found.At is the position after 0x1C 0x0D
            if (messageLength > MaxFrameSize)
            {
                OversizeFrames++;
                buffer = afterTrailer;
                continue;
            }

            frame = message.Slice(0, messageLength);
            buffer = afterTrailer;
            return true;
        }

        return false;
    }

    /// <summary>Clears the discarding and resume state (for example after a reconnect). Counters are kept.</summary>
    public void Reset()
    {
        discarding = false;
        pendingScanned = 0;
    }

    /// <summary>
    /// When <paramref name="buffer"/> continues the incomplete frame of the last call, returns its body and where the
    /// search for its trailer stopped; otherwise null (search from the start).
    /// </summary>
    private ReadOnlySequence<byte>? Resume(ReadOnlySequence<byte> buffer, out SequencePosition searchFrom, out long searchedBefore)
    {
        searchFrom = default;
        searchedBefore = 0;
        if (pendingScanned == 0 || buffer.Length <= pendingScanned || buffer.FirstSpan[0] != StartBlock)
        {
            return null;
        }

        var body = buffer.Slice(1);

        // Same memory as last time (a PipeReader that consumed nothing): the saved position is still valid and
        // costs nothing to use; otherwise (the caller moved the bytes) find it by offset.
        searchFrom = buffer.Start.Equals(pendingFrameStart) ? pendingResumeAt : body.GetPosition(pendingScanned);
        searchedBefore = pendingScanned;
        return body;
    }

    /// <summary>
    /// Finds the first <c>0x1C 0x0D</c> (<see cref="Boundary.Trailer"/>, at the position after it) or start block
    /// (<see cref="Boundary.StartBlock"/>, at its position), whichever comes first; otherwise <see cref="Boundary.None"/>
    /// at the position where a later search must resume (a trailing 0x1C, or the end).
    /// </summary>
    private Scan FindTrailer(ReadOnlySequence<byte> body)
    {
        var reader = new SequenceReader<byte>(body);
        ReadOnlySpan<byte> stops = [StartBlock, EndBlock];
        while (reader.TryAdvanceToAny(stops, advancePastDelimiter: false))
        {
            var at = reader.Position;
            reader.TryRead(out var b);
            if (b == StartBlock)
            {
                ScannedBytes += reader.Consumed;
                return new Scan(Boundary.StartBlock, at);
            }

            if (!reader.TryPeek(out var next))
            {
                ScannedBytes += body.Length;
                return new Scan(Boundary.None, at); // 0x1C at the very end: wait for the next byte
            }

            if (next == CarriageReturn)
            {
                reader.Advance(1);
                ScannedBytes += reader.Consumed;
                return new Scan(Boundary.Trailer, reader.Position);
            }

            // A lone 0x1C inside a message is not a trailer (HL7 text never contains it); keep scanning.
        }

        ScannedBytes += body.Length;
        return new Scan(Boundary.None, body.End);
    }

    private enum Boundary
    {
        None,
        Trailer,
        StartBlock,
    }

    private readonly record struct Scan(Boundary Found, SequencePosition At);
}
