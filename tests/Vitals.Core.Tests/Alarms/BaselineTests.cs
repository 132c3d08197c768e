using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>Baseline proposal, confirmation, and change-from-baseline rules at and around their boundaries.</summary>
public class BaselineTests
{
    [Fact]
    public void GetBaselineStatus_NoSession_SaysBaselineRulesInactive()
    {
        var h = new EngineHarness();

        var status = h.Engine.GetBaselineStatus(EngineHarness.Chair, h.Now);

        Assert.Equal(BaselineState.NoSession, status.State);
        Assert.Contains("inactive", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetBaselineStatus_OneNibpReading_CollectingAndSaysWhy()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 120);
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        h.StartSession();

        var status = h.Engine.GetBaselineStatus(EngineHarness.Chair, h.Now);

        Assert.Equal(BaselineState.Collecting, status.State);
        Assert.Null(status.Baseline);
        Assert.Contains("Baseline not confirmed", status.Message, StringComparison.Ordinal);
        Assert.Contains("have 1", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetBaselineStatus_TwoNibpReadingsUnderTwoMinutesApart_StillCollecting()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 120);
        h.Clock.Advance(TimeSpan.FromSeconds(119));
        h.Observe(Sign.NibpSys, 124);
        h.StartSession();

        Assert.Equal(BaselineState.Collecting, h.Engine.GetBaselineStatus(EngineHarness.Chair, h.Now).State);
    }

    [Fact]
    public void GetBaselineStatus_ThreePreInfusionReadings_ProposesMediansNotMeans()
    {
        var h = new EngineHarness();
        (double Sys, double Dia, double Map)[] readings = [(180, 100, 127), (130, 80, 97), (126, 78, 94)];
        foreach (var (sys, dia, map) in readings)
        {
            h.Observe(Sign.NibpSys, sys);
            h.Observe(Sign.NibpDia, dia);
            h.Observe(Sign.NibpMap, map);
            h.Hold(Sign.Hr, 90, 120, step: 5);
        }

        h.StartSession();
        h.Hold(Sign.NibpSys, 200, 1); // after the start: not part of the baseline

        var status = h.Engine.GetBaselineStatus(EngineHarness.Chair, h.Now);

        Assert.Equal(BaselineState.Proposed, status.State);
        Assert.Equal((130d, 80d, 97d, 90d, 3), (status.Baseline!.Sys, status.Baseline.Dia, status.Baseline.Map, status.Baseline.Hr, status.Baseline.NibpReadings));
        Assert.Contains("not confirmed", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfirmBaseline_Proposal_ConfirmedByNurse()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 120);
        h.Clock.Advance(TimeSpan.FromMinutes(3));
        h.Observe(Sign.NibpSys, 130);
        h.StartSession();

        var status = h.Engine.ConfirmBaseline(EngineHarness.Chair, EngineHarness.Nurse, h.Now);

        Assert.Equal(BaselineState.Confirmed, status.State);
        Assert.Equal(125, status.Baseline!.Sys);
        Assert.Equal(EngineHarness.Nurse, status.Baseline.ConfirmedBy);
    }

