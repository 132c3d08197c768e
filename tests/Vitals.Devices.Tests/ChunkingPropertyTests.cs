using FsCheck;
using FsCheck.Fluent;
using Vitals.Devices.Line;
using Vitals.Devices.Masimo;

namespace Vitals.Devices.Tests;

public class ChunkingPropertyTests
{
    private static byte[] Stream() =>
    [
        .. TestData.Capture("masimo-rad8-ascii1.txt"),
        .. "garbage line\r\n"u8,
        .. new byte[300], // NULs: an overlong line for a 256-byte framer
        .. "\n"u8,
        .. TestData.Capture("masimo-radical7-pvi.txt"),
        .. "02/22/16 22:47:45 SN=0000056661 SPO2=09"u8, // truncated by a reset, then the next line
        .. "\r\n"u8,
        .. TestData.Capture("masimo-rad7-sphb-exc1.txt"),
    ];

    [Fact]
    public void DecodeStream_AnyChunking_SameObservationsAndCounts()
    {
        byte[] stream = Stream();
        var reference = TestData.DecodeStream(new MasimoCodec(256), stream);
        Assert.Equal(30 + 20 + 15, reference.Ok);
        Assert.Equal(3, reference.Bad);

        var chunks = Gen.ArrayOf(Gen.Choose(1, 400)).ToArbitrary();
        Prop.ForAll(chunks, sizes =>
        {
            var result = TestData.DecodeStream(new MasimoCodec(256), stream, sizes.Length == 0 ? null : sizes.Concat(Enumerable.Repeat(1 + (sizes.Sum() % 97), 10_000)));
            return result.Observations.SequenceEqual(reference.Observations) && result.Ok == reference.Ok && result.Bad == reference.Bad;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Fact]
    public void DecodeStream_LineCodecAnyChunking_SameObservations()
    {
        byte[] stream = TestData.Capture("nonin-7500.txt");
        string json = File.ReadAllText(TestData.CapturePath("nonin-7500.json"));
        var reference = TestData.DecodeStream(LineCodec.FromJson(json), stream);

        // The reference itself is checked against the capture read independently: every line's SPO2 then HR, dashes skipped.
        var expected = System.Text.Encoding.ASCII.GetString(stream).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(line => System.Text.RegularExpressions.Regex.Matches(line, @"(SPO2|HR)=(\d+)"))
            .Select(m => (m.Groups[1].Value == "SPO2" ? Vitals.Core.Sign.Spo2 : Vitals.Core.Sign.Pr, double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        Assert.Equal(20, expected.Count);
        Assert.Empty(reference.Errors);
        Assert.Equal((12, 0), (reference.Ok, reference.Bad));
        Assert.Equal(expected, reference.Observations.Select(o => (o.Sign, o.Value)));
        Assert.All(reference.Observations, o => Assert.Equal(TestData.ReceivedAt, o.MeasuredAt));

        Prop.ForAll(Gen.Choose(1, 40).ToArbitrary(), size =>
            TestData.DecodeStream(LineCodec.FromJson(json), stream, Enumerable.Repeat(size, stream.Length)).Observations.SequenceEqual(reference.Observations))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }
}
