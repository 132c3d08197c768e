namespace Vitals.Core.Tests.Alarms;

/// <summary>Condition delay, hysteresis, latching, acknowledge, re-announce, escalation and breakthrough.</summary>
public class AlarmStateMachineTests
{
    [Fact]
    public void Observe_HrLowForJustUnderDelay_NotRaised()
    {
        var h = new EngineHarness();

        h.Hold(Sign.Hr, 45, 10); // samples at 1..10 s: 9 s since the first

        Assert.Empty(h.EventsFor("hr.low"));
    }

    [Fact]
    public void Observe_HrLowForDelay_RaisedWithValueLimitAndTime()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 10);
        var firstSample = h.Now - TimeSpan.FromSeconds(9);

        h.Hold(Sign.Hr, 45, 1);

        var raised = Assert.Single(h.EventsFor("hr.low"));
        Assert.Equal(AlarmState.Raised, raised.State);
        Assert.Equal(AlarmPriority.Medium, raised.Priority);
        Assert.Equal(AlarmKind.Physiological, raised.Kind);
        Assert.Equal(45, raised.Value);
        Assert.Equal(50, raised.Limit);
        Assert.Equal(firstSample + TimeSpan.FromSeconds(10), raised.At);
        Assert.Equal(EngineHarness.Site, raised.Site);
        Assert.Contains("Heart rate low", raised.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Observe_LowCuffReading_MessageReadsMmHgNotTheUcumCode()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 80);

        var raised = Assert.Single(h.EventsFor("nibp_sys.low"));
        Assert.Contains("80 mmHg", raised.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("[Hg]", raised.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tick_ConditionDelayElapsesBetweenSamples_RaisedByTick()
    {
        var h = new EngineHarness();
        h.Observe(Sign.Spo2, 88);
        h.Clock.Advance(TimeSpan.FromSeconds(14));
        h.Observe(Sign.Spo2, 88);

        h.Wait(TimeSpan.FromSeconds(1));

        Assert.Equal([AlarmState.Raised], h.StatesOf("spo2.low"));
    }

    [Fact]
    public void Observe_NormalStretchAsLongAsClearTimeDuringDelay_DelayStartsOver()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 8);
        h.Hold(Sign.Hr, 55, 10); // 10 s without an abnormal value: the 10 s clear time ends the episode

        h.Hold(Sign.Hr, 45, 10);

        Assert.Empty(h.EventsFor("hr.low"));
        h.Hold(Sign.Hr, 45, 1);
        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.low"));
    }

    [Fact]
    public void Observe_ValueFlickersAroundLimit_NeverRaisedAndNeverFlaps()
    {
        var h = new EngineHarness();
        for (var i = 0; i < 60; i++)
        {
            h.Hold(Sign.Hr, i % 2 == 0 ? 49 : 51, 1);
        }

        Assert.Empty(h.EventsFor("hr.low"));
    }

    [Fact]
    public void Observe_ActiveAlarmValueFlickersAcrossLimit_StaysRaisedWithoutFlapping()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);

        for (var i = 0; i < 60; i++)
        {
            h.Hold(Sign.Hr, i % 2 == 0 ? 49 : 51, 1);
        }

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.low"));
        Assert.NotNull(h.Alarm("hr.low"));
    }

    [Fact]
    public void Observe_BackInsideButWithinMargin_DoesNotClear()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);

        h.Hold(Sign.Hr, 51.9, 30); // inside the limit of 50 but not by the 2 /min margin

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.low"));
    }

    [Fact]
    public void Observe_InsideByMarginForClearTime_Clears()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);

        h.Hold(Sign.Hr, 52, 10);
        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.low"));
        h.Hold(Sign.Hr, 52, 1);

        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("hr.low"));
        Assert.Null(h.Alarm("hr.low"));
        Assert.Equal(52, h.EventsFor("hr.low")[^1].Value);
    }

    [Fact]
    public void Observe_NibpReadingOutsideLimit_RaisedAtOnceAndClearedByNextNormalReading()
    {
        var h = new EngineHarness();

        h.Observe(Sign.NibpSys, 85);
        Assert.Equal([AlarmState.Raised], h.StatesOf("nibp_sys.low"));

        h.Clock.Advance(TimeSpan.FromMinutes(5));
        h.Observe(Sign.NibpSys, 95);
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("nibp_sys.low"));
    }

    [Fact]
    public void Observe_HighPriorityConditionEnds_LatchesUntilAcknowledged()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 35, 11);

        h.Hold(Sign.Hr, 70, 20);

        Assert.Equal([AlarmState.Raised, AlarmState.Latched], h.StatesOf("hr.low"));
        var latched = h.Alarm("hr.low");
        Assert.NotNull(latched);
        Assert.True(latched.Latched);
        Assert.Equal(AlarmPriority.High, latched.Priority);

        Assert.True(h.Acknowledge("hr.low"));

        Assert.Equal([AlarmState.Raised, AlarmState.Latched, AlarmState.Acknowledged, AlarmState.Cleared], h.StatesOf("hr.low"));
        Assert.Null(h.Alarm("hr.low"));
        Assert.All(h.EventsFor("hr.low")[2..], e => Assert.Equal(EngineHarness.Nurse, e.User));
    }

    [Fact]
    public void Observe_HighPriorityAcknowledgedThenConditionEnds_ClearsWithoutLatching()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 35, 11);
        h.Acknowledge("hr.low");

        h.Hold(Sign.Hr, 70, 20);

        Assert.Equal([AlarmState.Raised, AlarmState.Acknowledged, AlarmState.Cleared], h.StatesOf("hr.low"));
    }

    [Fact]
    public void Observe_MediumPriorityConditionEnds_ClearsWithoutLatching()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);

        h.Hold(Sign.Hr, 70, 20);

        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("hr.low"));
    }

    [Fact]
    public void Observe_ConditionReturnsWhileLatched_SameOccurrenceRaisedAgain()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 35, 11);
        h.Hold(Sign.Hr, 70, 20);

        h.Hold(Sign.Hr, 35, 11);

        Assert.Equal([AlarmState.Raised, AlarmState.Latched, AlarmState.Raised], h.StatesOf("hr.low"));
        var alarm = h.Alarm("hr.low");
        Assert.NotNull(alarm);
        Assert.False(alarm.Latched);
        Assert.Single(h.Engine.Alarms, a => a.Rule == "hr.low");
    }

    [Fact]
    public void Acknowledge_UnknownOrAlreadyAcknowledged_ReturnsFalseAndEmitsNothing()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);
        Assert.True(h.Acknowledge("hr.low"));
        var count = h.Events.Count;

        Assert.False(h.Acknowledge("hr.low"));
        Assert.False(h.Acknowledge("spo2.low"));

        Assert.Equal(count, h.Events.Count);
    }

    [Fact]
    public void Tick_AcknowledgedConditionPersists_ReannouncedAfterTwoMinutes()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);
        h.Acknowledge("hr.low");

        h.Hold(Sign.Hr, 45, 119);
        Assert.Equal([AlarmState.Raised, AlarmState.Acknowledged], h.StatesOf("hr.low"));
        h.Hold(Sign.Hr, 45, 1);

        Assert.Equal([AlarmState.Raised, AlarmState.Acknowledged, AlarmState.Reannounced], h.StatesOf("hr.low"));
        Assert.False(h.Alarm("hr.low")!.Acknowledged);
    }

    [Fact]
    public void Tick_ReannounceConfiguredToOneMinute_ReannouncedAfterOneMinute()
    {
        var h = new EngineHarness();
        Assert.True(h.Engine.Configuration.SetTimingValue("reannounce", 60, "admin", h.Now).Ok);
        h.Hold(Sign.Hr, 45, 11);
        h.Acknowledge("hr.low");

        h.Hold(Sign.Hr, 45, 60);

        Assert.Equal(AlarmState.Reannounced, h.StatesOf("hr.low")[^1]);
    }

    [Fact]
    public void Tick_AcknowledgedConditionClearedBeforeReannounce_NoReannounce()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);
        h.Acknowledge("hr.low");

        h.Hold(Sign.Hr, 70, 150);

        Assert.Equal([AlarmState.Raised, AlarmState.Acknowledged, AlarmState.Cleared], h.StatesOf("hr.low"));
    }

    [Fact]
    public void Tick_UnacknowledgedMediumForTwoMinutes_EscalatesToHigh()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);

        h.Hold(Sign.Hr, 45, 119);
        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.low"));
        h.Hold(Sign.Hr, 45, 1);

        var escalated = h.EventsFor("hr.low")[^1];
        Assert.Equal(AlarmState.Escalated, escalated.State);
        Assert.Equal(AlarmPriority.High, escalated.Priority);
        Assert.Contains("unacknowledged", escalated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tick_AcknowledgedMedium_DoesNotEscalate()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);
        h.Acknowledge("hr.low");

        h.Hold(Sign.Hr, 45, 119);

        Assert.DoesNotContain(AlarmState.Escalated, h.StatesOf("hr.low"));
        Assert.Equal(AlarmPriority.Medium, h.Alarm("hr.low")!.Priority);
    }

    [Fact]
    public void Observe_HigherPriorityBandWhileAcknowledged_BreaksThroughAsEscalated()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);
        h.Acknowledge("hr.low");

        h.Hold(Sign.Hr, 35, 1);

        var escalated = h.EventsFor("hr.low")[^1];
        Assert.Equal(AlarmState.Escalated, escalated.State);
        Assert.Equal(AlarmPriority.High, escalated.Priority);
        Assert.False(h.Alarm("hr.low")!.Acknowledged);
    }

    [Fact]
    public void Observe_ValueImprovesToMediumBandWhileHigh_PriorityNotLowered()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 35, 11);

        h.Hold(Sign.Hr, 45, 30);

        Assert.Equal(AlarmPriority.High, h.Alarm("hr.low")!.Priority);
        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.low"));
    }

    [Fact]
    public void Observe_InvalidQualityValue_NotJudged()
    {
        var h = new EngineHarness();
        for (var i = 0; i < 20; i++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            h.Observe(Sign.Hr, 20, quality: ObservationQuality.Invalid);
            h.Tick();
        }

        Assert.Empty(h.Engine.Alarms);
    }

    [Theory]
    [InlineData(Sign.Spo2, 127)]
    [InlineData(Sign.Hr, 400)]
    [InlineData(Sign.Temp, 5)]
    [InlineData(Sign.Hr, double.NaN)]
    public void Observe_ValueOutsideHardBounds_NotJudged(Sign sign, double value)
    {
        var h = new EngineHarness();

        h.Hold(sign, value, 70);

        Assert.DoesNotContain(h.Engine.Alarms, a => a.Kind == AlarmKind.Physiological);
    }

    [Fact]
    public void Observe_PulseRateWithoutEcg_JudgedAsHeartRate()
    {
        var h = new EngineHarness();

        h.Hold(Sign.Pr, 45, 11);

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.low"));
    }

    [Fact]
    public void Observe_PulseRateWhileEcgHeartRateFlows_Ignored()
    {
        var h = new EngineHarness();
        for (var i = 0; i < 20; i++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            h.Observe(Sign.Hr, 72);
            h.Observe(Sign.Pr, 45);
            h.Tick();
        }

        Assert.Empty(h.Engine.Alarms);
    }

    [Fact]
    public void Observe_HrChangesMoreThan25WithinFiveMinutes_RateAlarmRaised()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 70, 60);

        h.Hold(Sign.Hr, 96, 11);

        var raised = Assert.Single(h.EventsFor("hr.rate"));
        Assert.Equal(AlarmState.Raised, raised.State);
        Assert.Equal(26, raised.Value);
        Assert.Equal(25, raised.Limit);
    }

    [Fact]
    public void Observe_HrChangesExactly25WithinFiveMinutes_NoRateAlarm()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 70, 60);

        h.Hold(Sign.Hr, 95, 30);

        Assert.Empty(h.EventsFor("hr.rate"));
    }

    [Fact]
    public void Active_RaisedAndAcknowledged_ListsCurrentStates()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 45, 11);
        h.Observe(Sign.NibpSys, 170);
        h.Acknowledge("nibp_sys.high");

        IAlarmEngine engine = h.Engine;

        Assert.Equal(2, engine.Active.Count);
        Assert.Contains(engine.Active, e => e.Rule == "hr.low" && e.State == AlarmState.Raised);
        Assert.Contains(engine.Active, e => e.Rule == "nibp_sys.high" && e.State == AlarmState.Acknowledged && e.User == EngineHarness.Nurse);
    }

    [Fact]
    public void AcknowledgeChair_TwoAlarms_AcknowledgesBoth()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 170);
        h.Observe(Sign.NibpDia, 95);

        var count = h.Engine.AcknowledgeChair(EngineHarness.Chair, EngineHarness.Nurse, h.Now, h.Events);

        Assert.Equal(2, count);
        Assert.All(h.Engine.Alarms, a => Assert.True(a.Acknowledged));
    }
}
