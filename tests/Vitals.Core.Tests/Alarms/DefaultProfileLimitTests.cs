using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>Every default adult limit of issue 6 at, just inside and just outside its threshold.</summary>
public class DefaultProfileLimitTests
{
    [Theory]
    // HR medium <50 or >120, high <40 or >150
    [InlineData(Sign.Hr, 50.1, null, null)]
    [InlineData(Sign.Hr, 50, null, null)]
    [InlineData(Sign.Hr, 49.9, "hr.low", AlarmPriority.Medium)]
    [InlineData(Sign.Hr, 40, "hr.low", AlarmPriority.Medium)]
    [InlineData(Sign.Hr, 39.9, "hr.low", AlarmPriority.High)]
    [InlineData(Sign.Hr, 119.9, null, null)]
    [InlineData(Sign.Hr, 120, null, null)]
    [InlineData(Sign.Hr, 120.1, "hr.high", AlarmPriority.Medium)]
    [InlineData(Sign.Hr, 150, "hr.high", AlarmPriority.Medium)]
    [InlineData(Sign.Hr, 150.1, "hr.high", AlarmPriority.High)]
    // SpO2 medium <90, high <=85
    [InlineData(Sign.Spo2, 90.1, null, null)]
    [InlineData(Sign.Spo2, 90, null, null)]
    [InlineData(Sign.Spo2, 89.9, "spo2.low", AlarmPriority.Medium)]
    [InlineData(Sign.Spo2, 85.1, "spo2.low", AlarmPriority.Medium)]
    [InlineData(Sign.Spo2, 85, "spo2.low", AlarmPriority.High)]
    [InlineData(Sign.Spo2, 84.9, "spo2.low", AlarmPriority.High)]
    // RR medium <10 or >30, high <8
    [InlineData(Sign.Rr, 10.1, null, null)]
    [InlineData(Sign.Rr, 10, null, null)]
    [InlineData(Sign.Rr, 9.9, "rr.low", AlarmPriority.Medium)]
    [InlineData(Sign.Rr, 8, "rr.low", AlarmPriority.Medium)]
    [InlineData(Sign.Rr, 7.9, "rr.low", AlarmPriority.High)]
    [InlineData(Sign.Rr, 29.9, null, null)]
    [InlineData(Sign.Rr, 30, null, null)]
    [InlineData(Sign.Rr, 30.1, "rr.high", AlarmPriority.Medium)]
    // NIBP systolic medium <90 or >160, high <80 or >=180
    [InlineData(Sign.NibpSys, 90.1, null, null)]
    [InlineData(Sign.NibpSys, 90, null, null)]
    [InlineData(Sign.NibpSys, 89.9, "nibp_sys.low", AlarmPriority.Medium)]
    [InlineData(Sign.NibpSys, 80, "nibp_sys.low", AlarmPriority.Medium)]
    [InlineData(Sign.NibpSys, 79.9, "nibp_sys.low", AlarmPriority.High)]
    [InlineData(Sign.NibpSys, 159.9, null, null)]
    [InlineData(Sign.NibpSys, 160, null, null)]
    [InlineData(Sign.NibpSys, 160.1, "nibp_sys.high", AlarmPriority.Medium)]
    [InlineData(Sign.NibpSys, 179.9, "nibp_sys.high", AlarmPriority.Medium)]
    [InlineData(Sign.NibpSys, 180, "nibp_sys.high", AlarmPriority.High)]
    // NIBP diastolic medium <50 or >90, high >=110
    [InlineData(Sign.NibpDia, 50.1, null, null)]
    [InlineData(Sign.NibpDia, 50, null, null)]
    [InlineData(Sign.NibpDia, 49.9, "nibp_dia.low", AlarmPriority.Medium)]
    [InlineData(Sign.NibpDia, 89.9, null, null)]
    [InlineData(Sign.NibpDia, 90, null, null)]
    [InlineData(Sign.NibpDia, 90.1, "nibp_dia.high", AlarmPriority.Medium)]
    [InlineData(Sign.NibpDia, 109.9, "nibp_dia.high", AlarmPriority.Medium)]
    [InlineData(Sign.NibpDia, 110, "nibp_dia.high", AlarmPriority.High)]
    // NIBP mean medium <60 or >110, high <50
    [InlineData(Sign.NibpMap, 60.1, null, null)]
    [InlineData(Sign.NibpMap, 60, null, null)]
    [InlineData(Sign.NibpMap, 59.9, "nibp_map.low", AlarmPriority.Medium)]
    [InlineData(Sign.NibpMap, 50, "nibp_map.low", AlarmPriority.Medium)]
    [InlineData(Sign.NibpMap, 49.9, "nibp_map.low", AlarmPriority.High)]
    [InlineData(Sign.NibpMap, 109.9, null, null)]
    [InlineData(Sign.NibpMap, 110, null, null)]
    [InlineData(Sign.NibpMap, 110.1, "nibp_map.high", AlarmPriority.Medium)]
    // Temperature low <36.0 or >38.0, medium >39.0
    [InlineData(Sign.Temp, 36.1, null, null)]
    [InlineData(Sign.Temp, 36.0, null, null)]
    [InlineData(Sign.Temp, 35.9, "temp.low", AlarmPriority.Low)]
    [InlineData(Sign.Temp, 37.9, null, null)]
    [InlineData(Sign.Temp, 38.0, null, null)]
    [InlineData(Sign.Temp, 38.1, "temp.high", AlarmPriority.Low)]
    [InlineData(Sign.Temp, 39.0, "temp.high", AlarmPriority.Low)]
    [InlineData(Sign.Temp, 39.1, "temp.high", AlarmPriority.Medium)]
    public void Observe_DefaultAdultLimit_RaisesExpectedRuleAndPriority(Sign sign, double value, string? rule, AlarmPriority? priority)
    {
        var h = new EngineHarness();
        var delay = (int)AlarmProfiles.DefaultAdult.TimingFor(sign).ConditionDelay.TotalSeconds;

        h.Hold(sign, value, delay + 1);

        var physiological = h.Engine.Alarms.Where(a => a.Kind == AlarmKind.Physiological).ToList();
        if (rule is null)
        {
            Assert.Empty(physiological);
            return;
        }

        var alarm = Assert.Single(physiological);
        Assert.Equal(rule, alarm.Rule);
        Assert.Equal(priority, alarm.Priority);
        Assert.Equal(value, alarm.Value);
    }

    [Theory]
    [InlineData(Sign.Hr, 10)]
    [InlineData(Sign.Spo2, 15)]
    [InlineData(Sign.Rr, 30)]
    [InlineData(Sign.NibpSys, 0)]
    [InlineData(Sign.NibpDia, 0)]
    [InlineData(Sign.NibpMap, 0)]
    public void DefaultAdult_ConditionDelay_MatchesIssue(Sign sign, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), AlarmProfiles.DefaultAdult.TimingFor(sign).ConditionDelay);

    [Fact]
    public void BuiltInProfiles_Validate_HaveNoErrors()
    {
        Assert.Empty(AlarmProfileValidator.Validate(AlarmProfiles.DefaultAdult));
        Assert.Empty(AlarmProfileValidator.Validate(AlarmProfiles.MgSo4));
        Assert.Empty(AlarmProfileValidator.Validate(new AlarmTiming()));
    }
}
