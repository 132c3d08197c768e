using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Vitals.Core;
using Vitals.Devices.Mllp;
using Vitals.Devices.Tests.Hl7;

namespace Vitals.Devices.Tests.Mllp;

public class MllpChunkingPropertyTests
{
    private static readonly byte[] Stream = Hl7TestData.Capture("stream_mixed.mllp")
        .Concat(Encoding.ASCII.GetBytes("\r\nstray\x0bMSH|^~\\&|cut"))
        .Concat(MllpEncoder.Frame(Hl7TestData.EightObx("LAST")))
        .ToArray();

    private static (List<string> Frames, List<string> Observations, long Garbage, long Bad) Run(IEnumerable<byte[]> chunks)
    {
        var reader = new MllpFrameReader(8192);
        var frames = MllpFrameReaderTests.ReadAll(reader, chunks);
        var codec = Hl7TestData.Codec();
        var observations = new List<string>();
        foreach (var frame in frames)
        {
            var list = new List<Observation>();
            codec.Decode(Encoding.Latin1.GetBytes(frame), Hl7TestData.Context("c"), list);
            observations.AddRange(list.Select(o => $"{o.Device}/{o.Sign}/{o.Value}/{o.MeasuredAt:O}"));
        }

        return (frames, observations, reader.GarbageBytes, reader.BadFrames);
    }

    private static IEnumerable<byte[]> Split(byte[] data, int[] sizes)
    {
        var offset = 0;
        var i = 0;
        while (offset < data.Length)
        {
            var size = sizes.Length == 0 ? data.Length : Math.Max(1, sizes[i++ % sizes.Length]);
            size = Math.Min(size, data.Length - offset);
            yield return data[offset..(offset + size)];
            offset += size;
        }
    }

    [Fact]
    public void TryReadFrame_AnyChunking_YieldsSameFramesAndObservations()
    {
        var expected = Run([Stream]);
        Assert.Equal(5, expected.Frames.Count);
        Assert.Equal(8 + 8 + 7 + 8 + 8, expected.Observations.Count);
        Assert.Equal(1, expected.Bad);

        var sizes = Gen.Choose(1, 700).ArrayOf();
        Prop.ForAll(sizes.ToArbitrary(), (int[] chunkSizes) =>
        {
            var actual = Run(Split(Stream, chunkSizes));
            return actual.Frames.SequenceEqual(expected.Frames)
                && actual.Observations.SequenceEqual(expected.Observations)
                && actual.Garbage == expected.Garbage
                && actual.Bad == expected.Bad;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TryReadFrame_SingleByteChunks_YieldsSameFrames()
    {
        var expected = Run([Stream]);

        var actual = Run(Stream.Select(b => new[] { b }));

        Assert.Equal(expected.Frames, actual.Frames);
        Assert.Equal(expected.Observations, actual.Observations);
    }
}
