using System.Buffers;

namespace Vitals.Devices.Line;

/// <summary>
/// Splits a byte stream into LF- or CR LF-terminated lines. Bounded: a line longer than <see cref="MaxFrameBytes"/>
/// (garbage without newlines, a wrong baud rate) is discarded up to the next LF and counted in <see cref="OverlongFrames"/>,
/// so memory never grows past the limit. One instance per stream: it remembers whether it is skipping an overlong line.
/// </summary>
public sealed class LineFramer
{
    /// <summary>Default maximum line length in bytes; a Masimo ASCII 1 line is about 160.</summary>
    public const int DefaultMaxFrameBytes = 1024;

    private bool skipping;
    private long overlong;

    /// <summary>Creates a framer with the given maximum line length (terminator excluded).</summary>
    public LineFramer(int maxFrameBytes = DefaultMaxFrameBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameBytes, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameBytes, 1 << 20);
        MaxFrameBytes = maxFrameBytes;
    }

    /// <summary>Longest accepted line in bytes, CR included, LF excluded.</summary>
    public int MaxFrameBytes { get; }

    /// <summary>How many overlong lines were discarded so far; each counts as one bad frame.</summary>
    public long OverlongFrames => Interlocked.Read(ref overlong);

    /// <summary>
    /// Takes the next complete line off <paramref name="buffer"/> (without CR/LF); blank lines are skipped.
    /// Returns false when more bytes are needed; <paramref name="buffer"/> then starts at the unconsumed bytes
    /// (possibly advanced past discarded overlong input).
    /// </summary>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        while (true)
        {
            SequencePosition? lf = buffer.PositionOf((byte)'\n');
            if (lf is null)
            {
                if (skipping)
                {
                    buffer = buffer.Slice(buffer.End);
                }
                else if (buffer.Length > MaxFrameBytes)
                {
                    Interlocked.Increment(ref overlong);
                    skipping = true;
                    buffer = buffer.Slice(buffer.End);
                }

                frame = default;
                return false;
            }

            var line = buffer.Slice(0, lf.Value);
            buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
            if (skipping)
            {
                skipping = false; // the tail of an overlong line ends here
                continue;
            }

            if (line.Length > MaxFrameBytes)
            {
                Interlocked.Increment(ref overlong);
                continue;
            }

            if (!line.IsEmpty && LastByte(line) == (byte)'\r')
            {
                line = line.Slice(0, line.Length - 1);
            }

            if (line.IsEmpty)
            {
                continue;
            }

            frame = line;
            return true;
        }
    }

    /// <summary>Forgets a partially skipped line, for example after a reconnect.</summary>
    public void Reset() => skipping = false;

    private static byte LastByte(in ReadOnlySequence<byte> line) =>
        line.IsSingleSegment ? line.FirstSpan[^1] : line.Slice(line.Length - 1).FirstSpan[0];
}
