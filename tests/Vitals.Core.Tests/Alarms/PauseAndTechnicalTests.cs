using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>Audio pause, breakthrough, feed loss, device and gateway faults, NIBP overdue.</summary>
public class PauseAndTechnicalTests
{
    [Fact]
    public void Pause_LongerThanTwoMinutes_CappedAtTwoMinutes()
    {
        var h = new EngineHarness();

        var granted = h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(5), h.Events);

        Assert.Equal(TimeSpan.FromMinutes(2), granted);
        Assert.Equal(TimeSpan.FromMinutes(2), h.Engine.PauseRemaining(EngineHarness.Chair, h.Now));
        var paused = Assert.Single(h.EventsFor(AlarmEngine.PauseRule));
        Assert.Equal(AlarmState.Paused, paused.State);
        Assert.Equal(EngineHarness.Nurse, paused.User);
        Assert.Equal(120, paused.Value);
    }

    [Fact]
    public void Pause_ZeroDuration_Throws()
    {
        var h = new EngineHarness();

        Assert.Throws<ArgumentOutOfRangeException>(() => h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.Zero, h.Events));
    }

    [Fact]
    public void PauseRemaining_CountsDownAndPauseExpiresWithResumedEvent()
    {
        var h = new EngineHarness();
        h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.FromSeconds(90), h.Events);

        h.Wait(TimeSpan.FromSeconds(30));
        Assert.Equal(TimeSpan.FromSeconds(60), h.Engine.PauseRemaining(EngineHarness.Chair, h.Now));
        h.Wait(TimeSpan.FromSeconds(59));
        Assert.Equal([AlarmState.Paused], h.StatesOf(AlarmEngine.PauseRule));
        h.Wait(TimeSpan.FromSeconds(1));

        Assert.Equal([AlarmState.Paused, AlarmState.Resumed], h.StatesOf(AlarmEngine.PauseRule));
        Assert.Equal(TimeSpan.Zero, h.Engine.PauseRemaining(EngineHarness.Chair, h.Now));
    }

    [Fact]
    public void Pause_NewMediumAlarmAtPausedChair_BreaksThrough()
    {
        var h = new EngineHarness();
        h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(2), h.Events);

        h.Observe(Sign.NibpSys, 85);

        Assert.Equal([AlarmState.Paused, AlarmState.Resumed], h.StatesOf(AlarmEngine.PauseRule));
        Assert.Contains("breaks through", h.EventsFor(AlarmEngine.PauseRule)[^1].Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.Zero, h.Engine.PauseRemaining(EngineHarness.Chair, h.Now));
    }

    [Fact]
    public void Pause_NewLowPriorityAlarm_DoesNotBreakThrough()
    {
        var h = new EngineHarness();
        h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(2), h.Events);

        h.Hold(Sign.Temp, 35.5, 61);

        Assert.Equal([AlarmState.Raised], h.StatesOf("temp.low"));
        Assert.Equal([AlarmState.Paused], h.StatesOf(AlarmEngine.PauseRule));
        Assert.Equal(TimeSpan.FromSeconds(59), h.Engine.PauseRemaining(EngineHarness.Chair, h.Now));
    }

    [Fact]
    public void Pause_EscalationOfExistingAlarm_BreaksThrough()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 85);
        h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(2), h.Events);
        h.Clock.Advance(TimeSpan.FromSeconds(30));

        h.Observe(Sign.NibpSys, 75);

        Assert.Equal(AlarmState.Escalated, h.StatesOf("nibp_sys.low")[^1]);
        Assert.Equal(AlarmState.Resumed, h.StatesOf(AlarmEngine.PauseRule)[^1]);
    }

    [Fact]
    public void Pause_AllChairsThenAlarmAtOneChair_OnlyThatChairBreaksThrough()
    {
        var h = new EngineHarness();
        h.Engine.Pause(null, EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(2), h.Events);
        h.Clock.Advance(TimeSpan.FromSeconds(10));

        h.Observe(Sign.NibpSys, 85, chair: "c2");

        Assert.Equal(TimeSpan.Zero, h.Engine.PauseRemaining("c2", h.Now));
        Assert.Equal(TimeSpan.FromSeconds(110), h.Engine.PauseRemaining("c1", h.Now));
        Assert.Equal(AlarmEngine.AllChairs, h.Events[0].Chair);
    }

    [Fact]
    public void ResumeAudio_PausedChair_EndsPauseEarly()
    {
        var h = new EngineHarness();
        h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(2), h.Events);

        h.Engine.ResumeAudio(EngineHarness.Chair, EngineHarness.Nurse, h.Now, h.Events);

        Assert.Equal([AlarmState.Paused, AlarmState.Resumed], h.StatesOf(AlarmEngine.PauseRule));
        Assert.Equal(TimeSpan.Zero, h.Engine.PauseRemaining(EngineHarness.Chair, h.Now));
    }

    [Fact]
    public void Tick_NoDataFor15s_FeedLostMediumThenHighAt60s()
    {
        var h = new EngineHarness();
        h.Observe(Sign.Hr, 72);

        h.Wait(TimeSpan.FromSeconds(14));
        Assert.Empty(h.EventsFor(AlarmEngine.FeedLostRule));
        h.Wait(TimeSpan.FromSeconds(1));
        var raised = Assert.Single(h.EventsFor(AlarmEngine.FeedLostRule));
        Assert.Equal((AlarmState.Raised, AlarmPriority.Medium, AlarmKind.Technical), (raised.State, raised.Priority, raised.Kind));

        h.Wait(TimeSpan.FromSeconds(44));
        Assert.Single(h.EventsFor(AlarmEngine.FeedLostRule));
        h.Wait(TimeSpan.FromSeconds(1));

        var escalated = h.EventsFor(AlarmEngine.FeedLostRule)[^1];
        Assert.Equal((AlarmState.Escalated, AlarmPriority.High), (escalated.State, escalated.Priority));
        Assert.Equal(60, escalated.Limit);
    }

    [Fact]
    public void Observe_DataReturnsAfterFeedLostHigh_ClearsWithoutLatching()
    {
        var h = new EngineHarness();
        h.Observe(Sign.Hr, 72);
        h.Wait(TimeSpan.FromSeconds(15));
        h.Wait(TimeSpan.FromSeconds(45));

        h.Observe(Sign.Hr, 72);

        Assert.Equal([AlarmState.Raised, AlarmState.Escalated, AlarmState.Cleared], h.StatesOf(AlarmEngine.FeedLostRule));
        Assert.Empty(h.Engine.Alarms);
    }

    [Fact]
    public void Tick_StaleViolatingSample_DoesNotRaiseAfterFeedLost()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Rr, 5, 5);

        h.Wait(TimeSpan.FromSeconds(40));

        Assert.Empty(h.EventsFor("rr.low"));
        Assert.NotEmpty(h.EventsFor(AlarmEngine.FeedLostRule));
    }

    [Fact]
    public void ReleaseChair_FeedLost_ClearedAndNoLongerWatched()
    {
        var h = new EngineHarness();
        h.Observe(Sign.Hr, 72);
        h.Wait(TimeSpan.FromSeconds(20));

        h.Engine.ReleaseChair(EngineHarness.Chair, h.Now, h.Events);
        h.Wait(TimeSpan.FromMinutes(5));

        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf(AlarmEngine.FeedLostRule));
    }

    [Fact]
    public void ReportTechnical_SensorOffActiveThenInactive_RaisedThenCleared()
    {
        var h = new EngineHarness();

        h.Engine.ReportTechnical(EngineHarness.Chair, "sensor_off", "SpO2 sensor off", true, h.Now, h.Events);
        var alarm = h.Alarm("device.sensor_off");
        Assert.NotNull(alarm);
        Assert.Equal((AlarmKind.Technical, AlarmPriority.Medium), (alarm.Kind, alarm.Priority));

        h.Engine.ReportTechnical(EngineHarness.Chair, "sensor_off", "SpO2 sensor off", false, h.Now, h.Events);

        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("device.sensor_off"));
    }

    [Fact]
    public void ReportGatewayFault_StoreFailure_RaisedOnGatewayChairAndEscalatesWhenIgnored()
    {
        var h = new EngineHarness();

        h.Engine.ReportGatewayFault("store", "SQLite store not writable", true, h.Now, h.Events);
        h.Wait(TimeSpan.FromMinutes(2));

        Assert.Equal([AlarmState.Raised, AlarmState.Escalated], h.StatesOf("gateway.store", AlarmEngine.GatewayChair));
        Assert.Empty(h.EventsFor(AlarmEngine.FeedLostRule, AlarmEngine.GatewayChair));
    }

    [Fact]
    public void ReportGatewayFault_ReportedAgainWithHigherPriority_EscalatesToIt()
    {
        var h = new EngineHarness();

        h.Engine.ReportGatewayFault("backlog", "Forwarding backlog is near its limit", true, h.Now, h.Events, AlarmPriority.Medium);
        h.Engine.ReportGatewayFault("backlog", "Forwarding backlog is at its limit", true, h.Now, h.Events, AlarmPriority.High);

        var events = h.EventsFor("gateway.backlog", AlarmEngine.GatewayChair);
        Assert.Equal([(AlarmState.Raised, AlarmPriority.Medium), (AlarmState.Escalated, AlarmPriority.High)], events.Select(e => (e.State, e.Priority)));
        Assert.Equal("Forwarding backlog is at its limit", events[^1].Message);
    }

    [Fact]
    public void Tick_NoNibpForCyclePlusFiveMinutesDuringInfusion_NibpOverdueRaised()
    {
        var h = new EngineHarness();
        h.StartSession(nibpCycle: TimeSpan.FromMinutes(5));

        h.Wait(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.Empty(h.EventsFor(AlarmEngine.NibpOverdueRule));
        h.Wait(TimeSpan.FromSeconds(1));

        var raised = Assert.Single(h.EventsFor(AlarmEngine.NibpOverdueRule));
        Assert.Equal((AlarmState.Raised, AlarmPriority.Medium, AlarmKind.Technical), (raised.State, raised.Priority, raised.Kind));

        h.Observe(Sign.NibpSys, 120);
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf(AlarmEngine.NibpOverdueRule));
    }

    [Fact]
    public void Tick_NoSession_NibpNeverOverdue()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 120);

        h.Wait(TimeSpan.FromHours(1));

        Assert.Empty(h.EventsFor(AlarmEngine.NibpOverdueRule));
    }
}