    [Fact]
    public void Observe_LargeDropBeforeBaselineConfirmed_NoBaselineAlarm()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 150);
        h.Clock.Advance(TimeSpan.FromMinutes(3));
        h.Observe(Sign.NibpSys, 150);
        h.StartSession();

        h.Observe(Sign.NibpSys, 95);

        Assert.Empty(h.EventsFor("nibp_sys.drop"));
        Assert.Equal(BaselineState.Proposed, h.Engine.GetBaselineStatus(EngineHarness.Chair, h.Now).State);

        h.Engine.ConfirmBaseline(EngineHarness.Chair, EngineHarness.Nurse, h.Now);
        h.Observe(Sign.NibpSys, 95);
        Assert.Equal([AlarmState.Raised], h.StatesOf("nibp_sys.drop"));
    }

    [Fact]
    public void ConfirmBaseline_EnteredValueOutsideBounds_ThrowsNamingSign()
    {
        var h = new EngineHarness();
        h.StartSession();

        var ex = Assert.Throws<ArgumentException>(() =>
            h.Engine.ConfirmBaseline(EngineHarness.Chair, EngineHarness.Nurse, h.Now, new Baseline(400, 80, 100, 70, 14, 0)));

        Assert.Contains("nibp_sys", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    // MAP drop >= 20 % medium (baseline 100)
    [InlineData(Sign.NibpMap, 80.1, "nibp_map.drop", null)]
    [InlineData(Sign.NibpMap, 80, "nibp_map.drop", AlarmPriority.Medium)]
    [InlineData(Sign.NibpMap, 79.9, "nibp_map.drop", AlarmPriority.Medium)]
    // SBP drop >= 20 mmHg medium (baseline 150: 20 mmHg comes before 20 %)
    [InlineData(Sign.NibpSys, 131, "nibp_sys.drop", null)]
    [InlineData(Sign.NibpSys, 130, "nibp_sys.drop", AlarmPriority.Medium)]
    [InlineData(Sign.NibpSys, 129, "nibp_sys.drop", AlarmPriority.Medium)]
    // SBP drop >= 30 % high (baseline 150: 105)
    [InlineData(Sign.NibpSys, 105.15, "nibp_sys.drop", AlarmPriority.Medium)]
    [InlineData(Sign.NibpSys, 105, "nibp_sys.drop", AlarmPriority.High)]
    [InlineData(Sign.NibpSys, 104.85, "nibp_sys.drop", AlarmPriority.High)]
    // SBP rise >= 30 mmHg medium (baseline 150: 30 mmHg = 20 %, so both criteria meet at 180)
    [InlineData(Sign.NibpSys, 179, "nibp_sys.rise", null)]
    [InlineData(Sign.NibpSys, 180, "nibp_sys.rise", AlarmPriority.Medium)]
    [InlineData(Sign.NibpSys, 181, "nibp_sys.rise", AlarmPriority.Medium)]
    // HR fall >= 20 % medium (baseline 80: 64)
    [InlineData(Sign.Hr, 64.08, "hr.drop", null)]
    [InlineData(Sign.Hr, 64, "hr.drop", AlarmPriority.Medium)]
    [InlineData(Sign.Hr, 63.92, "hr.drop", AlarmPriority.Medium)]
    // HR rise >= 30 bpm medium (baseline 80: 30 % = 24 bpm comes first)
    [InlineData(Sign.Hr, 103.92, "hr.rise", null)]
    [InlineData(Sign.Hr, 104, "hr.rise", AlarmPriority.Medium)]
    [InlineData(Sign.Hr, 104.08, "hr.rise", AlarmPriority.Medium)]
    // RR fall >= 30 % medium (baseline 20: 14)
    [InlineData(Sign.Rr, 14.02, "rr.drop", null)]
    [InlineData(Sign.Rr, 14, "rr.drop", AlarmPriority.Medium)]
    [InlineData(Sign.Rr, 13.98, "rr.drop", AlarmPriority.Medium)]
    public void Observe_ChangeFromBaselineAroundBoundary_RaisedOnlyFromBoundary(Sign sign, double value, string rule, AlarmPriority? expected)
    {
        var h = new EngineHarness();
        h.StartWithBaseline(sys: 150, map: 100, hr: 80, rr: 20);
        var delay = (int)AlarmProfiles.DefaultAdult.TimingFor(sign).ConditionDelay.TotalSeconds;

        h.Hold(sign, value, delay + 1);

        Assert.Equal(expected, h.Alarm(rule)?.Priority);
    }

    [Theory]
    // SBP drop >= 20 % medium with a low baseline (90: 20 % = 18 mmHg comes before 20 mmHg)
    [InlineData(72.09, null)]
    [InlineData(72, AlarmPriority.Medium)]
    [InlineData(71.91, AlarmPriority.Medium)]
    public void Observe_SbpPercentDropAroundTwentyPercent_RaisedFromTwentyPercent(double value, AlarmPriority? expected)
    {
        var h = new EngineHarness();
        h.StartWithBaseline(sys: 90);

        h.Observe(Sign.NibpSys, value);

        Assert.Equal(expected, h.Alarm("nibp_sys.drop")?.Priority);
    }

    [Theory]
    // SBP rise >= 20 % medium (baseline 100: 20 % = 20 mmHg comes before 30 mmHg)
    [InlineData(119.9, null)]
    [InlineData(120, AlarmPriority.Medium)]
    [InlineData(120.1, AlarmPriority.Medium)]
    public void Observe_SbpPercentRiseAroundTwentyPercent_RaisedFromTwentyPercent(double value, AlarmPriority? expected)
    {
        var h = new EngineHarness();
        h.StartWithBaseline(sys: 100);

        h.Observe(Sign.NibpSys, value);

        Assert.Equal(expected, h.Alarm("nibp_sys.rise")?.Priority);
    }

    [Theory]
    // HR rise >= 30 bpm with a high baseline (120: 30 bpm comes before 30 % = 36)
    [InlineData(149, null)]
    [InlineData(150, AlarmPriority.Medium)]
    [InlineData(151, AlarmPriority.Medium)]
    public void Observe_HrAbsoluteRiseAroundThirtyBpm_RaisedFromThirty(double value, AlarmPriority? expected)
    {
        var h = new EngineHarness();
        h.StartWithBaseline(hr: 120);

        h.Hold(Sign.Hr, value, 11);

        Assert.Equal(expected, h.Alarm("hr.rise")?.Priority);
    }

    [Fact]
    public void Observe_BaselineDropAlarm_CarriesBaselineDerivedLimit()
    {
        var h = new EngineHarness();
        h.StartWithBaseline(sys: 150);

        h.Observe(Sign.NibpSys, 125);

        var raised = Assert.Single(h.EventsFor("nibp_sys.drop"));
        Assert.Equal(125, raised.Value);
        Assert.Equal(130, raised.Limit);
        Assert.Contains("baseline 150", raised.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StopSession_ActiveBaselineAlarm_ClearedAndBaselineGone()
    {
        var h = new EngineHarness();
        h.StartWithBaseline(sys: 150);
        h.Observe(Sign.NibpSys, 125);

        var stopped = h.Engine.StopSession(EngineHarness.Chair, h.Now, h.Events);

        Assert.Equal(h.Now, stopped!.StoppedAt);
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("nibp_sys.drop"));
        Assert.Equal(BaselineState.NoSession, h.Engine.GetBaselineStatus(EngineHarness.Chair, h.Now).State);
    }

    [Fact]
    public void NextSession_BaselineDropHeldBetweenReadings_RaisedByTheClock()
    {
        // Stopping a session removes its baseline rules' condition tracks (the chair finds tracks by rule slot): the next
        // session's drop must get a track the clock visits, or a drop with no further reading is never raised.
        var h = new EngineHarness();
        h.StartWithBaseline(hr: 80);
        h.Observe(Sign.Hr, 60);
        h.Engine.StopSession(EngineHarness.Chair, h.Now, h.Events);
        h.Wait(TimeSpan.FromSeconds(1));
        h.StartWithBaseline(hr: 80);

        h.Observe(Sign.Hr, 60); // 25 % below baseline; hr.drop has a 10 s condition delay
        h.Wait(TimeSpan.FromSeconds(10));

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.drop"));
    }

    [Fact]
    public void Median_EvenCount_AveragesMiddleTwo()
    {
        var t = DateTimeOffset.UnixEpoch;

        var median = BaselineCalculator.Median([new(t, 110), new(t, 140), new(t, 120), new(t, 130)]);

        Assert.Equal(125, median);
    }
}
