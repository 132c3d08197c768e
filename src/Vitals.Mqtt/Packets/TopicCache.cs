using System.Buffers.Binary;
using System.Numerics;

namespace Vitals.Mqtt.Packets;

/// <summary>
/// Topic names already decoded, by their bytes. A subscriber sees the same few topics again and again (one per chair),
/// so the UTF-8 check, the topic name check and the string are paid once per topic, not per message.
/// Open addressing with a short probe: the cache it replaces had one slot per hash, so 2 of 50 steady topics that
/// shared a slot (~4 such pairs expected among 50 in 256 slots, a different set each run: the hash was seeded per
/// process) took turns evicting each other and missed on every message. Here a steady set of up to
/// <see cref="MaxEntries"/> topics does not miss once seen (unless 16 slots in a row are taken, which random hashes at
/// this load make about as likely as never); more distinct topics than that (churn) empty the cache and refill it, each
/// miss costing what the uncached decode costs. One reader per connection, used by one loop at a time.
/// </summary>
internal sealed class TopicCache
{
    /// <summary>Longer topic names are decoded every time (kept short, so a hostile topic costs no large copy or hash).</summary>
    public const int MaxTopicBytes = 256;

    /// <summary>Most topics kept; at most a quarter of the slots are used, so a probe rarely passes more than one or two.</summary>
    public const int MaxEntries = Slots / 4;

    internal const int Slots = 1024; // a power of two
    private const int MaxProbes = 16; // bounded: colliding (even crafted) topics cost a miss, never a long search

    private readonly Entry?[] _entries = new Entry?[Slots];
    private int _count;

    public string? Find(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length is 0 or > MaxTopicBytes)
        {
            return null;
        }

        var hash = Hash(bytes);
        for (var i = 0; i < MaxProbes; i++)
        {
            // Slots fill from the hash's own slot on and are only ever emptied all at once: an empty one ends the search.
            if (_entries[(hash + i) & (Slots - 1)] is not { } e)
            {
                return null;
            }

            if (e.Hash == hash && bytes.SequenceEqual(e.Bytes))
            {
                return e.Topic;
            }
        }

        return null;
    }

    /// <summary>Keeps <paramref name="topic"/>, decoded and checked from <paramref name="bytes"/> (which <see cref="Find"/> did not find).</summary>
    public void Add(ReadOnlySpan<byte> bytes, string topic)
    {
        if (bytes.Length is 0 or > MaxTopicBytes)
        {
            return;
        }

        if (_count == MaxEntries)
        {
            Array.Clear(_entries);
            _count = 0;
        }

        var hash = Hash(bytes);
        var entry = new Entry(hash, bytes.ToArray(), topic);
        for (var i = 0; i < MaxProbes; i++)
        {
            ref var slot = ref _entries[(hash + i) & (Slots - 1)];
            if (slot is null)
            {
                slot = entry;
                _count++;
                return;
            }
        }

        _entries[hash & (Slots - 1)] = entry; // all probed slots taken: replace the first
    }

    // Multiply-rotate over 8-byte words, then a final mix so every byte reaches the low bits the slot is taken from.
    // Not seeded: the probe bound above, not the hash, is what keeps colliding topics cheap. Much cheaper than
    // HashCode.AddBytes, which was ~0.9 % of the gateway's harness window (perf, AOT).
    internal static int Hash(ReadOnlySpan<byte> bytes)
    {
        const ulong K = 0x9E3779B97F4A7C15;
        var h = (ulong)bytes.Length * K;
        while (bytes.Length >= 8)
        {
            h = BitOperations.RotateLeft((h ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes)) * K, 29);
            bytes = bytes[8..];
        }

        ulong tail = 0;
        foreach (var b in bytes)
        {
            tail = (tail << 8) | b;
        }

        h = (h ^ tail) * K;
        h ^= h >> 32;
        h *= K;
        return (int)(h >> 32);
    }

    private sealed record Entry(int Hash, byte[] Bytes, string Topic);
}
