using System.Buffers;
using Vitals.Core;
using Vitals.Devices;
using Vitals.Devices.Feeds;

namespace Vitals.Fuzz.Targets;

/// <summary>
/// A framed serial codec, fed the input whole, in random chunks and byte by byte: every way must give the same frames,
/// decode results, observations, replies and discarded-frame count, and every observation must keep the invariants.
/// </summary>
public abstract class SerialCodecTarget : FuzzTarget
{
    /// <summary>Inputs up to this size are also fed one byte at a time.</summary>
    private const int BytewiseLimit = 512;

    /// <inheritdoc/>
    public override int MaxInputBytes => 8 * 1024;

    /// <summary>The protocol stamped on the observations.</summary>
    protected abstract SourceProtocol Source { get; }

    /// <summary>Chairs an observation may carry, when the codec maps messages to chairs; null: the context's chair.</summary>
    protected virtual IReadOnlySet<string>? Chairs => null;

    /// <inheritdoc/>
    public override string Run(byte[] input)
    {
        // Framing does not depend on the zone: chunking is compared in the first zone, the others decode whole.
        var outcome = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var zone in Invariants.Zones)
        {
            var context = new DecodeContext("clinic", Chair, "configured-device", Invariants.ReceivedAt, zone);
            foreach (var create in Codecs())
            {
                var whole = Decode(create(), context, input, null, outcome);
                if (zone != Invariants.Zones[0])
                {
                    continue;
                }

                Invariants.Same(whole, Decode(create(), context, input, ChunkedFeed.RandomSizes(input, 200), null), "in random chunks");
                if (input.Length <= BytewiseLimit)
                {
                    Invariants.Same(whole, Decode(create(), context, input, ChunkedFeed.Bytewise(), null), "byte by byte");
                }
            }
        }

        return string.Join('|', outcome);
    }

    /// <summary>The feed's chair in the decode context.</summary>
    protected virtual string Chair => "chair-1";

    /// <summary>Factories for the codec configurations to drive; each feeding gets a fresh codec (they keep stream state).</summary>
    protected abstract IEnumerable<Func<ISerialCodec>> Codecs();

    /// <summary>Checks what the codec holds after a decode (for example its reply) and describes it for comparison.</summary>
    protected virtual string AfterDecode(ISerialCodec codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        return string.Join(',', codec.ActiveConditions);
    }

    private List<string> Decode(ISerialCodec codec, DecodeContext context, byte[] input, IEnumerable<int>? sizes, SortedSet<string>? outcome)
    {
        var items = new List<string>();
        var output = new List<Observation>();
        var left = ChunkedFeed.Feed<ReadOnlySequence<byte>>(input, sizes, codec.TryReadFrame, frame =>
        {
            output.Clear();
            var result = codec.Decode(frame.ToArray(), context, output);
            Invariants.Check(result);
            foreach (var o in output)
            {
                Invariants.Check(o, context, Source, Chairs);
            }

            items.Add($"{result.Ok}:{result.Error}|{string.Join(';', output.Select(Invariants.Describe))}|{AfterDecode(codec)}");
            outcome?.Add(Invariants.Outcome(result.Error) + (output.Count > 0 ? "+obs" : string.Empty));
        });

        Invariants.That(left <= codec.MaxFrameBytes, $"{left} bytes left unconsumed, more than MaxFrameBytes {codec.MaxFrameBytes}");
        items.Add($"discarded {codec.DiscardedFrames}");
        return items;
    }
}
