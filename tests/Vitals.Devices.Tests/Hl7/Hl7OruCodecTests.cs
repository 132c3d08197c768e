using System.Text;
using Vitals.Core;
using Vitals.Devices.Hl7;
using static Vitals.Devices.Tests.Hl7.Hl7TestData;

namespace Vitals.Devices.Tests.Hl7;

public class Hl7OruCodecTests
{
    [Theory]
    [InlineData("ge_b40_ne_al.hl7", 8)]
    [InlineData("nist_pcd_al_ne.hl7", 7)]
    [InlineData("philips_mdil_hex_lf.hl7", 8)]
    [InlineData("crlf_kpa_degf_escapes.hl7", 3)]
    [InlineData("msh7_only_time.hl7", 2)]
    [InlineData("custom_separators.hl7", 1)]
    public void Decode_EveryCapture_DecodesExpectedObservations(string file, int expected)
    {
        var (result, observations) = Decode(Codec(), Capture(file));

        Assert.True(result.Result.Ok, result.Result.Error);
        Assert.Equal(Hl7AckCode.Accept, result.Ack);
        Assert.Equal(expected, observations.Count);
        Assert.All(observations, o =>
        {
            Assert.Equal(SourceProtocol.Hl7Mllp, o.Source);
            Assert.InRange(o.Value, o.Sign.Info().HardMin, o.Sign.Info().HardMax);
            Assert.Equal(Received, o.ReceivedAt);
        });
    }

