using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>hr.rate as an advisory, list order, pause events, message text and site keys (issues 11 and 14).</summary>
public class RateOrderAndTextTests
{
    [Fact]
    public void Observe_HrTransientPasses_RateAdvisoryEndsWithinClearTime()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 70, 60);
        h.Hold(Sign.Hr, 100, 15);
        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.rate"));

        h.Hold(Sign.Hr, 70, 11);

        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("hr.rate"));
        Assert.Null(h.Alarm("hr.rate"));
    }

    [Fact]
    public void Observe_FortyMinutesOfWanderingHr_RateValueIsTheChangeFromTheEarliestReadingInTheWindow()
    {
        // The engine finds the window's start by binary search; this walks every earlier reading, as the rule reads.
        var h = new EngineHarness();
        var random = new Random(15);
        var seen = new List<(DateTimeOffset At, double Value)>();
        var hr = 80.0;
        var compared = 0;
        for (var second = 0; second < 2400; second++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            hr = Math.Clamp(hr + random.Next(-4, 5), 55, 115);
            var from = h.Now - TimeSpan.FromMinutes(5);
            var start = seen.FirstOrDefault(r => r.At >= from);
            var expected = start == default ? 0 : Math.Abs(hr - start.Value);
            h.Observe(Sign.Hr, hr);
            h.Tick();
            seen.Add((h.Now, hr));
            if (expected > 25 && h.Alarm("hr.rate") is { ConditionActive: true } alarm)
            {
                Assert.Equal(expected, alarm.Value);
                compared++;
            }
        }

        Assert.True(compared > 100, $"only {compared} readings with an active rate advisory to compare");
    }

    [Fact]
    public void Observe_ReadingOlderThanTheLastArrives_KeptInTimeOrderForTheRateWindow()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 70, 60); // 08:00:01 .. 08:01:00
        h.Clock.Advance(TimeSpan.FromMinutes(2));
        h.Observe(Sign.Hr, 70); // 08:03:00
        var late = h.Now - TimeSpan.FromMinutes(1);
        h.Engine.Observe(new Observation(EngineHarness.Site, EngineHarness.Chair, "d", Sign.Hr, 40, late, late, SourceProtocol.Simulator), h.Events);

        // Windows starting 08:01:05 .. 08:01:24: the late 40 of 08:02:00 is the earliest reading in each.
        h.Clock.Advance(TimeSpan.FromSeconds(184));
        h.Hold(Sign.Hr, 70, 20);

        Assert.Equal(30, h.Alarm("hr.rate")?.Value);
    }

    [Fact]
    public void Tick_RateAdvisoryUnacknowledged_NeverEscalatesNorLatches()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 70, 60);

        h.Hold(Sign.Hr, 100, 200);

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.rate"));
        Assert.Equal(AlarmPriority.Medium, h.Alarm("hr.rate")!.Priority);
    }

    [Fact]
    public void Restart_ActiveRateAdvisory_HistorySurvivesSoItStaysActive()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 70, 60);
        h.Hold(Sign.Hr, 100, 15);

        h.Restart();
        h.Hold(Sign.Hr, 100, 30);

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.rate"));
        Assert.Equal(30, h.Alarm("hr.rate")!.Value);
    }

    [Fact]
    public void Restart_BeforeAChange_ChangeAcrossTheRestartRaisesRateAdvisory()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 70, 60);

        h.Restart();
        h.Hold(Sign.Hr, 100, 11);

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.rate"));
    }

    [Fact]
    public void Alarms_SeveralChairs_OrderedByPriorityThenLongestStanding()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 85, chair: "c3");       // medium, first
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        h.Observe(Sign.NibpSys, 85, chair: "c1");       // medium, later
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        h.Observe(Sign.NibpSys, 75, chair: "c2");       // high, last

        Assert.Equal(["c2", "c3", "c1"], h.Engine.Alarms.Select(a => a.Chair));
        Assert.Equal(["c2", "c3", "c1"], h.Engine.Active.Select(a => a.Chair));
    }

    [Fact]
    public void Pause_PauseAndResumeEvents_CarryNoPriority()
    {
        var h = new EngineHarness();

        h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(1), h.Events);
        h.Engine.Pause(null, EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(1), h.Events);
        h.Wait(TimeSpan.FromMinutes(1));

        var events = h.Events.Where(e => e.Rule == AlarmEngine.PauseRule).ToList();
        Assert.Equal(4, events.Count);
        Assert.All(events, e => Assert.Null(e.Priority));
    }

    [Theory]
    [InlineData(41, AlarmPriority.High, "Heart rate low: 41 /min (limit < 45)")]
    [InlineData(48, AlarmPriority.Medium, "Heart rate low: 48 /min (limit < 50)")]
    public void Observe_LimitCrossed_MessageQuotesThatLimit(double value, AlarmPriority priority, string message)
    {
        var h = new EngineHarness();
        Assert.True(h.Engine.Configuration.SetChairOverride(EngineHarness.Chair, "hr.low.high", 45, "admin", h.Now).Ok);

        h.Hold(Sign.Hr, value, 11);

        var raised = Assert.Single(h.EventsFor("hr.low"));
        Assert.Equal((priority, message), (raised.Priority!.Value, raised.Message));
    }

    [Fact]
    public void Tick_CheckDroppedFromTheProfile_PromptReadsAsWordsNotAnId()
    {
        var h = new EngineHarness();
        var session = h.StartSession(drug: "magnesium sulfate");
        h.Engine.UpdateSession(session with { Profile = AlarmProfiles.DefaultAdultName }, h.Now, h.Events);

        h.Wait(TimeSpan.FromMinutes(15));

        var prompt = Assert.Single(h.EventsFor("check.patellar_reflex"));
        Assert.Equal("patellar reflex and confirm", prompt.Message);
    }

    [Fact]
    public void Observe_SameChairIdAtTwoSites_KeptApart()
    {
        var h = new EngineHarness();
        for (var i = 0; i < 11; i++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            h.Engine.Observe(new Observation("north", "c1", "d1", Sign.Hr, 45, h.Now, h.Now, SourceProtocol.Simulator), h.Events);
            h.Engine.Observe(new Observation("south", "c1", "d2", Sign.Hr, 70, h.Now, h.Now, SourceProtocol.Simulator), h.Events);
            h.Tick();
        }

        var alarm = Assert.Single(h.Engine.Alarms);
        Assert.Equal(("north", "c1", "hr.low"), (alarm.Site, alarm.Chair, alarm.Rule));
    }
}
