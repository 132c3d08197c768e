using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>Whole infusions at accelerated time: continuous signs every 5 s, NIBP every 5 min.</summary>
public class InfusionScenarioTests
{
    private static void Vitals(EngineHarness h, int seconds, double hr, double spo2, double rr)
    {
        for (var t = 0; t < seconds; t += 5)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(5));
            h.Observe(Sign.Hr, hr);
            h.Observe(Sign.Spo2, spo2);
            h.Observe(Sign.Rr, rr);
            h.Tick();
        }
    }

    private static void Nibp(EngineHarness h, double sys, double dia, double map)
    {
        h.Observe(Sign.NibpSys, sys);
        h.Observe(Sign.NibpDia, dia);
        h.Observe(Sign.NibpMap, map);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MgSo4Infusion_RespiratoryDepressionAndHypotension_FullAlarmLifecycle(bool restartMidway)
    {
        var h = new EngineHarness();

        // Ten minutes before the infusion: three cuff readings and steady continuous signs.
        Nibp(h, 132, 82, 99);
        Vitals(h, 300, 78, 98, 16);
        Nibp(h, 128, 80, 96);
        Vitals(h, 300, 78, 98, 16);
        Nibp(h, 130, 81, 97);

        h.StartSession(drug: "magnesium sulfate", rate: 2, nibpCycle: TimeSpan.FromMinutes(5));
        var proposal = h.Engine.GetBaselineStatus(EngineHarness.Chair, h.Now);
        Assert.Equal(BaselineState.Proposed, proposal.State);
        Assert.Equal((130d, 97d, 78d, 16d), (proposal.Baseline!.Sys, proposal.Baseline.Map, proposal.Baseline.Hr, proposal.Baseline.Rr));
        Assert.Equal(BaselineState.Confirmed, h.Engine.ConfirmBaseline(EngineHarness.Chair, EngineHarness.Nurse, h.Now).State);

        // Fifteen quiet minutes; the first nursing checks come due and are confirmed.
        for (var i = 0; i < 3; i++)
        {
            Vitals(h, 300, 78, 98, 16);
            Nibp(h, 129, 80, 96);
        }

        foreach (var check in AlarmProfiles.MgSo4.Checks)
        {
            Assert.True(h.Engine.ConfirmCheck(EngineHarness.Chair, check.Id, EngineHarness.Nurse, h.Now, h.Events));
        }

        Assert.DoesNotContain(h.Events, e => e.Sign is not null);

        // Breathing slows to 13/min: medium after the 30 s delay; acknowledged; re-announced 2 min later.
        Vitals(h, 35, 78, 98, 13);
        Assert.Equal(AlarmPriority.Medium, h.Alarm("rr.low")!.Priority);
        h.Acknowledge("rr.low");
        Vitals(h, 120, 78, 98, 13);

        // 11/min breaks through at high priority at once.
        Vitals(h, 5, 78, 98, 11);
        Assert.Equal(AlarmPriority.High, h.Alarm("rr.low")!.Priority);

        if (restartMidway)
        {
            h.Restart();
        }

        // The next cuff reading is 23 % below baseline.
        Nibp(h, 100, 65, 77);
        Assert.Equal(AlarmPriority.Medium, h.Alarm("nibp_sys.drop")!.Priority);
        Assert.Equal(AlarmPriority.Medium, h.Alarm("nibp_map.drop")!.Priority);

        // Breathing recovers: the high alarm latches until a nurse acknowledges it.
        Vitals(h, 30, 78, 98, 16);
        Assert.True(h.Alarm("rr.low")!.Latched);
        h.Acknowledge("rr.low");

        Assert.Equal(
            [AlarmState.Raised, AlarmState.Acknowledged, AlarmState.Reannounced, AlarmState.Escalated, AlarmState.Latched, AlarmState.Acknowledged, AlarmState.Cleared],
            h.StatesOf("rr.low"));
        Assert.Equal(3, h.Events.Count(e => e.Rule.StartsWith(AlarmEngine.CheckRulePrefix, StringComparison.Ordinal) && e.State == AlarmState.Cleared));
        Assert.Empty(h.EventsFor(AlarmEngine.FeedLostRule));
        Assert.Empty(h.EventsFor(AlarmEngine.NibpOverdueRule));
        Assert.Empty(h.EventsFor(AlarmEngine.MagnesiumRateRule));
        Assert.Equal(["nibp_map.drop", "nibp_sys.drop"], h.Engine.Alarms.Select(a => a.Rule));
    }

    [Fact]
    public void Infusion_MonitorUnpluggedForTwoMinutes_FeedLostThenNibpOverdueThenRecovery()
    {
        var h = new EngineHarness();
        h.StartSession(nibpCycle: TimeSpan.FromMinutes(5));
        Nibp(h, 125, 80, 95);
        Vitals(h, 60, 72, 97, 14);

        h.Wait(TimeSpan.FromSeconds(15));
        h.Wait(TimeSpan.FromSeconds(45));
        h.Wait(TimeSpan.FromMinutes(8) + TimeSpan.FromSeconds(1));
        Nibp(h, 124, 79, 94);
        Vitals(h, 10, 72, 97, 14);

        Assert.Equal([AlarmState.Raised, AlarmState.Escalated, AlarmState.Cleared], h.StatesOf(AlarmEngine.FeedLostRule));
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf(AlarmEngine.NibpOverdueRule));
        Assert.Empty(h.Engine.Alarms);
    }

    [Fact]
    public void StatusOf_ChairWithAlarmPauseAndSession_SummarisesForDashboard()
    {
        var h = new EngineHarness();
        h.StartSession(drug: "magnesium sulfate", rate: 4);
        h.Observe(Sign.NibpSys, 85);
        h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(1), h.Events);

        var status = h.Engine.StatusOf(EngineHarness.Chair, h.Now + TimeSpan.FromSeconds(20));

        Assert.Equal(["mg.rate", "nibp_sys.low"], status.Alarms.Select(a => a.Rule));
        Assert.Equal(TimeSpan.FromSeconds(40), status.PauseRemaining);
        Assert.Equal(BaselineState.Collecting, status.Baseline.State);
        Assert.Equal(3, status.ChecksDue.Count);
        Assert.Single(status.MagnesiumWarnings);
        Assert.Equal("P-1042", status.Session!.PatientPseudonym);
    }
}
