using Vitals.Core;
using Vitals.Devices.Line;

namespace Vitals.Devices.Tests.Line;

public class LineCodecTests
{
    private static LineCodec Nonin() => LineCodec.FromJson(File.ReadAllText(TestData.CapturePath("nonin-7500.json")));

    [Fact]
    public void Decode_NoninLine_EmitsSpo2AndPulseRate()
    {
        var output = new List<Observation>();
        var result = TestData.Decode(Nonin(), "SPO2=097 HR=072", output);

        Assert.True(result.Ok, result.Error);
        Assert.Equal([(Sign.Spo2, 97.0), (Sign.Pr, 72.0)], output.Select(o => (o.Sign, o.Value)));
        Assert.All(output, o =>
        {
            Assert.Equal(TestData.ReceivedAt, o.MeasuredAt); // no time field: receive time
            Assert.Equal("configured-device", o.Device);
            Assert.Equal(SourceProtocol.Line, o.Source);
        });
    }

    [Fact]
    public void DecodeStream_NoninCapture_EveryLineDecodes()
    {
        var result = TestData.DecodeStream(Nonin(), TestData.Capture("nonin-7500.txt"));
        Assert.Empty(result.Errors);
        Assert.Equal(12, result.Ok);
        Assert.Equal(20, result.Observations.Count);
    }

    [Fact]
    public void DecodeStream_CsvSpotCheckCapture_ConvertsUnitsAndReadsTimeAndDevice()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("Test-05", TimeSpan.FromHours(-5), "Test-05", "Test-05");
        var codec = LineCodec.FromJson(File.ReadAllText(TestData.CapturePath("spotcheck-nibp.json")));
        var output = new List<Observation>();

        var first = codec.Decode("2026-11-22T10:15:00,SC-4471,121,78,92,67,98.6"u8, TestData.Context(zone), output);

        Assert.True(first.Ok, first.Error);
        Assert.Equal(5, output.Count);
        Assert.All(output, o =>
        {
            Assert.Equal("SC-4471", o.Device);
            Assert.Equal(new DateTimeOffset(2026, 11, 22, 15, 15, 0, TimeSpan.Zero), o.MeasuredAt);
        });
        Assert.Equal(37.0, output.Single(o => o.Sign == Sign.Temp).Value, 3);
        Assert.Equal(121, output.Single(o => o.Sign == Sign.NibpSys).Value);

