using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>Profile, chair and session overrides; validation messages; versions and audit records.</summary>
public class ConfigurationTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void SetChairOverride_ValidLimit_AppliesToThatChairOnlyAndAudits()
    {
        var h = new EngineHarness();

        var result = h.Engine.Configuration.SetChairOverride("c1", "hr.low.medium", 45, "admin", At);

        Assert.True(result.Ok);
        Assert.Equal(new ConfigChange(1, "admin", At, ConfigScope.Chair, "c1", "hr.low.medium", "50", "45"), result.Change);
        h.Hold(Sign.Hr, 47, 11, chair: "c1");
        h.Hold(Sign.Hr, 47, 11, chair: "c2");
        Assert.Null(h.Alarm("hr.low", "c1"));
        Assert.NotNull(h.Alarm("hr.low", "c2"));
    }

    [Fact]
    public void SetChairOverride_Removed_AuditsOldValueAndRevertsToProfile()
    {
        var config = new AlarmConfiguration();
        config.SetChairOverride("c1", "hr.low.medium", 45, "admin", At);

        var result = config.SetChairOverride("c1", "hr.low.medium", null, "admin", At);

        Assert.Equal(("45", (string?)null, 2L), (result.Change!.OldValue, result.Change.NewValue, config.Version));
        Assert.Equal(50, config.Resolve("c1", null).Limits.Single(b => b.Key == "hr.low.medium").Threshold);
    }

    [Fact]
    public void SetChairOverride_LowAboveHigh_RejectedNamingBothFieldsAndVersionUnchanged()
    {
        var config = new AlarmConfiguration();

        var result = config.SetChairOverride("c1", "hr.low.medium", 130, "admin", At);

        Assert.False(result.Ok);
        Assert.Null(result.Change);
        Assert.Contains("hr.low.medium: Heart rate: low (medium) 130 /min must be below high (medium) 120 /min", result.Errors);
        Assert.Equal(0, config.Version);
    }

    [Fact]
    public void SetChairOverride_OutsideHardBounds_RejectedNamingField()
    {
        var config = new AlarmConfiguration();

        var result = config.SetChairOverride("c1", "spo2.low.medium", 101, "admin", At);

        var error = Assert.Single(result.Errors, e => e.Contains("possible range", StringComparison.Ordinal));
        Assert.Equal("spo2.low.medium: SpO2: low (medium) 101 is outside the possible range 0-100 %", error);
    }

    [Fact]
    public void SetChairOverride_NibpLowAboveHigh_KeyThenPlainNamesAndUnits()
    {
        var config = new AlarmConfiguration();
        Assert.True(config.SetChairOverride("c1", "nibp_sys.high.medium", 160, "admin", At).Ok);

        var result = config.SetChairOverride("c1", "nibp_sys.low.medium", 170, "admin", At);

        var error = Assert.Single(result.Errors);
        Assert.Equal("nibp_sys.low.medium: NIBP systolic: low (medium) 170 mmHg must be below high (medium) 160 mmHg", error);
        Assert.Equal("NIBP systolic: low (medium) 170 mmHg must be below high (medium) 160 mmHg", AlarmProfileValidator.PlainText(error));
    }

    [Theory]
    [InlineData("hr.delay: Heart rate: alarm delay 300 s must be between 0 and 120 s", "Heart rate: alarm delay 300 s must be between 0 and 120 s")]
    [InlineData("chair.profile: unknown profile 'paediatric'", "unknown profile 'paediatric'")]
    [InlineData("Not keyed: a sentence", "Not keyed: a sentence")]
    public void PlainText_KeyedMessage_DropsOnlyTheKey(string error, string expected) =>
        Assert.Equal(expected, AlarmProfileValidator.PlainText(error));

    [Fact]
    public void SetChairOverride_SevereBandInsideMildOne_RejectedNamingBoth()
    {
        var config = new AlarmConfiguration();

        var result = config.SetChairOverride("c1", "hr.low.high", 55, "admin", At);

        Assert.Equal(["hr.low.high: Heart rate: low (high) 55 /min must not be above low (medium) 50 /min"], result.Errors);
    }

    [Theory]
    [InlineData("hr.low.urgent", "priority must be low, medium or high")]
    [InlineData("hr.sideways.medium", "direction must be low or high")]
    [InlineData("pulse.low.medium", "unknown key")]
    [InlineData("hr.wobble", "unknown setting")]
    public void SetChairOverride_MalformedKey_RejectedNamingKey(string key, string expected)
    {
        var config = new AlarmConfiguration();

        var result = config.SetChairOverride("c1", key, 40, "admin", At);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith(key, error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void SetChairOverride_DelayAboveTwoMinutes_RejectedNamingField()
    {
        var config = new AlarmConfiguration();

        var result = config.SetChairOverride("c1", "hr.delay", 300, "admin", At);

        Assert.Equal(["hr.delay: Heart rate: alarm delay 300 s must be between 0 and 120 s"], result.Errors);
    }

    [Fact]
    public void SetChairOverride_Delay_ChangesConditionDelay()
    {
        var h = new EngineHarness();
        h.Engine.Configuration.SetChairOverride("c1", "hr.delay", 20, "admin", At);

        h.Hold(Sign.Hr, 45, 20);
        Assert.Null(h.Alarm("hr.low"));
        h.Hold(Sign.Hr, 45, 1);

        Assert.NotNull(h.Alarm("hr.low"));
    }

    [Fact]
    public void SetProfileValue_DefaultAdult_AppliesEverywhereAndBumpsVersion()
    {
        var config = new AlarmConfiguration();

        var result = config.SetProfileValue(AlarmProfiles.DefaultAdultName, "spo2.low.medium", 92, "admin", At);

        Assert.True(result.Ok);
        Assert.Equal((ConfigScope.Profile, "90", "92", 1L), (result.Change!.Scope, result.Change.OldValue, result.Change.NewValue, config.Version));
        Assert.Equal(92, config.Resolve("any", null).Limits.Single(b => b.Key == "spo2.low.medium").Threshold);
    }

    [Fact]
    public void SetChairProfile_UnknownProfile_RejectedNamingField()
    {
        var config = new AlarmConfiguration();

        var result = config.SetChairProfile("c1", "paediatric", "admin", At);

        Assert.Equal(["chair.profile: unknown profile 'paediatric'"], result.Errors);
    }

    [Fact]
    public void SetChairProfile_MgSo4_ChairUsesIt()
    {
        var config = new AlarmConfiguration();

        Assert.True(config.SetChairProfile("c1", AlarmProfiles.MgSo4Name, "admin", At).Ok);

        Assert.Equal(AlarmProfiles.MgSo4Name, config.Resolve("c1", null).Name);
    }

    [Fact]
    public void PutProfile_InvalidPriority_RejectedNamingField()
    {
        var config = new AlarmConfiguration();
        var bad = AlarmProfiles.DefaultAdult with { Name = "bad", Limits = [new LimitBand(Sign.Hr, LimitDirection.Low, (AlarmPriority)7, 40)] };

        var result = config.PutProfile(bad, "admin", At);

        Assert.Equal(["hr.low: Heart rate: low alarm priority 7 is not low, medium or high"], result.Errors);
        Assert.Null(config.FindProfile("bad"));
    }

    [Theory]
    [InlineData("reannounce", 200, "reannounce: Announce an acknowledged alarm again after: 200 s must be between 60 and 180 s")]
    [InlineData("reannounce", 30, "reannounce: Announce an acknowledged alarm again after: 30 s must be between 60 and 180 s")]
    [InlineData("pause_max", 300, "pause_max: Longest audio pause: 300 s must be above 0 and at most 120 s")]
    [InlineData("signal_lost", 900, "signal_lost: Signal lost (HR, pulse rate, SpO2, RR): alarm after no reading for: 900 s must be above 0 and at most 600 s")]
    [InlineData("volume", 3, "volume: unknown engine setting")]
    public void SetTimingValue_OutOfRange_RejectedNamingField(string key, double value, string expected)
    {
        var config = new AlarmConfiguration();

        var result = config.SetTimingValue(key, value, "admin", At);

        Assert.Equal([expected], result.Errors);
    }

    [Fact]
    public void SetTimingValue_Reannounce_AuditsOldAndNewSeconds()
    {
        var config = new AlarmConfiguration();

        var result = config.SetTimingValue("reannounce", 180, "admin", At);

        Assert.Equal(new ConfigChange(1, "admin", At, ConfigScope.Engine, "engine", "reannounce", "120", "180"), result.Change);
        Assert.Equal(TimeSpan.FromMinutes(3), config.Timing.Reannounce);
    }

    [Fact]
    public void SetSessionOverride_RunningSession_OverridesChairAndProfileForThatSessionOnly()
    {
        var h = new EngineHarness();
        h.Engine.Configuration.SetChairOverride("c1", "nibp_sys.low.medium", 95, "admin", At);
        var session = h.StartSession();

        var result = h.Engine.SetSessionOverride("c1", "nibp_sys.low.medium", 100, "nurse.b", At);

        Assert.True(result.Ok);
        Assert.Equal((ConfigScope.Session, session.Id, "95", "100"), (result.Change!.Scope, result.Change.Target, result.Change.OldValue, result.Change.NewValue));
        Assert.Equal(2, h.Engine.Configuration.Version);
        h.Observe(Sign.NibpSys, 98);
        Assert.NotNull(h.Alarm("nibp_sys.low"));

        // Under the session's 100 a reading of 100 is not back inside by the 5 mmHg NIBP margin; under the chair's 95 it is.
        h.Engine.StopSession("c1", h.Now, h.Events);
        h.Observe(Sign.NibpSys, 100);
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("nibp_sys.low"));
    }

    [Fact]
    public void SetSessionOverride_Invalid_RejectedAndSessionUnchanged()
    {
        var h = new EngineHarness();
        h.StartSession();

        var result = h.Engine.SetSessionOverride("c1", "nibp_sys.low.medium", 170, "nurse.b", At);

        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.StartsWith("nibp_sys.low.medium", StringComparison.Ordinal));
        Assert.Null(h.Engine.SessionAt("c1")!.Overrides);
    }

    [Fact]
    public void SetSessionOverride_NoSession_Rejected()
    {
        var h = new EngineHarness();

        Assert.Equal(["session: no running session at chair c1"], h.Engine.SetSessionOverride("c1", "hr.low.medium", 45, "nurse.b", At).Errors);
    }

    [Fact]
    public void Constructor_InvalidTiming_ThrowsNamingField()
    {
        var ex = Assert.Throws<ArgumentException>(() => new AlarmConfiguration(timing: new AlarmTiming { MaxPause = TimeSpan.FromMinutes(3) }));

        Assert.Contains("pause_max", ex.Message, StringComparison.Ordinal);
    }
}
