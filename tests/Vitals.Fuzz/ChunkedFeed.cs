using System.Buffers;

namespace Vitals.Fuzz;

/// <summary>Takes the next item (frame, packet) off the front of <paramref name="buffer"/>; false when more bytes are needed.</summary>
public delegate bool TryReadItem<T>(ref ReadOnlySequence<byte> buffer, out T item);

/// <summary>
/// Feeds a byte stream to a framer the way a transport does: whole, or in chunks that arrive one after another, each
/// appended as a new buffer segment behind the bytes the framer left unconsumed (so frames span segments).
/// </summary>
public static class ChunkedFeed
{
    /// <summary>
    /// Feeds <paramref name="input"/> in chunks of <paramref name="chunkSizes"/> (whole when null) and hands each item to
    /// <paramref name="onItem"/>. Returns how many bytes were left unconsumed at the end.
    /// </summary>
    public static long Feed<T>(byte[] input, IEnumerable<int>? chunkSizes, TryReadItem<T> read, Action<T> onItem)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(onItem);
        if (chunkSizes is null)
        {
            var whole = new ReadOnlySequence<byte>(input);
            while (read(ref whole, out var item))
            {
                onItem(item);
            }

            return whole.Length;
        }

        Segment? last = null;
        var start = default(SequencePosition);
        var buffer = ReadOnlySequence<byte>.Empty;
        var offset = 0;
        using var sizes = chunkSizes.GetEnumerator();
        while (offset < input.Length)
        {
            var size = sizes.MoveNext() ? Math.Clamp(sizes.Current, 1, input.Length - offset) : input.Length - offset;
            var chunk = input.AsMemory(offset, size);
            offset += size;
            if (last is null)
            {
                last = new Segment(chunk, 0);
                start = new SequencePosition(last, 0);
            }
            else
            {
                last = last.Append(chunk);
            }

            buffer = new ReadOnlySequence<byte>((Segment)start.GetObject()!, start.GetInteger(), last, last.Memory.Length);
            while (read(ref buffer, out var item))
            {
                onItem(item);
            }

            if (buffer.IsEmpty || buffer.Start.GetObject() is not Segment)
            {
                last = null; // everything consumed: the next chunk starts a new chain
            }
            else
            {
                start = buffer.Start;
            }
        }

        return buffer.Length;
    }

    /// <summary>
    /// Chunk sizes for <paramref name="input"/>: random sizes from a generator seeded by the input itself (so a saved
    /// reproducer replays the same chunking), from 1 up to <paramref name="maxChunk"/>.
    /// </summary>
    public static IEnumerable<int> RandomSizes(byte[] input, int maxChunk)
    {
        ArgumentNullException.ThrowIfNull(input);
        var random = new Random(Hash(input));
        while (true)
        {
            yield return random.Next(1, maxChunk + 1);
        }
    }

    /// <summary>One byte at a time.</summary>
    public static IEnumerable<int> Bytewise()
    {
        while (true)
        {
            yield return 1;
        }
    }

    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        var hash = 2166136261u; // FNV-1a
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)hash;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