        var all = TestData.DecodeStream(codec, TestData.Capture("spotcheck-nibp.csv"));
        Assert.Empty(all.Errors);
        Assert.Equal(39, all.Observations.Count);
    }

    [Theory]
    [InlineData("0001-01-01T00:30:00", 5)] // a zone ahead of UTC: the instant falls before year 1
    [InlineData("9999-12-31T23:30:00", -5)] // a zone behind UTC: the instant falls after year 9999
    public void Decode_DeviceTimeOutsideRepresentableRange_IsBadFrameNotException(string time, int zoneHours)
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("z", TimeSpan.FromHours(zoneHours), "z", "z");
        var codec = LineCodec.FromJson(File.ReadAllText(TestData.CapturePath("spotcheck-nibp.json")));
        var output = new List<Observation>();

        var result = codec.Decode(System.Text.Encoding.ASCII.GetBytes(time + ",SC-1,121,78,92,67,98.6"), TestData.Context(zone), output);

        Assert.False(result.Ok);
        Assert.NotNull(result.Error);
        Assert.Empty(output);
    }

    [Fact]
    public void Decode_KpaAndScale_Converted()
    {
        var codec = LineCodec.FromJson("""
            { "name": "t", "format": "keyValue", "separator": ";", "keyValueSeparator": ":",
              "fields": [ { "key": "SYS", "sign": "nibp_sys", "unit": "kPa" }, { "key": "T10", "sign": "temp", "scale": 0.1 } ],
              "time": { "key": "TS", "format": "unix" }, "deviceId": { "key": "ID" }, "missingValues": [ "NA" ] }
            """);
        var output = new List<Observation>();

        var result = TestData.Decode(codec, "ID:abc;SYS:16.0;T10:368;TS:1763805600", output);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(120.01, output[0].Value, 2);
        Assert.Equal(36.8, output[1].Value, 6);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1763805600), output[0].MeasuredAt);
        Assert.Equal("abc", output[0].Device);

        output.Clear();
        Assert.True(TestData.Decode(codec, "ID:abc;SYS:NA;T10:368;TS:1763805600", output).Ok);
        Assert.Single(output);
    }

    [Theory]
    [InlineData("SPO2=abc HR=072", "SPO2")]
    [InlineData("SPO2=097 HR=07x", "HR")]
    [InlineData("SPO2=250 HR=072", "SPO2")]
    [InlineData("garbage", "not key=value")]
    [InlineData("FOO=1 BAR=2", "none of the configured fields")]
    [InlineData("SPO2=097\u0001HR=072", "non-printable")]
    [InlineData("", "none of the configured fields")]
    public void Decode_MalformedNoninLine_BadWithReason(string line, string reasonPart)
    {
        var output = new List<Observation>();
        var result = TestData.Decode(Nonin(), line, output);
        Assert.False(result.Ok);
        Assert.Contains(reasonPart, result.Error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Theory]
    [InlineData("2026-11-22T10:15:00,SC-4471,121,78", "columns")]
    [InlineData("yesterday,SC-4471,121,78,92,67,98.6", "time")]
    [InlineData("2026-11-22T10:15:00,SC-4471,121,78,92,67,200", "temp")]
    public void Decode_MalformedCsvLine_BadWithReason(string line, string reasonPart)
    {
        var codec = LineCodec.FromJson(File.ReadAllText(TestData.CapturePath("spotcheck-nibp.json")));
        var result = TestData.Decode(codec, line, []);
        Assert.False(result.Ok);
        Assert.Contains(reasonPart, result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("""{ "name": "x", "fields": [ { "key": "S", "sign": "spo3" } ] }""", "fields[0].sign")]
    [InlineData("""{ "name": "x", "fields": [] }""", "fields:")]
    [InlineData("""{ "fields": [ { "key": "S", "sign": "spo2" } ] }""", "name:")]
    [InlineData("""{ "name": "x", "sepparator": ",", "fields": [ { "key": "S", "sign": "spo2" } ] }""", "sepparator")]
    [InlineData("""{ "name": "x", "format": "csv", "fields": [ { "key": "S", "sign": "spo2" } ] }""", "fields[0].column")]
    [InlineData("""{ "name": "x", "fields": [ { "key": "S", "sign": "spo2", "unit": "furlongs" } ] }""", "fields[0].unit")]
    [InlineData("""{ "name": "x", "fields": [ { "key": "S", "sign": "spo2" }, { "key": "s", "sign": "pr" } ] }""", "fields[1].key")]
    [InlineData("""{ "name": "x", "fields": [ { "key": "S", "sign": "spo2", "scale": 0 } ] }""", "fields[0].scale")]
    [InlineData("""{ "name": "x", "fields": [ { "key": "S", "sign": "spo2" } ], "time": { "key": "T", "format": "" } }""", "time.format")]
    [InlineData("""{ "name": "x", "fields": [ { "key": "S", "sign": "spo2" } ], "time": { "key": "T", "format": "yyyy-MM-dd HH:mm" } }""", "time.format")]
    [InlineData("""{ "name": "x", "separator": "ab", "fields": [ { "key": "S", "sign": "spo2" } ] }""", "separator:")]
    [InlineData("""{ "name": "x", "maxFrameBytes": 1, "fields": [ { "key": "S", "sign": "spo2" } ] }""", "maxFrameBytes")]
    [InlineData("""{ "name": "x", "format": "xml", "fields": [] }""", "format")]
    public void FromJson_InvalidConfig_ErrorNamesTheKey(string json, string key)
    {
        var ex = Assert.Throws<LineConfigException>(() => LineCodec.FromJson(json));
        Assert.Contains(ex.Errors, e => e.Contains(key, StringComparison.Ordinal));
    }
}

public class LineCodecsTests
{
    [Fact]
    public void Create_KnownProtocols_ReturnsFreshCodecs()
    {
        Assert.IsType<Vitals.Devices.Masimo.MasimoCodec>(LineCodecs.Create("masimo"));
        Assert.IsType<LineCodec>(LineCodecs.Create("line", File.ReadAllText(TestData.CapturePath("nonin-7500.json"))));
        Assert.NotSame(LineCodecs.Create("masimo").Framer, LineCodecs.Create("masimo").Framer);
    }

    [Theory]
    [InlineData("hl8", null, "protocol")]
    [InlineData("line", null, "configuration")]
    public void Create_BadArguments_ThrowsNamingProblem(string protocol, string? json, string part)
    {
        var ex = Assert.Throws<ArgumentException>(() => LineCodecs.Create(protocol, json));
        Assert.Contains(part, ex.Message, StringComparison.Ordinal);
    }
}
