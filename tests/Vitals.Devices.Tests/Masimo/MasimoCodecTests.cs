using Vitals.Core;
using Vitals.Devices.Masimo;
using ILineCodecView = Vitals.Devices.Line.ILineCodec;

namespace Vitals.Devices.Tests.Masimo;

public class MasimoCodecTests
{
    // The example line from the Masimo serial output description (PROTOCOLS.md).
    private const string Example =
        "02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800";

    [Fact]
    public void Decode_DocumentedExample_EmitsSpo2AndPulseRate()
    {
        var codec = new MasimoCodec();
        var output = new List<Observation>();

        var result = TestData.Decode(codec, Example, output);

        Assert.True(result.Ok, result.Error);
        Assert.Collection(
            output,
            o =>
            {
                Assert.Equal(Sign.Spo2, o.Sign);
                Assert.Equal(98, o.Value);
                Assert.Equal("%", o.Unit);
            },
            o =>
            {
                Assert.Equal(Sign.Pr, o.Sign);
                Assert.Equal(97, o.Value);
            });
        Assert.All(output, o =>
        {
            Assert.Equal("0000056661", o.Device);
            Assert.Equal("chair-3", o.Chair);
            Assert.Equal(new DateTimeOffset(2016, 2, 22, 22, 47, 45, TimeSpan.Zero), o.MeasuredAt);
            Assert.Equal(TestData.ReceivedAt, o.ReceivedAt);
            Assert.Equal(SourceProtocol.Masimo, o.Source);
            Assert.Equal(ObservationQuality.Ok, o.Quality); // 0x800 SET mode is informational
        });
        Assert.Empty(codec.LastStatus.Conditions);
        Assert.Equal(MasimoException.SetMode, codec.LastStatus.Exceptions);
    }

    [Fact]
    public void Decode_DeviceTimeZone_ConvertsLocalTimeToUtc()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("Test+01", TimeSpan.FromHours(1), "Test+01", "Test+01");
        var output = new List<Observation>();

        var result = new MasimoCodec().Decode(System.Text.Encoding.ASCII.GetBytes(Example), TestData.Context(zone), output);

