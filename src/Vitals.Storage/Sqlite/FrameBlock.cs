using System.Buffers.Binary;
using Vitals.Core;

namespace Vitals.Storage.Sqlite;

/// <summary>
/// The bytes of a <c>vitals_blocks</c> row (schema 7): consecutive frames of one stream, so the store writes one
/// SQLite row per stream per commit instead of one per frame (SQLite's fixed cost per row was most of the store's CPU).
/// Pure: no I/O. Layout: a format byte (<see cref="Format"/>), then per frame the measured millisecond as a zigzag
/// varint delta from the previous frame's (from 0 for the first), the received millisecond as a zigzag varint delta
/// from the measured one, the signs carried as a varint with bit i set for sign i, and per sign carried, in sign order,
/// its value (IEEE 754 double, little-endian) and its quality (one byte).
/// </summary>
public static class FrameBlock
{
    /// <summary>The format byte this build writes and reads.</summary>
    public const byte Format = 1;

    private const long MinMs = -62_135_596_800_000; // DateTimeOffset.MinValue in Unix milliseconds
    private const long MaxMs = 253_402_300_799_999; // DateTimeOffset.MaxValue

    /// <summary>The most bytes one frame takes: three 10-byte varints, 9 bytes per sign.</summary>
    public static int MaxFrameBytes => 30 + (9 * Signs.All.Count);

    /// <summary>Starts a block in <paramref name="buffer"/>; returns the bytes written.</summary>
    public static int Begin(Span<byte> buffer)
    {
        buffer[0] = Format;
        return 1;
    }

    /// <summary>
    /// Appends the frame <paramref name="observations"/>[<paramref name="start"/>..<paramref name="end"/>) (one stream,
    /// one measured and received millisecond, each sign at most once: see <see cref="ObservationFrames"/>) at
    /// <paramref name="at"/>, after a frame measured at <paramref name="previousMs"/> (0 for the first). Returns the
    /// position after it; <paramref name="buffer"/> needs <see cref="MaxFrameBytes"/> free.
    /// </summary>
    public static int Append(Span<byte> buffer, int at, long previousMs, IReadOnlyList<Observation> observations, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var first = observations[start];
        var measured = first.MeasuredAt.ToUnixTimeMilliseconds();
        at = WriteVarint(buffer, at, ZigZag(measured - previousMs));
        at = WriteVarint(buffer, at, ZigZag(first.ReceivedAt.ToUnixTimeMilliseconds() - measured));
        var signs = 0;
        for (var i = start; i < end; i++)
        {
            signs |= 1 << (int)observations[i].Sign;
        }

        var values = WriteVarint(buffer, at, (ulong)signs);
        for (var i = start; i < end; i++)
        {
            // A sign's place among the frame's signs (they arrive in any order; they are read back in sign order).
            var o = observations[i];
            var slot = values + (9 * System.Numerics.BitOperations.PopCount((uint)(signs & ((1 << (int)o.Sign) - 1))));
            BinaryPrimitives.WriteDoubleLittleEndian(buffer[slot..], o.Value);
            buffer[slot + 8] = (byte)o.Quality;
        }

        return values + (9 * (end - start));
    }

    /// <summary>
    /// Decodes every frame of <paramref name="block"/> into <paramref name="frames"/> (each frame's observations in
    /// sign order, named by <paramref name="stream"/>). Returns null when the block decodes, else why not (a damaged
    /// or foreign block: the caller skips it); <paramref name="frames"/> then holds what came before the damage.
    /// </summary>
    public static string? Decode(ReadOnlySpan<byte> block, StreamNames stream, List<Observation[]> frames)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(frames);
        if (block.IsEmpty || block[0] != Format)
        {
            return block.IsEmpty ? "empty block" : $"block format {block[0]} (this build reads {Format})";
        }

        var at = 1;
        long measured = 0;
        while (at < block.Length)
        {
            if (!TryReadVarint(block, ref at, out var delta) || !TryReadVarint(block, ref at, out var late) || !TryReadVarint(block, ref at, out var signs))
            {
                return "truncated frame head";
            }

            measured += UnZigZag(delta);
            var received = measured + UnZigZag(late);
            var count = System.Numerics.BitOperations.PopCount(signs);
            if (count == 0 || signs >= 1UL << Signs.All.Count || measured is < MinMs or > MaxMs || received is < MinMs or > MaxMs)
            {
                return "frame with no known sign or an impossible time";
            }

            if (at + (9 * count) > block.Length)
            {
                return "truncated frame values";
            }

            var measuredAt = DateTimeOffset.FromUnixTimeMilliseconds(measured);
            var receivedAt = DateTimeOffset.FromUnixTimeMilliseconds(received);
            var frame = new Observation[count];
            var n = 0;
            for (var rest = signs; rest != 0; rest &= rest - 1)
            {
                var sign = (Sign)System.Numerics.BitOperations.TrailingZeroCount(rest);
                frame[n++] = new Observation(
                    stream.Site, stream.Chair, stream.Device, sign, BinaryPrimitives.ReadDoubleLittleEndian(block[at..]),
                    measuredAt, receivedAt, stream.Source, (ObservationQuality)block[at + 8]);
                at += 9;
            }

            frames.Add(frame);
        }

        return null;
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    private static int WriteVarint(Span<byte> buffer, int at, ulong value)
    {
        while (value >= 0x80)
        {
            buffer[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[at++] = (byte)value;
        return at;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> block, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && at < block.Length; shift += 7)
        {
            var b = block[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>What a <c>streams</c> row names: the text every observation of a block carries.</summary>
public sealed record StreamNames(string Site, string Chair, string Device, SourceProtocol Source);
