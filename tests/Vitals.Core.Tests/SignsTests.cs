
namespace Vitals.Core.Tests;

public class SignsTests
{
    [Theory]
    [InlineData(Sign.Hr, "hr", 147842, "/min")]
    [InlineData(Sign.Pr, "pr", 149530, "/min")]
    [InlineData(Sign.Spo2, "spo2", 150456, "%")]
    [InlineData(Sign.NibpSys, "nibp_sys", 150021, "mm[Hg]")]
    [InlineData(Sign.NibpDia, "nibp_dia", 150022, "mm[Hg]")]
    [InlineData(Sign.NibpMap, "nibp_map", 150023, "mm[Hg]")]
    [InlineData(Sign.Rr, "rr", 151562, "/min")]
    [InlineData(Sign.Temp, "temp", 150344, "Cel")]
    public void Info_EverySign_MatchesDesignTable(Sign sign, string shortName, int mdc, string unit)
    {
        var info = sign.Info();
        Assert.Equal(sign, info.Sign);
        Assert.Equal(shortName, info.ShortName);
        Assert.Equal(mdc, info.MdcCode);
        Assert.Equal(unit, info.Unit);
        Assert.True(Signs.TryParse(shortName.ToUpperInvariant(), out var parsed));
        Assert.Equal(sign, parsed);
    }

    [Theory]
    [InlineData(149546, Sign.Pr)]
    [InlineData(149514, Sign.Pr)]
    [InlineData(151578, Sign.Rr)]
    [InlineData(150364, Sign.Temp)]
    public void TryFromMdcCode_AlternateCodes_MapToSign(int code, Sign expected)
    {
        Assert.True(Signs.TryFromMdcCode(code, out var sign));
        Assert.Equal(expected, sign);
    }

    [Fact]
    public void TryFromMdcCode_InvasivePulseRate_IsNotNibpPulse()
    {
        // 149522 is MDC_BLD_PULS_RATE_INV (invasive); it must not be read as a non-invasive pulse rate.
        Assert.False(Signs.TryFromMdcCode(149522, out _));
    }

    [Fact]
    public void TryFromMdcName_Mnemonic_MapsToSign()
    {
        Assert.True(Signs.TryFromMdcName("MDC_ECG_HEART_RATE", out var sign));
        Assert.Equal(Sign.Hr, sign);
        Assert.False(Signs.TryFromMdcName("MDC_NOT_A_CODE", out _));
    }

    [Fact]
    public void All_IsInEnumOrder_SoInfoLookupIsByIndex()
    {
        Assert.Equal(Enum.GetValues<Sign>(), Signs.All.Select(s => s.Sign));
        Assert.Equal(Signs.All.Count, Signs.All.Select(s => s.ShortName).Distinct().Count());
    }

    [Theory]
    [InlineData(Sign.NibpSys, "mmHg")]
    [InlineData(Sign.Temp, "°C")]
    [InlineData(Sign.Spo2, "%")]
    [InlineData(Sign.Hr, "/min")]
    public void DisplayUnit_UcumCode_IsItsPrintSymbol(Sign sign, string shown)
    {
        Assert.Equal(shown, sign.Info().DisplayUnit);
    }

    [Fact]
    public void Observation_Unit_IsTheSignsUnit()
    {
        var t = new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
        var o = new Observation("s", "c", "d", Sign.NibpSys, 120, t, t, SourceProtocol.Simulator);
        Assert.Equal("mm[Hg]", o.Unit);
        Assert.Equal(ObservationQuality.Ok, o.Quality);
    }
}
