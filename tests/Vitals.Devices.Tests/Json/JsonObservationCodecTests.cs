using System.Text;
using Vitals.Core;
using Vitals.Devices.Json;

namespace Vitals.Devices.Tests.Json;

public class JsonObservationCodecTests
{
    private static readonly DateTimeOffset Received = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private static readonly DecodeContext Context = new("site-1", "chair-3", "cfg-device", Received, TimeZoneInfo.Utc);

    private static (DecodeResult Result, List<Observation> Output) Decode(string json, JsonMapping? mapping = null, DecodeContext? context = null)
    {
        var output = new List<Observation>();
        var result = new JsonObservationCodec(mapping).Decode(Encoding.UTF8.GetBytes(json), context ?? Context, output);
        return (result, output);
    }

    [Fact]
    public void Decode_SingleReadingWithSignOnly_UsesReceiveTimeAndConfiguredDevice()
    {
        var (result, output) = Decode("""{"sign":"hr","value":72}""");

        Assert.True(result.Ok, result.Error);
        var o = Assert.Single(output);
        Assert.Equal(new Observation("site-1", "chair-3", "cfg-device", Sign.Hr, 72, Received, Received, SourceProtocol.Mqtt), o);
    }

    [Fact]
    public void Decode_SingleReadingAllFields_TakesTimeDeviceQuality()
    {
        var (result, output) = Decode("""{"sign":"spo2","value":91,"unit":"%","time":"2026-11-22T09:59:30.250+01:00","device":"oxi-7","quality":"questionable"}""");

        Assert.True(result.Ok, result.Error);
        var o = Assert.Single(output);
        Assert.Equal(Sign.Spo2, o.Sign);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 8, 59, 30, 250, TimeSpan.Zero), o.MeasuredAt);
        Assert.Equal("oxi-7", o.Device);
        Assert.Equal(ObservationQuality.Questionable, o.Quality);
        Assert.Equal(Received, o.ReceivedAt);
    }

    [Theory]
    [InlineData("""{"mdc":147842,"value":60}""", Sign.Hr)]
    [InlineData("""{"mdc":"149546","value":60}""", Sign.Pr)]
    [InlineData("""{"code":"MDC_PRESS_BLD_NONINV_SYS","value":60}""", Sign.NibpSys)]
    [InlineData("""{"mdc":151578,"value":12}""", Sign.Rr)]
    [InlineData("""{"sign":"NIBP_DIA","value":60}""", Sign.NibpDia)]
    public void Decode_SignByMdcCodeOrName_MapsToSign(string json, Sign expected)
    {
        var (result, output) = Decode(json);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(expected, Assert.Single(output).Sign);
    }

    [Theory]
    [InlineData("""{"sign":"nibp_sys","value":16,"unit":"kPa"}""", 120.01)]
    [InlineData("""{"sign":"temp","value":98.6,"unit":"[degF]"}""", 37.0)]
    [InlineData("""{"sign":"hr","value":80,"unit":"bpm"}""", 80.0)]
    public void Decode_OtherUnit_ConvertsToSignUnit(string json, double expected)
    {
        var (result, output) = Decode(json);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(expected, Assert.Single(output).Value, 2);
    }

    [Fact]
    public void Decode_Batch_AppliesBatchDeviceAndTimeUnlessReadingOverrides()
    {
        var (result, output) = Decode("""
            {"device":"mon-1","time":"2026-11-22T09:58:00Z","readings":[
              {"sign":"nibp_sys","value":118,"unit":"mm[Hg]"},
              {"sign":"nibp_dia","value":76},
              {"sign":"hr","value":70,"time":1795341540000,"device":"ecg-2"}]}
            """);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(3, output.Count);
        Assert.All(output.Take(2), o => Assert.Equal(("mon-1", new DateTimeOffset(2026, 11, 22, 9, 58, 0, TimeSpan.Zero)), (o.Device, o.MeasuredAt)));
        Assert.Equal("ecg-2", output[2].Device);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1795341540000), output[2].MeasuredAt);
    }

    [Fact]
    public void Decode_ArrayOfReadings_DecodesEach()
    {
        var (result, output) = Decode("""[{"sign":"hr","value":70},{"sign":"rr","value":14},{"sign":"temp","value":36.8}]""");

        Assert.True(result.Ok, result.Error);
        Assert.Equal([Sign.Hr, Sign.Rr, Sign.Temp], output.Select(o => o.Sign));
    }

    [Fact]
    public void Decode_TimeWithoutOffset_IsDeviceLocalTime()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("plus2", TimeSpan.FromHours(2), "plus2", "plus2");
        var (result, output) = Decode("""{"sign":"hr","value":70,"time":"2026-11-22T12:00:00"}""", context: Context with { DeviceTimeZone = zone });

        Assert.True(result.Ok, result.Error);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero), Assert.Single(output).MeasuredAt);
    }

    [Theory]
    [InlineData("0001-01-01T00:30:00", 5, null)] // a zone ahead of UTC: the instant falls before year 1
    [InlineData("9999-12-31T23:30:00", -5, null)] // a zone behind UTC: the instant falls after year 9999
    [InlineData("01.01.0001 00:30:00", 5, "dd.MM.yyyy HH:mm:ss")] // the same through a vendor mapping's time format
    [InlineData("31.12.9999 23:30:00", -5, "dd.MM.yyyy HH:mm:ss")]
    public void Decode_DeviceTimeOutsideRepresentableRange_IsBadReadingNotException(string time, int zoneHours, string? format)
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("z", TimeSpan.FromHours(zoneHours), "z", "z");
        var mapping = format is null ? null : new JsonMapping { Fields = [new JsonFieldMapping { Field = "pulse", Sign = "pr" }], TimeField = "when", TimeFormat = format };
        var json = format is null ? $$"""{"sign":"hr","value":70,"time":"{{time}}"}""" : $$"""{"pulse":61,"when":"{{time}}"}""";

        var (result, output) = Decode(json, mapping, Context with { DeviceTimeZone = zone });

        Assert.False(result.Ok);
        Assert.NotNull(result.Error);
        Assert.Empty(output);
    }

    [Fact]
    public void Decode_NullValue_IsSkippedWithoutError()
    {
        var (result, output) = Decode("""[{"sign":"spo2","value":null},{"sign":"hr","value":66}]""");

        Assert.True(result.Ok, result.Error);
        Assert.Equal(Sign.Hr, Assert.Single(output).Sign);
    }

    [Fact]
    public void Decode_OneBadReadingInBatch_KeepsGoodOnesAndReportsBad()
    {
        var (result, output) = Decode("""{"readings":[{"sign":"hr","value":70},{"sign":"xx","value":1},{"sign":"spo2","value":140}]}""");

        Assert.False(result.Ok);
        Assert.Contains("unknown sign 'xx'", result.Error, StringComparison.Ordinal);
        Assert.Equal(Sign.Hr, Assert.Single(output).Sign);
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "", "empty payload" },
        { "{", "not valid JSON" },
        { "not json", "not valid JSON" },
        { "{\"sign\":\"hr\",\"value\":72", "not valid JSON" },
        { "\"hr\"", "expected a JSON object or array" },
        { "42", "expected a JSON object or array" },
        { "null", "expected a JSON object or array" },
        { "{}", "no 'sign', 'mdc' or 'code'" },
        { "{\"value\":72}", "no 'sign', 'mdc' or 'code'" },
        { "{\"sign\":\"heart\",\"value\":72}", "unknown sign 'heart'" },
        { "{\"sign\":7,\"value\":72}", "unknown sign 7" },
        { "{\"mdc\":1,\"value\":72}", "unknown MDC code 1" },
        { "{\"mdc\":1.5,\"value\":72}", "unknown MDC code" },
        { "{\"code\":\"MDC_NOPE\",\"value\":72}", "unknown MDC name" },
        { "{\"sign\":\"hr\"}", "no 'value'" },
        { "{\"sign\":\"hr\",\"value\":\"72\"}", "not a number" },
        { "{\"sign\":\"hr\",\"value\":true}", "not a number" },
        { "{\"sign\":\"hr\",\"value\":1e400}", "not a number" },
        { "{\"sign\":\"hr\",\"value\":-5}", "outside" },
        { "{\"sign\":\"spo2\",\"value\":101}", "outside" },
        { "{\"sign\":\"temp\",\"value\":98.6}", "outside" },
        { "{\"sign\":\"hr\",\"value\":72,\"unit\":\"kPa\"}", "cannot be converted" },
        { "{\"sign\":\"hr\",\"value\":72,\"unit\":5}", "cannot be converted" },
        { "{\"sign\":\"hr\",\"value\":72,\"time\":\"yesterday\"}", "'time'" },
        { "{\"sign\":\"hr\",\"value\":72,\"time\":\"2026-13-45T99:00:00Z\"}", "'time'" },
        { "{\"sign\":\"hr\",\"value\":72,\"time\":true}", "'time'" },
        { "{\"sign\":\"hr\",\"value\":72,\"time\":1e30}", "'time'" },
        { "{\"sign\":\"hr\",\"value\":72,\"device\":\"\"}", "'device'" },
        { "{\"sign\":\"hr\",\"value\":72,\"device\":{}}", "'device'" },
        { "{\"sign\":\"hr\",\"value\":72,\"quality\":\"great\"}", "'quality'" },
        { "{\"readings\":{}}", "not an array" },
        { "{\"readings\":[1,2]}", "reading 0 is not a JSON object" },
        { "{\"time\":\"x\",\"readings\":[]}", "batch 'time'" },
        { "{\"device\":5,\"readings\":[]}", "batch 'device'" },
        { "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "not valid JSON" },
        { "\u00ff\u00fe", "not valid JSON" },
        { "{\"sign\":\"hr\",\"value\":72,\"device\":\"\\ud800\"}", "not valid Unicode" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Decode_Malformed_IsBadWithReasonAndNeverThrows(string json, string reason)
    {
        var (result, output) = Decode(json);

        Assert.False(result.Ok);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    /// <summary>Hand-made samples of the documented shapes (Captures/json): the simulator's batch, a mixed array, a vendor's flat JSON.</summary>
    [Theory]
    [InlineData("vitals-batch.json", 7)]
    [InlineData("vitals-array-mdc.json", 4)]
    [InlineData("vendor-flat.json", 5)]
    public void Decode_SampleCaptures_DecodeEveryReading(string file, int expected)
    {
        var mapping = file.StartsWith("vendor", StringComparison.Ordinal)
            ? new JsonMapping
            {
                Fields =
                [
                    new JsonFieldMapping { Field = "HeartRate", Sign = "hr" },
                    new JsonFieldMapping { Field = "SpO2", Sign = "spo2" },
                    new JsonFieldMapping { Field = "NIBP.Sys", Sign = "nibp_sys", Unit = "mmHg" },
                    new JsonFieldMapping { Field = "NIBP.Dia", Sign = "nibp_dia", Unit = "mmHg" },
                    new JsonFieldMapping { Field = "TempC10", Sign = "temp", Scale = 0.1 },
                ],
                TimeField = "ts",
                TimeFormat = "dd.MM.yyyy HH:mm:ss",
                DeviceField = "serial",
            }
            : null;
        Assert.Empty(mapping?.Validate("mapping") ?? []);
        var output = new List<Observation>();

        var result = new JsonObservationCodec(mapping).Decode(TestData.Capture(Path.Combine("json", file)), Context, output);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(expected, output.Count);
        Assert.All(output, o => Assert.InRange(o.Value, o.Sign.Info().HardMin, o.Sign.Info().HardMax));
        Assert.All(output, o => Assert.Equal(new DateTimeOffset(2026, 11, 22, 1, 2, 4, TimeSpan.Zero), o.MeasuredAt.AddTicks(-(o.MeasuredAt.Ticks % TimeSpan.TicksPerSecond))));
    }

    [Fact]
    public void Decode_InvalidUtf8_IsBad()
    {
        var output = new List<Observation>();
        var bytes = Encoding.UTF8.GetBytes("{\"sign\":\"hr\",\"value\":72,\"device\":\"ab\"}");
        bytes[^3] = 0xC3;

        var result = new JsonObservationCodec().Decode(bytes, Context, output);

        Assert.False(result.Ok);
        Assert.Equal("not valid UTF-8", result.Error);
    }

    [Fact]
    public void Decode_OversizedPayload_IsBad()
    {
        var output = new List<Observation>();
        var result = new JsonObservationCodec().Decode(new byte[JsonObservationCodec.MaxPayloadBytes + 1], Context, output);

        Assert.False(result.Ok);
        Assert.Contains("larger than", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RandomBytes_NeverThrows()
    {
        var random = new Random(7);
        var codec = new JsonObservationCodec();
        var mapped = new JsonObservationCodec(VendorMapping());
        var valid = Encoding.UTF8.GetBytes("""{"device":"m","time":"2026-11-22T09:58:00Z","readings":[{"sign":"hr","value":70,"unit":"bpm"}]}""");
        for (var i = 0; i < 5_000; i++)
        {
            var bytes = (byte[])valid.Clone();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            var output = new List<Observation>();
            var result = codec.Decode(bytes, Context, output);
            Assert.True(result.Ok || result.Error is not null);
            mapped.Decode(bytes, Context, output);
        }
    }

    private static JsonMapping VendorMapping() => new()
    {
        Fields =
        [
            new JsonFieldMapping { Field = "HeartRate", Sign = "hr" },
            new JsonFieldMapping { Field = "SpO2", Sign = "spo2" },
            new JsonFieldMapping { Field = "bp.sys", Sign = "MDC_PRESS_BLD_NONINV_SYS", Unit = "kPa" },
            new JsonFieldMapping { Field = "TempF10", Sign = "150344", Unit = "[degF]", Scale = 0.1 },
        ],
        TimeField = "ts",
        TimeFormat = "unix-s",
        DeviceField = "serial",
    };

    [Fact]
    public void Decode_VendorMapping_MapsFieldsScalesAndConverts()
    {
        var (result, output) = Decode("""{"HeartRate":72,"SpO2":"97","bp":{"sys":16},"TempF10":986,"ts":1795341600,"serial":"V-9","Other":1}""", VendorMapping());

        Assert.True(result.Ok, result.Error);
        Assert.Equal([Sign.Hr, Sign.Spo2, Sign.NibpSys, Sign.Temp], output.Select(o => o.Sign));
        Assert.Equal([72, 97, 120.01, 37], output.Select(o => Math.Round(o.Value, 2)));
        Assert.All(output, o => Assert.Equal(("V-9", DateTimeOffset.FromUnixTimeSeconds(1795341600)), (o.Device, o.MeasuredAt)));
    }

    [Fact]
    public void Decode_VendorMappingCustomTimeFormatAndArray_UsesDeviceZone()
    {
        var mapping = new JsonMapping { Fields = [new JsonFieldMapping { Field = "pulse", Sign = "pr" }], TimeField = "when", TimeFormat = "dd.MM.yyyy HH:mm:ss" };
        var zone = TimeZoneInfo.CreateCustomTimeZone("plus1", TimeSpan.FromHours(1), "plus1", "plus1");
        var (result, output) = Decode("""[{"pulse":61,"when":"22.11.2026 11:00:00"},{"pulse":62}]""", mapping, Context with { DeviceTimeZone = zone });

        Assert.True(result.Ok, result.Error);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero), output[0].MeasuredAt);
        Assert.Equal(Received, output[1].MeasuredAt);
    }

    [Theory]
    [InlineData("""{"Other":1}""", "no mapped field")]
    [InlineData("""{"HeartRate":"fast"}""", "'HeartRate' is not a number")]
    [InlineData("""{"HeartRate":72,"ts":"noon"}""", "'ts' does not match")]
    [InlineData("""{"HeartRate":72,"serial":12}""", "'serial' is not")]
    [InlineData("""{"HeartRate":900}""", "outside")]
    [InlineData("""[1]""", "item 0 is not a JSON object")]
    [InlineData("""true""", "expected a JSON object or array")]
    public void Decode_VendorMappingBadMessage_IsBadWithReason(string json, string reason)
    {
        var (result, _) = Decode(json, VendorMapping());

        Assert.False(result.Ok);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_GoodMapping_HasNoErrors() => Assert.Empty(VendorMapping().Validate("mapping"));

    [Fact]
    public void Validate_BadMapping_NamesEachKey()
    {
        var mapping = new JsonMapping
        {
            Fields =
            [
                new JsonFieldMapping { Field = "", Sign = "heart" },
                new JsonFieldMapping { Field = "a", Sign = "hr", Unit = "kPa", Scale = 0 },
                new JsonFieldMapping { Field = "a", Sign = "hr", Offset = double.NaN },
            ],
            TimeField = " ",
            TimeFormat = "",
            DeviceField = "",
        };

        var errors = mapping.Validate("chairs[0].devices[0].mapping");

        string[] keys =
        [
            "fields[0].field:", "fields[0].sign: unknown sign 'heart'", "fields[1].unit: 'kPa' cannot be converted", "fields[1].scale:",
            "fields[2].field: 'a' is mapped twice", "fields[2].offset:", "timeField:", "timeFormat:", "deviceField:",
        ];
        foreach (var key in keys)
        {
            Assert.Contains(errors, e => e.StartsWith("chairs[0].devices[0].mapping.", StringComparison.Ordinal) && e.Contains(key, StringComparison.Ordinal));
        }

        Assert.Contains("Fix:", errors[0], StringComparison.Ordinal);
        Assert.Single(new JsonMapping().Validate("m"));
    }

    [Fact]
    public void Validate_BadTimeFormat_IsNamed()
    {
        var mapping = new JsonMapping { Fields = [new JsonFieldMapping { Field = "x", Sign = "hr" }], TimeFormat = "%" };

        Assert.Contains(mapping.Validate("m"), e => e.StartsWith("m.timeFormat:", StringComparison.Ordinal));
    }
}