        Assert.True(result.Ok);
        Assert.Equal(new DateTimeOffset(2016, 2, 22, 21, 47, 45, TimeSpan.Zero), output[0].MeasuredAt);
    }

    [Fact]
    public void Decode_AllDashes_OkWithNoObservations()
    {
        var output = new List<Observation>();
        var result = TestData.Decode(new MasimoCodec(), "02/22/16 22:47:45 SN=---------- SPO2=---% BPM=--- PI=--.--% ALARM=0000 EXC=000021", output);
        Assert.True(result.Ok, result.Error);
        Assert.Empty(output);
    }

    [Fact]
    public void Decode_NoSerialNumber_UsesConfiguredDevice()
    {
        var output = new List<Observation>();
        TestData.Decode(new MasimoCodec(), "02/22/16 22:47:45 SPO2=098% BPM=097 ALARM=0000 EXC=000800", output);
        Assert.All(output, o => Assert.Equal("configured-device", o.Device));
    }

    [Theory]
    [InlineData("000800", ObservationQuality.Ok, new MasimoException[0])]
    [InlineData("000804", ObservationQuality.Questionable, new[] { MasimoException.LowPerfusion })]
    [InlineData("000808", ObservationQuality.Invalid, new[] { MasimoException.PulseSearch })]
    [InlineData("000C10", ObservationQuality.Questionable, new[] { MasimoException.Interference, MasimoException.LowSignalIq })]
    [InlineData("000044", ObservationQuality.Questionable, new[] { MasimoException.LowPerfusion, MasimoException.AmbientLight })]
    [InlineData("0000A2", ObservationQuality.Invalid, new[] { MasimoException.DefectiveSensor, MasimoException.SensorOff, MasimoException.UnrecognizedSensor })]
    [InlineData("000405", ObservationQuality.Invalid | ObservationQuality.Questionable, new[] { MasimoException.NoSensor, MasimoException.LowPerfusion, MasimoException.LowSignalIq })]
    public void Decode_ExceptionBits_MapToQualityAndConditions(string exc, ObservationQuality quality, MasimoException[] conditions)
    {
        var codec = new MasimoCodec();
        var output = new List<Observation>();

        var result = TestData.Decode(codec, $"02/22/16 22:47:45 SN=0000056661 SPO2=097% BPM=072 PI=00.20% ALARM=0000 EXC={exc}", output);

        Assert.True(result.Ok, result.Error);
        Assert.All(output, o => Assert.Equal(quality, o.Quality));
        Assert.Equal(conditions, codec.LastStatus.Conditions);
        Assert.Equal(conditions.Select(c => c.ToString()), ((ILineCodecView)codec).ActiveConditions);
    }

    [Fact]
    public void Decode_Rad7Exc1EightHexDigits_SetsConditions()
    {
        var codec = new MasimoCodec();
        var output = new List<Observation>();
        var result = TestData.Decode(codec, "03/05/25 14:02:00 SN=0001203344 SPO2=099% BPM=063 SPHB=13.9 SPOC=17.5 ALARM=0000 EXC1=00000C00", output);
        Assert.True(result.Ok, result.Error);
        Assert.Equal([MasimoException.LowSignalIq], codec.LastStatus.Conditions);
        Assert.Equal(2, output.Count);
    }

    [Theory]
    [InlineData("masimo-rad8-ascii1.txt", 30, 54)]
    [InlineData("masimo-radical7-pvi.txt", 20, 39)]
    [InlineData("masimo-rad7-sphb-exc1.txt", 15, 30)]
    public void DecodeStream_Capture_EveryLineDecodes(string capture, int lines, int observations)
    {
        var result = TestData.DecodeStream(new MasimoCodec(), TestData.Capture(capture));

        Assert.Empty(result.Errors);
        Assert.Equal(lines, result.Ok);
        Assert.Equal(0, result.Bad);
        Assert.Equal(observations, result.Observations.Count);
        Assert.All(result.Observations, o => Assert.InRange(o.Value, 30, 100));
    }

    [Fact]
    public void DecodeStream_Rad8Capture_SensorOffAndSearchFlagged()
    {
        var result = TestData.DecodeStream(new MasimoCodec(), TestData.Capture("masimo-rad8-ascii1.txt"));
        Assert.Equal(4, result.Observations.Count(o => o.Quality == ObservationQuality.Invalid)); // 2 pulse-search lines
        Assert.Equal(10, result.Observations.Count(o => o.Quality == ObservationQuality.Questionable)); // low perfusion, IQ
    }

    [Theory]
    [InlineData("", "timestamp")]
    [InlineData("garbage", "timestamp")]
    [InlineData("02/22/16", "timestamp")]
    [InlineData("02/30/16 10:00:00 SPO2=098% BPM=072 EXC=000800", "timestamp")]
    [InlineData("13/01/16 10:00:00 SPO2=098% BPM=072 EXC=000800", "timestamp")]
    [InlineData("02/22/16 24:00:00 SPO2=098% BPM=072 EXC=000800", "timestamp")]
    [InlineData("02/22/16 22:47:45 SN=0000056661 SPO2=09", "EXC")]
    [InlineData("02/22/16 22:47:45 SN=0000056661 SPO2=0902/22/16 22:47:46 SN=0000056661 SPO2=098% BPM=072 EXC=000800", "SPO2")]
    [InlineData("02/22/16 22:47:45 SPO2=101% BPM=072 EXC=000800", "SPO2")]
    [InlineData("02/22/16 22:47:45 SPO2=098% BPM=400 EXC=000800", "BPM")]
    [InlineData("02/22/16 22:47:45 SPO2=9x8% BPM=072 EXC=000800", "SPO2")]
    [InlineData("02/22/16 22:47:45 SPO2=098% BPM=1e2 EXC=000800", "BPM")]
    [InlineData("02/22/16 22:47:45 SPO2=098% BPM=072 EXC=0008G0", "EXC")]
    [InlineData("02/22/16 22:47:45 SPO2=098% BPM=072 ALARM=XYZ EXC=000800", "ALARM")]
    [InlineData("02/22/16 22:47:45 PI=03.60% EXC=000800", "SPO2")]
    [InlineData("02/22/16 22:47:45 SPO2=098% noise BPM=072 EXC=000800", "KEY=value")]
    [InlineData("02/22/16 22:47:45 SPO2=098%\u0000BPM=072 EXC=000800", "0x00")]
    [InlineData("\u00ff\u00fe\u0001\u0002\u0080", "non-printable")]
    public void Decode_MalformedLine_BadWithReasonAndNoThrow(string line, string reasonPart)
    {
        var output = new List<Observation>();
        var result = TestData.Decode(new MasimoCodec(), line, output);
        Assert.False(result.Ok);
        Assert.Contains(reasonPart, result.Error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public void DecodeStream_BinaryNoise_NeverThrowsAndCountsBad()
    {
        var random = new Random(1234);
        for (int round = 0; round < 50; round++)
        {
            var noise = new byte[random.Next(1, 5000)];
            random.NextBytes(noise);
            var codec = new MasimoCodec(maxFrameBytes: 256);
            var result = TestData.DecodeStream(codec, [.. noise, (byte)'\n', .. TestData.Capture("masimo-rad8-ascii1.txt")], [37, 1, 500, 3]);
            Assert.True(result.Bad >= 1 || noise.Length < 2, $"round {round}");
            Assert.True(result.MaxPending <= 256, $"pending {result.MaxPending}");
            Assert.True(result.Ok >= 29, $"round {round}: ok {result.Ok}"); // the noise may swallow at most the first line
        }
    }
}