    [Fact]
    public void Decode_GeB40_ReadsSignsTimesDeviceAndSkipsContainers()
    {
        var (result, obs) = Decode(Codec(), Capture("ge_b40_ne_al.hl7"));

        Assert.Equal(72, Value(obs, Sign.Hr));
        Assert.Equal(98, Value(obs, Sign.Spo2));
        Assert.Equal(73, Value(obs, Sign.Pr));
        Assert.Equal(118, Value(obs, Sign.NibpSys));
        Assert.Equal(76, Value(obs, Sign.NibpDia));
        Assert.Equal(90, Value(obs, Sign.NibpMap));
        Assert.Equal(16, Value(obs, Sign.Rr));
        Assert.Equal(36.8, Value(obs, Sign.Temp));
        Assert.Equal(2, result.Skipped); // two X container rows
        Assert.Equal(1, result.UnknownCodes); // 149522 invasive pulse is not NIBP pulse
        Assert.All(obs, o => Assert.Equal("00098C0000112233", o.Device));
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 9, 15, 0, TimeSpan.Zero), obs.Single(o => o.Sign == Sign.Hr).MeasuredAt);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 9, 12, 0, TimeSpan.Zero), obs.Single(o => o.Sign == Sign.NibpSys).MeasuredAt);
        var message = Capture("ge_b40_ne_al.hl7");
        Assert.Equal("GE000123", Hl7OruCodec.GetText(message, result.ControlId, result.Separators));
        Assert.Equal("2.6", Hl7OruCodec.GetText(message, result.Version, result.Separators));
    }

    [Fact]
    public void Decode_NistMnemonicOnlyAndUcum_MapsByNameAndCode()
    {
        var (result, obs) = Decode(Codec(), Capture("nist_pcd_al_ne.hl7"));

        Assert.Equal(80, Value(obs, Sign.Hr)); // ^MDC_ECG_HEART_RATE^MDC
        Assert.Equal(97, Value(obs, Sign.Spo2)); // 150456^^MDC
        Assert.Equal(14, Value(obs, Sign.Rr)); // ^MDC_TTHOR_RESP_RATE^MDC
        Assert.Equal(79, Value(obs, Sign.Pr)); // 149546 NIBP pulse
        Assert.Equal(1, result.UnknownCodes);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 14, 29, 30, TimeSpan.Zero), obs.Single(o => o.Sign == Sign.Hr).MeasuredAt.ToUniversalTime());
        Assert.All(obs, o => Assert.Equal("0123456789ABCDEF", o.Device));
    }

    [Fact]
    public void Decode_PhilipsHexCodesAndNoOffset_UsesDeviceTimeZone()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("test+2", TimeSpan.FromHours(2), "test+2", "test+2");
        var (result, obs) = Decode(Codec(), Capture("philips_mdil_hex_lf.hl7"), Context("chair-x", zone));

        Assert.Equal(64, Value(obs, Sign.Hr));
        Assert.Equal(96, Value(obs, Sign.Spo2));
        Assert.Equal(65, Value(obs, Sign.Pr));
        Assert.Equal(131, Value(obs, Sign.NibpSys));
        Assert.Equal(84, Value(obs, Sign.NibpDia));
        Assert.Equal(99, Value(obs, Sign.NibpMap));
        Assert.Equal(18, Value(obs, Sign.Rr));
        Assert.Equal(37.1, Value(obs, Sign.Temp));
        Assert.Equal(1, result.UnknownCodes);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 12, 14, 55, TimeSpan.Zero), obs.Single(o => o.Sign == Sign.Hr).MeasuredAt.ToUniversalTime());
        Assert.All(obs, o => Assert.Equal("PHILIPS_EFFICIA", o.Device));
    }

    [Fact]
    public void Decode_KpaDegFAndEscapes_ConvertsUnitsAndUsesObrTime()
    {
        var (result, obs) = Decode(Codec(), Capture("crlf_kpa_degf_escapes.hl7"));

        Assert.Equal(16.0 * 7.50062, Value(obs, Sign.NibpSys), 6);
        Assert.Equal(10.0 * 7.50062, Value(obs, Sign.NibpDia), 6);
        Assert.Equal(37.0, Value(obs, Sign.Temp), 6);
        Assert.Equal(2, result.Skipped); // "---" and "NO SIGNAL"
        Assert.All(obs, o => Assert.Equal(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero), o.MeasuredAt));
        Assert.All(obs, o => Assert.Equal("SPOT^03", o.Device)); // OBX-18 with \S\
        var message = Capture("crlf_kpa_degf_escapes.hl7");
        Assert.Equal("St Mary&Joseph Clinic", Hl7OruCodec.GetText(message, result.SendingFacility, result.Separators));
    }

    [Fact]
    public void Decode_MshTimeOnlyAndOutOfRange_UsesMsh7AndRejectsValue()
    {
        var (result, obs) = Decode(Codec(), Capture("msh7_only_time.hl7"));

        Assert.Equal(1, result.OutOfRange); // SpO2 140 %
        Assert.All(obs, o => Assert.Equal(new DateTimeOffset(2026, 11, 21, 11, 0, 0, TimeSpan.Zero), o.MeasuredAt.ToUniversalTime()));
    }

    [Fact]
    public void Decode_CustomSeparators_ParsesAndAckTranslatesFields()
    {
        var message = Capture("custom_separators.hl7");
        var (result, obs) = Decode(Codec(), message);

        Assert.Equal(61, Value(obs, Sign.Hr));
        var ack = Encoding.UTF8.GetString(Codec().CreateAck(message, result, result.Ack, null, Received, "A1"));
        Assert.StartsWith("MSH|^~\\&|VITALS|CLINIC|LEGACY_GW|WARD\\F\\3|20261121120000+0000||ACK^R01^ACK|A1|P|2.4\rMSA|AA|LG-9\r", ack, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NonOruMessage_RejectsWithAr()
    {
        var message = Capture("adt_a01_not_oru.hl7");
        var (result, obs) = Decode(Codec(), message);

        Assert.False(result.Result.Ok);
        Assert.Equal(Hl7AckCode.Reject, result.Ack);
        Assert.Empty(obs);
        var ack = Encoding.UTF8.GetString(Codec().CreateAck(message, result, result.Ack, null, Received, "A2"));
        Assert.Contains("\rMSA|AR|ADT-1\r", ack, StringComparison.Ordinal);
        Assert.Contains("ERR|||200^Unsupported message type^HL70357|E", ack, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteAck_Accepted_EchoesControlIdVersionAndApplications()
    {
        var message = Capture("ge_b40_ne_al.hl7");
        var codec = Codec();
        var (result, _) = Decode(codec, message);

        var ack = Encoding.UTF8.GetString(codec.CreateAck(message, result, Hl7AckCode.Accept, null, new DateTimeOffset(2026, 11, 21, 10, 15, 31, TimeSpan.FromHours(1)), "V1-7"));

        Assert.Equal(
            "MSH|^~\\&|VITALS|CLINIC|GE_B40^00098C0000112233^EUI-64|CLINIC_A|20261121101531+0100||ACK^R01^ACK|V1-7|P|2.6\rMSA|AA|GE000123\r",
            ack);
        Assert.True(Hl7Ack.TryParse(Encoding.UTF8.GetBytes(ack), out var parsed));
        Assert.Equal(Hl7AckCode.Accept, parsed!.Code);
        Assert.Equal("GE000123", parsed.AcknowledgedControlId);
    }

    [Fact]
    public void WriteAck_DowngradedToError_WritesAeAndErrText()
    {
        var message = EightObx("C-9");
        var codec = Codec();
        var (result, _) = Decode(codec, message);

        var ack = codec.CreateAck(message, result, Hl7AckCode.Error, "gateway busy | retry", Received, "V2");

        Assert.True(Hl7Ack.TryParse(ack, out var parsed));
        Assert.Equal(Hl7AckCode.Error, parsed!.Code);
        Assert.Equal("C-9", parsed.AcknowledgedControlId);
        Assert.Equal("gateway busy | retry", parsed.ErrorText);
    }

    [Fact]
    public void Decode_ChairRulePv1Bed_MapsBedAndFullLocation()
    {
        var byBed = Codec(Hl7ChairRule.Pv1Bed, ("CHAIR-01", "chair-1"));
        var byLocation = Codec(Hl7ChairRule.Pv1Bed, ("INF^ROOM1^CHAIR-01", "chair-one"));

        Assert.All(Decode(byBed, Capture("ge_b40_ne_al.hl7"), Context()).Observations, o => Assert.Equal("chair-1", o.Chair));
        Assert.All(Decode(byLocation, Capture("ge_b40_ne_al.hl7"), Context()).Observations, o => Assert.Equal("chair-one", o.Chair));
    }

    [Fact]
    public void Decode_ChairRuleSendingAppAndEquipment_MapsByDeviceIds()
    {
        var byApp = Codec(Hl7ChairRule.SendingApplication, ("PHILIPS_EFFICIA", "chair-7"));
        var byEquipment = Codec(Hl7ChairRule.EquipmentId, ("00098c0000112233", "chair-2"));

        Assert.All(Decode(byApp, Capture("philips_mdil_hex_lf.hl7"), Context()).Observations, o => Assert.Equal("chair-7", o.Chair));
        var (result, obs) = Decode(byEquipment, Capture("ge_b40_ne_al.hl7"), Context());
        Assert.Equal(8, obs.Count);
        Assert.All(obs, o => Assert.Equal("chair-2", o.Chair));
        Assert.Equal(Hl7AckCode.Accept, result.Ack);
    }

    [Fact]
    public void Decode_UnmappedChairWithoutFeedChair_AnswersAe()
    {
        var codec = Codec(Hl7ChairRule.Pv1Bed, ("OTHER", "chair-9"));

        var (result, obs) = Decode(codec, Capture("ge_b40_ne_al.hl7"), Context(chair: ""));

        Assert.Empty(obs);
        Assert.False(result.Result.Ok);
        Assert.Equal(Hl7AckCode.Error, result.Ack);
        Assert.Contains("no chair mapping", result.Result.Error, StringComparison.Ordinal);
        Assert.Equal(204, result.ErrorCode);
    }

    [Fact]
    public void Decode_UnmappedChairWithFeedChair_FallsBackToFeed()
    {
        var codec = Codec(Hl7ChairRule.Pv1Bed, ("OTHER", "chair-9"));

        var (_, obs) = Decode(codec, Capture("ge_b40_ne_al.hl7"), Context(chair: "feed-chair"));

        Assert.All(obs, o => Assert.Equal("feed-chair", o.Chair));
    }

    [Fact]
    public void Decode_OnlyContainerRows_AnswersAeNoUsableObx()
    {
        var message = Message(
            "MSH|^~\\&|M|F|||20261121101530||ORU^R01|X-1|P|2.6",
            "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X",
            "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1||%^%^UCUM|||||X");

        var (result, obs) = Decode(Codec(), message);

        Assert.Empty(obs);
        Assert.Equal(Hl7AckCode.Error, result.Ack);
        Assert.Contains("no usable OBX", result.Result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_TrainingProcessingId_FlagsSimulated()
    {
        var message = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(EightObx()).Replace("|P|2.6", "|T|2.6", StringComparison.Ordinal));

        var (_, obs) = Decode(Codec(), message);

        Assert.All(obs, o => Assert.Equal(ObservationQuality.Simulated, o.Quality));
    }

    [Fact]
    public void Decode_IncompatibleUnit_SkipsRow()
    {
        var message = Message(
            "MSH|^~\\&|M|F|||20261121101530||ORU^R01|U-1|P|2.6",
            "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|72|%^%^UCUM|||||R",
            "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.2|97|furlong^furlong^UCUM|||||R",
            "OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.3|96||||||R");

        var (result, obs) = Decode(Codec(), message);

        Assert.Equal(2, result.Skipped);
        Assert.Equal(96, Assert.Single(obs).Value); // no unit: the sign's own
    }

    [Theory]
    [InlineData("202611211015", 2026, 11, 21, 10, 15, 0, 0)]
    [InlineData("20261121101530", 2026, 11, 21, 10, 15, 30, 0)]
    [InlineData("20261121101530.25+0100", 2026, 11, 21, 9, 15, 30, 250)]
    [InlineData("20261121101530-0530", 2026, 11, 21, 15, 45, 30, 0)]
    public void TryParseTime_ValidDtm_ReturnsUtcInstant(string text, int y, int mo, int d, int h, int mi, int s, int ms)
    {
        Assert.True(Hl7OruCodec.TryParseTime(Encoding.ASCII.GetBytes(text), TimeZoneInfo.Utc, out var time));
        Assert.Equal(new DateTimeOffset(y, mo, d, h, mi, s, ms, TimeSpan.Zero), time.ToUniversalTime());
    }

    [Theory]
    [InlineData("")]
    [InlineData("2026")]
    [InlineData("20261121")]
    [InlineData("20261321101530")]
    [InlineData("20260230101530")]
    [InlineData("20261121251530")]
    [InlineData("20261121101530+01")]
    [InlineData("2026112110153O")]
    [InlineData("20261121101530.")]
    public void TryParseTime_InvalidDtm_ReturnsFalse(string text)
    {
        Assert.False(Hl7OruCodec.TryParseTime(Encoding.ASCII.GetBytes(text), TimeZoneInfo.Utc, out _));
    }
}
