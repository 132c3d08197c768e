using System.Buffers;
using Vitals.Core;
using Vitals.Devices.Line;

namespace Vitals.Devices.Tests;

internal static class TestData
{
    public static readonly DateTimeOffset ReceivedAt = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    public static DecodeContext Context(TimeZoneInfo? zone = null) => new("clinic-a", "chair-3", "configured-device", ReceivedAt, zone ?? TimeZoneInfo.Utc);

    public static string CapturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Captures", name);

    public static byte[] Capture(string name) => File.ReadAllBytes(CapturePath(name));

    public static DecodeResult Decode(ILineCodec codec, string line, List<Observation> output) =>
        codec.Decode(System.Text.Encoding.Latin1.GetBytes(line), Context(), output);

    /// <summary>Feeds <paramref name="stream"/> to the codec in chunks of the given sizes, as multi-segment sequences.</summary>
    public static StreamResult DecodeStream(ILineCodec codec, byte[] stream, IEnumerable<int>? chunkSizes = null)
    {
        var result = new StreamResult();
        var pending = new List<ReadOnlyMemory<byte>>();
        int offset = 0;
        using var sizes = (chunkSizes ?? [stream.Length]).GetEnumerator();
        while (offset < stream.Length)
        {
            int size = sizes.MoveNext() ? Math.Clamp(sizes.Current, 1, stream.Length - offset) : stream.Length - offset;
            pending.Add(stream.AsMemory(offset, size));
            offset += size;

            var sequence = Segments.Build(pending);
            long overlongBefore = codec.Framer.OverlongFrames;
            while (codec.TryReadFrame(ref sequence, out var frame))
            {
                var r = codec.Decode(frame, Context(), result.Observations);
                if (r.Ok)
                {
                    result.Ok++;
                }
                else
                {
                    result.Bad++;
                    result.Errors.Add(r.Error!);
                }
            }

            result.Bad += (int)(codec.Framer.OverlongFrames - overlongBefore);
            pending.Clear();
            foreach (var memory in sequence)
            {
                pending.Add(memory);
            }

            result.MaxPending = Math.Max(result.MaxPending, (int)sequence.Length);
        }

        return result;
    }

    internal sealed class StreamResult
    {
        public List<Observation> Observations { get; } = [];

        public List<string> Errors { get; } = [];

        public int Ok { get; set; }

        public int Bad { get; set; }

        public int MaxPending { get; set; }
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Build(List<ReadOnlyMemory<byte>> parts)
        {
            var nonEmpty = parts.Where(p => !p.IsEmpty).ToList();
            if (nonEmpty.Count == 0)
            {
                return ReadOnlySequence<byte>.Empty;
            }

            var first = new Segments(nonEmpty[0], 0);
            var last = first;
            foreach (var part in nonEmpty.Skip(1))
            {
                var next = new Segments(part, last.RunningIndex + last.Memory.Length);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
