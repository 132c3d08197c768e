using System.Text;
using Vitals.Core;
using Vitals.Devices;
using Vitals.Devices.Hl7;
using Vitals.Devices.Masimo;

namespace Vitals.Simulator.Tests;

/// <summary>The simulator's protocol output must decode with the gateway's own codecs to the same values.</summary>
public class ProtocolWritersTests
{
    private static readonly DecodeContext Context = new("site", "chair-1", "sim", new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero), TimeZoneInfo.Utc);

    private static List<SimReading> OneSecondWithNibp()
    {
        var patient = new SimulatedPatient(new SimulatorOptions(ScenarioKind.Stable, 3, 1));
        var readings = new List<SimReading>();
        while (!readings.Any(r => r.Sign == Sign.NibpSys))
        {
            readings.Clear();
            patient.Step(readings);
        }

        return readings;
    }

    [Fact]
    public void MasimoLine_DecodesToTheSimulatedSpo2AndPulseRate()
    {
        var readings = OneSecondWithNibp();
        var line = MasimoAsciiWriter.Format(readings, new DateTime(2026, 11, 22, 10, 0, 1), "0000012345");
        Assert.EndsWith("\r\n", line, StringComparison.Ordinal);
        var codec = new MasimoCodec();
        var output = new List<Observation>();
        Assert.True(codec.Decode(Encoding.ASCII.GetBytes(line.TrimEnd()), Context, output).Ok);
        Assert.Equal(readings.Single(r => r.Sign == Sign.Spo2).Value, output.Single(o => o.Sign == Sign.Spo2).Value);
        Assert.Equal(readings.Single(r => r.Sign == Sign.Pr).Value, output.Single(o => o.Sign == Sign.Pr).Value);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 0, 1, TimeSpan.Zero), output[0].MeasuredAt);
        Assert.Empty(codec.ActiveConditions);
    }

    [Fact]
    public void MasimoLine_SensorOff_SendsDashesAndTheCondition()
    {
        var line = MasimoAsciiWriter.Format(OneSecondWithNibp(), new DateTime(2026, 11, 22, 10, 0, 1), "1", MasimoAsciiWriter.SetMode | MasimoAsciiWriter.SensorOff);
        Assert.Contains("SPO2=---%", line, StringComparison.Ordinal);
        var codec = new MasimoCodec();
        var output = new List<Observation>();
        Assert.True(codec.Decode(Encoding.ASCII.GetBytes(line.TrimEnd()), Context, output).Ok);
        Assert.Empty(output);
        Assert.Contains("SensorOff", codec.ActiveConditions);
    }

    [Fact]
    public void Hl7Message_DecodesEveryReadingToItsBedsChair()
    {
        var readings = OneSecondWithNibp();
        var time = new DateTimeOffset(2026, 11, 22, 11, 0, 1, TimeSpan.FromHours(1));
        var message = Hl7OruWriter.Format(readings, time, "BED4", "CTL42");
        var codec = new Hl7OruCodec(new Hl7CodecOptions { ChairRule = Hl7ChairRule.Pv1Bed, ChairMap = { ["BED4"] = "chair-4" } });
        var output = new List<Observation>();
        var result = codec.Decode(Encoding.UTF8.GetBytes(message), Context with { Chair = "" }, output);
        Assert.True(result.Result.Ok, result.Result.Error);
        Assert.Equal(Hl7AckCode.Accept, result.Ack);
        Assert.Equal(readings.Count, output.Count);
        foreach (var r in readings)
        {
            var o = output.Single(x => x.Sign == r.Sign);
            Assert.Equal(r.Value, o.Value, 6);
            Assert.Equal("chair-4", o.Chair);
            Assert.Equal(time, o.MeasuredAt);
        }
    }
}
