using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Vitals.Core;

/// <summary>
/// A small cache in front of a chair lookup, by the identity of a reading's site and chair strings: the readings of one
/// feed carry the very same instances (its configuration's), so nearly every lookup is answered without hashing or
/// comparing characters. A string-keyed lookup per reading is a randomized or ordinal hash of the chair id plus a
/// comparison, and the harness's round-robin over 50 chairs missed a cache of the chair found last on every message.
/// Two ways per set, so two chairs whose strings share a set do not evict each other; a miss (first sight, or a third
/// chair in a set) goes to the caller's own map, whose answer the caller then <see cref="Remember"/>s. Filled in place:
/// nothing allocated. Not thread-safe.
/// </summary>
/// <typeparam name="T">What a chair maps to.</typeparam>
public sealed class ChairIdentityTable<T>
    where T : class
{
    // A power of two; sets of two ways each.
    private const int Sets = 512;

    private readonly Entry[] entries = new Entry[Sets * 2];

    /// <summary>The value last remembered for these very string instances, if it is still in the table.</summary>
    public bool TryGet(string site, string chair, [NotNullWhen(true)] out T? value)
    {
        var set = SetOf(chair);
        for (var way = set; way < set + 2; way++)
        {
            ref readonly var entry = ref entries[way];
            if (ReferenceEquals(entry.Chair, chair) && ReferenceEquals(entry.Site, site))
            {
                value = entry.Value!;
                return true;
            }
        }

        value = null;
        return false;
    }

    /// <summary>Remembers <paramref name="value"/> for these string instances; the set's older entry goes.</summary>
    public void Remember(string site, string chair, T value)
    {
        var set = SetOf(chair);
        entries[set + 1] = entries[set];
        entries[set] = new Entry(site, chair, value);
    }

    /// <summary>Forgets everything.</summary>
    public void Clear() => Array.Clear(entries);

    private static int SetOf(string chair) => (RuntimeHelpers.GetHashCode(chair) & (Sets - 1)) * 2;

    private readonly record struct Entry(string? Site, string? Chair, T? Value);
}
