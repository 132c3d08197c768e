using Vitals.Core;
using Vitals.Storage.Sqlite;

namespace Vitals.Storage.Tests.Sqlite;

/// <summary>
/// The block codec alone: every frame comes back exactly (signs in any order, clocks jumping back and forward, the
/// extremes of time), and damaged bytes are refused with a reason, never an exception or an invented reading.
/// </summary>
public sealed class FrameBlockTests
{
    private static readonly StreamNames Stream = new("north", "c1", "dev-1", SourceProtocol.Hl7Mllp);

    private static Observation Obs(Sign sign, double value, DateTimeOffset measured, DateTimeOffset received, ObservationQuality quality = ObservationQuality.Ok) =>
        new(Stream.Site, Stream.Chair, Stream.Device, sign, value, measured, received, Stream.Source, quality);

    private static (byte[] Bytes, List<Observation[]> Frames) Encode(List<Observation[]> frames)
    {
        var bytes = new byte[1 + (frames.Count * FrameBlock.MaxFrameBytes)];
        var length = FrameBlock.Begin(bytes);
        long previous = 0;
        foreach (var frame in frames)
        {
            length = FrameBlock.Append(bytes, length, previous, frame, 0, frame.Length);
            previous = frame[0].MeasuredAt.ToUnixTimeMilliseconds();
        }

        return (bytes[..length], frames);
    }

    private static List<Observation[]> RandomFrames(Random rng, int count)
    {
        var frames = new List<Observation[]>();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);
        for (var f = 0; f < count; f++)
        {
            at = at.AddMilliseconds(rng.Next(-600_000, 7_200_000)); // device clocks jump back 10 min or forward 2 h
            var received = at.AddMilliseconds(rng.Next(-5_000, 60_000));
            var signs = Signs.All.Select(s => s.Sign).Where(_ => rng.Next(3) == 0).DefaultIfEmpty(Sign.Hr).OrderBy(_ => rng.Next()).ToList();
            frames.Add([.. signs.Select(s => Obs(s, Math.Round(rng.NextDouble() * 300, 2), at, received, (ObservationQuality)new[] { 0, 1, 2, 4 }[rng.Next(4)]))]);
        }

        return frames;
    }

    [Fact]
    public void Decode_RandomFrames_EveryReadingBackInSignOrder()
    {
        var rng = new Random(7);
        var (bytes, frames) = Encode(RandomFrames(rng, 500));
        var decoded = new List<Observation[]>();

        Assert.Null(FrameBlock.Decode(bytes, Stream, decoded));
        Assert.Equal(frames.Count, decoded.Count);
        for (var i = 0; i < frames.Count; i++)
        {
            Assert.Equal(frames[i].OrderBy(o => o.Sign), decoded[i]);
        }
    }

    [Fact]
    public void Decode_ExtremeTimesAndValues_RoundTrip()
    {
        // Times are stored to the millisecond, as everywhere in the store.
        var (min, max) = (DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.MinValue.ToUnixTimeMilliseconds()), DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));
        Observation[][] frames =
        [
            [Obs(Sign.Temp, double.NaN, min, max)],
            [Obs(Sign.Hr, -0.0, max, min, ObservationQuality.Invalid)],
            [Obs(Sign.Spo2, double.MaxValue, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch), Obs(Sign.Pr, double.Epsilon, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)],
        ];
        var (bytes, _) = Encode([.. frames]);
        var decoded = new List<Observation[]>();

        Assert.Null(FrameBlock.Decode(bytes, Stream, decoded));
        Assert.Equal(frames.Select(f => f.OrderBy(o => o.Sign).ToArray()), decoded);
    }

    [Fact]
    public void Decode_CutAtEveryByte_RefusedWithAReasonOrEndsOnAFrameBoundary()
    {
        var (bytes, frames) = Encode(RandomFrames(new Random(3), 20));
        var boundaries = new HashSet<int>();
        var length = FrameBlock.Begin(new byte[bytes.Length]);
        long previous = 0;
        var scratch = new byte[bytes.Length];
        foreach (var frame in frames)
        {
            boundaries.Add(length);
            length = FrameBlock.Append(scratch, length, previous, frame, 0, frame.Length);
            previous = frame[0].MeasuredAt.ToUnixTimeMilliseconds();
        }

        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var decoded = new List<Observation[]>();
            var error = FrameBlock.Decode(bytes.AsSpan(0, cut), Stream, decoded);
            if (boundaries.Contains(cut))
            {
                Assert.Null(error); // a shorter block of whole frames: the caller checks the count against the ids
                Assert.Equal(frames.Take(decoded.Count).Select(f => f.OrderBy(o => o.Sign).ToArray()), decoded);
            }
            else
            {
                Assert.NotNull(error);
            }
        }
    }

    [Fact]
    public void Decode_RandomGarbage_NeverThrows()
    {
        var rng = new Random(11);
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[rng.Next(0, 80)];
            rng.NextBytes(bytes);
            if (bytes.Length > 0 && rng.Next(2) == 0)
            {
                bytes[0] = FrameBlock.Format; // past the format check, into the frames
            }

            var decoded = new List<Observation[]>();
            var error = FrameBlock.Decode(bytes, Stream, decoded);
            Assert.True(error is not null || decoded.All(f => f.Length > 0 && f.All(o => o.Chair == "c1")));
        }
    }

    [Fact]
    public void Decode_OtherFormatOrEmpty_Refused()
    {
        var decoded = new List<Observation[]>();
        Assert.Contains("format 2", FrameBlock.Decode([2, 0, 0, 1], Stream, decoded), StringComparison.Ordinal);
        Assert.Equal("empty block", FrameBlock.Decode([], Stream, decoded));
        Assert.NotNull(FrameBlock.Decode([FrameBlock.Format, 0, 0, 0], Stream, decoded)); // a frame with no sign
        Assert.Empty(decoded);
    }
}
