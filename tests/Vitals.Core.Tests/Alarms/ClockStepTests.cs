using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>
/// Alarms fire on time whatever the system clock does. The engine runs on the wall clock; when it is stepped (NTP after
/// boot, an admin) while real time runs on, <see cref="WallClockSteps"/> notices it against the monotonic clock and
/// <see cref="AlarmEngine.ClockStepped"/> moves every kept time, as the gateway's alarm service does before each commit.
/// </summary>
public class ClockStepTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Theory]
    [InlineData(-3600)]
    [InlineData(3600)]
    [InlineData(-3)]
    public void Observe_ClockSteppedWhileHrIsLow_HrLowRaisedAfterItsDelayOfRealTime(int stepSeconds)
    {
        var h = new SteppedEngine();
        h.Hold(Sign.Hr, 35, 4);
        h.Clock.Step(TimeSpan.FromSeconds(stepSeconds));

        h.Hold(Sign.Hr, 35, 6); // the first low reading is 9 s of real time old: under the 10 s delay
        Assert.Empty(h.EventsFor("hr.low"));
        h.Hold(Sign.Hr, 35, 1);

        var raised = Assert.Single(h.EventsFor("hr.low"));
        Assert.Equal((AlarmState.Raised, AlarmPriority.High), (raised.State, raised.Priority!.Value));
        Assert.Equal(h.Clock.GetUtcNow(), raised.At); // events carry the new wall clock
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(3600)]
    public void Tick_ClockSteppedThenFeedSilent_FeedLostAfterItsTimeoutsOfRealTime(int stepSeconds)
    {
        var h = new SteppedEngine();
        h.Hold(Sign.Hr, 75, 5);
        h.Clock.Step(TimeSpan.FromSeconds(stepSeconds));

        h.Quiet(14);
        Assert.Empty(h.EventsFor(AlarmEngine.FeedLostRule));
        h.Quiet(1);
        Assert.Equal(AlarmPriority.Medium, h.Alarm(AlarmEngine.FeedLostRule)?.Priority);
        h.Quiet(44);
        Assert.Equal(AlarmPriority.Medium, h.Alarm(AlarmEngine.FeedLostRule)?.Priority);
        h.Quiet(1);
        Assert.Equal(AlarmPriority.High, h.Alarm(AlarmEngine.FeedLostRule)?.Priority);
    }

    [Fact]
    public void Tick_ClockSteppedBackWhileASignIsMissing_SignalLostAfterItsRealTimeout()
    {
        var h = new SteppedEngine();
        h.Hold(Sign.Spo2, 97, 5);
        h.Clock.Step(-Hour);

        h.Hold(Sign.Hr, 75, 29);
        Assert.Empty(h.EventsFor("spo2.lost"));
        h.Hold(Sign.Hr, 75, 1);
        Assert.Equal([AlarmState.Raised], h.StatesOf("spo2.lost"));
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(3600)]
    public void Pause_ClockSteppedDuringAPause_PauseEndsAfterItsRealLength(int stepSeconds)
    {
        var h = new SteppedEngine();
        h.Hold(Sign.Hr, 75, 1);
        h.Engine.Pause(null, EngineHarness.Nurse, h.Now(), TimeSpan.FromMinutes(2), h.Events);
        h.Hold(Sign.Hr, 75, 30);
        h.Clock.Step(TimeSpan.FromSeconds(stepSeconds));

        h.Hold(Sign.Hr, 75, 89);
        Assert.Equal(TimeSpan.FromSeconds(1), h.Engine.PauseRemaining(EngineHarness.Chair, h.Now()));
        Assert.DoesNotContain(h.Events, e => e.Rule == AlarmEngine.PauseRule && e.State == AlarmState.Resumed);
        h.Hold(Sign.Hr, 75, 1);
        Assert.Contains(h.Events, e => e.Rule == AlarmEngine.PauseRule && e.State == AlarmState.Resumed && e.Message == "Audio pause ended (all chairs)");
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(3600)]
    public void Tick_ClockSteppedWhileAMediumAlarmIsUnacknowledged_EscalatesAfterItsRealTime(int stepSeconds)
    {
        var h = new SteppedEngine();
        h.Hold(Sign.NibpSys, 85, 1);
        Assert.Equal(AlarmPriority.Medium, h.Alarm("nibp_sys.low")?.Priority);
        h.Quiet(60, Sign.Hr);
        h.Clock.Step(TimeSpan.FromSeconds(stepSeconds));

        h.Quiet(59, Sign.Hr);
        Assert.Equal(AlarmPriority.Medium, h.Alarm("nibp_sys.low")?.Priority);
        h.Quiet(1, Sign.Hr);
        Assert.Equal(AlarmPriority.High, h.Alarm("nibp_sys.low")?.Priority);
    }

    [Fact]
    public void Tick_ClockSteppedForwardAfterAnAcknowledgement_ReannouncedAfterItsRealDelay()
    {
        var h = new SteppedEngine();
        h.Hold(Sign.NibpSys, 85, 1);
        Assert.True(h.Engine.Acknowledge(EngineHarness.Chair, "nibp_sys.low", EngineHarness.Nurse, h.Now(), h.Events));
        h.Quiet(30, Sign.Hr);
        h.Clock.Step(Hour);

        h.Quiet(89, Sign.Hr);
        Assert.Equal(AlarmState.Acknowledged, h.Alarm("nibp_sys.low")?.State);
        h.Quiet(1, Sign.Hr);
        Assert.Equal(AlarmState.Reannounced, h.Alarm("nibp_sys.low")?.State);
    }

    [Fact]
    public void Observe_ClockSteppedBackBetweenTwoHeartRateLevels_RateOfChangeComparesWithRealTimeHistory()
    {
        var h = new SteppedEngine();
        h.Hold(Sign.Hr, 70, 60);
        h.Clock.Step(-Hour);

        h.Hold(Sign.Hr, 100, 15);

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.rate"));
        Assert.Equal(30, h.Alarm("hr.rate")?.Value);
    }

    [Fact]
    public void Tick_ClockSteppedBackDuringAnInfusion_NibpOverdueAfterItsRealCycle()
    {
        var h = new SteppedEngine();
        h.Engine.StartSession(new InfusionSession("s-1", EngineHarness.Chair, "P-1042", "iron sucrose", 1, null, h.Now(), NibpCycle: TimeSpan.FromMinutes(5)), h.Now(), h.Events);
        h.Quiet(120, Sign.Hr);
        h.Clock.Step(-Hour);

        h.Quiet(479, Sign.Hr); // 10 min of real time less a second since the start: cycle 5 min + 5 min grace
        Assert.Empty(h.EventsFor(AlarmEngine.NibpOverdueRule));
        h.Quiet(1, Sign.Hr);
        Assert.Equal([AlarmState.Raised], h.StatesOf(AlarmEngine.NibpOverdueRule));
    }

    [Fact]
    public void Snapshot_ClockSteppedBack_RestoredEngineKeepsTheRealRemainingPause()
    {
        var h = new SteppedEngine();
        h.Hold(Sign.Hr, 75, 1);
        h.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, h.Now(), TimeSpan.FromMinutes(2), h.Events);
        h.Hold(Sign.Hr, 75, 20);
        h.Clock.Step(-Hour);
        h.Hold(Sign.Hr, 75, 10);

        var restored = new AlarmEngine(h.Engine.Configuration, EngineHarness.Site);
        restored.Restore(h.Engine.Snapshot(), h.Now());

        Assert.Equal(TimeSpan.FromSeconds(90), restored.PauseRemaining(EngineHarness.Chair, h.Now()));
    }

    [Fact]
    public void Restore_OnABootClockADayBehindThenNtpStepsIt_RestoredPauseNeverOutlastsTheMaximum()
    {
        // A box without a real-time clock restarts a day behind and restores a pause saved on the right clock: the pause
        // seems to end a day from now, and would still after NTP steps the clock (the pause moves with the step).
        var before = new SteppedEngine();
        before.Hold(Sign.Hr, 75, 1);
        before.Engine.Pause(EngineHarness.Chair, EngineHarness.Nurse, before.Now(), TimeSpan.FromMinutes(2), before.Events);
        var h = new SteppedEngine(before.Clock.GetUtcNow() - TimeSpan.FromDays(1));
        h.Engine.Restore(before.Engine.Snapshot(), h.Now());

        h.Hold(Sign.Hr, 75, 10); // the first tick cuts the pause to the 2 min maximum
        Assert.Equal(TimeSpan.FromSeconds(111), h.Engine.PauseRemaining(EngineHarness.Chair, h.Now()));
        h.Clock.Step(TimeSpan.FromDays(1));
        h.Hold(Sign.Hr, 75, 1);
        Assert.Equal(TimeSpan.FromSeconds(110), h.Engine.PauseRemaining(EngineHarness.Chair, h.Now()));

        h.Hold(Sign.Hr, 75, 110);
        Assert.Equal(TimeSpan.Zero, h.Engine.PauseRemaining(EngineHarness.Chair, h.Now()));
    }

    [Fact]
    public void Restore_OnABootClockADayBehindThenNtpStepsIt_RestoredAlarmEscalatesAfterItsRealTimeFromTheRestart()
    {
        var before = new SteppedEngine();
        before.Hold(Sign.NibpSys, 85, 1);
        var h = new SteppedEngine(before.Clock.GetUtcNow() - TimeSpan.FromDays(1));
        h.Engine.Restore(before.Engine.Snapshot(), h.Now());

        h.Quiet(60, Sign.Hr);
        h.Clock.Step(TimeSpan.FromDays(1));
        h.Quiet(59, Sign.Hr);
        Assert.Equal(AlarmPriority.Medium, h.Alarm("nibp_sys.low")?.Priority);
        h.Quiet(1, Sign.Hr);

        Assert.Equal(AlarmPriority.High, h.Alarm("nibp_sys.low")?.Priority);
    }

    [Fact]
    public void Check_WallAndMonotonicClocksAgreeOrSlew_NoStep()
    {
        var clock = new SteppedClock(new DateTimeOffset(2026, 12, 5, 6, 0, 0, TimeSpan.Zero));
        var steps = new WallClockSteps();
        Assert.Null(steps.Check(clock.GetUtcNow(), clock.GetTimestamp(), clock.TimestampFrequency));

        for (var i = 0; i < 1000; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            clock.Step(TimeSpan.FromMilliseconds(i % 2 == 0 ? 0.5 : -0.5)); // NTP slewing at its 500 ppm limit
            Assert.Null(steps.Check(clock.GetUtcNow(), clock.GetTimestamp(), clock.TimestampFrequency));
        }

        clock.Step(WallClockSteps.DefaultTolerance - TimeSpan.FromMilliseconds(1));
        Assert.Null(steps.Check(clock.GetUtcNow(), clock.GetTimestamp(), clock.TimestampFrequency));
        Assert.Equal(0, steps.Count);
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(2)]
    [InlineData(86400)]
    public void Check_WallClockStepped_StepReportedOnceWithItsSize(int stepSeconds)
    {
        var clock = new SteppedClock(new DateTimeOffset(2026, 12, 5, 6, 0, 0, TimeSpan.Zero));
        var steps = new WallClockSteps();
        steps.Check(clock.GetUtcNow(), clock.GetTimestamp(), clock.TimestampFrequency);
        clock.Advance(TimeSpan.FromSeconds(1));
        clock.Step(TimeSpan.FromSeconds(stepSeconds));

        var step = steps.Check(clock.GetUtcNow(), clock.GetTimestamp(), clock.TimestampFrequency);
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromSeconds(stepSeconds), step?.By);
        Assert.Equal(clock.GetUtcNow() - TimeSpan.FromSeconds(1), step?.At);
        Assert.Null(steps.Check(clock.GetUtcNow(), clock.GetTimestamp(), clock.TimestampFrequency));
        Assert.Equal((1L, step), (steps.Count, steps.Last));
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(3600)]
    public void IsBefore_TimesOnTheOldAndTheNewClock_TellsThemApart(int stepSeconds)
    {
        var by = TimeSpan.FromSeconds(stepSeconds);
        var noticed = new DateTimeOffset(2026, 12, 5, 6, 0, 0, TimeSpan.Zero);
        var step = new WallClockStep(by, noticed);

        Assert.True(step.IsBefore(noticed - by));                              // read from the old clock as it stepped
        Assert.True(step.IsBefore(noticed - by - TimeSpan.FromMinutes(20)));   // kept from long before
        Assert.False(step.IsBefore(noticed));
        Assert.False(step.IsBefore(noticed - TimeSpan.FromSeconds(5)));        // read from the new clock since the step
    }

    /// <summary>
    /// An engine driven as the gateway drives it: the wall clock of a <see cref="SteppedClock"/> read at the edge, a step
    /// noticed against its monotonic clock before the engine sees the new time, a reading and a tick each second.
    /// </summary>
    private sealed class SteppedEngine(DateTimeOffset? start = null)
    {
        private readonly WallClockSteps steps = new();

        public SteppedClock Clock { get; } = new(start ?? new DateTimeOffset(2026, 12, 5, 6, 0, 0, TimeSpan.Zero));

        public AlarmEngine Engine { get; } = new(site: EngineHarness.Site);

        public List<AlarmEvent> Events { get; } = [];

        /// <summary>The wall clock, after moving the engine's times by any step since the last read.</summary>
        public DateTimeOffset Now()
        {
            var now = Clock.GetUtcNow();
            if (steps.Check(now, Clock.GetTimestamp(), Clock.TimestampFrequency) is { } step)
            {
                Engine.ClockStepped(step.By);
            }

            return now;
        }

        /// <summary>Each second: a reading stamped with the wall clock, then a tick.</summary>
        public void Hold(Sign sign, double value, int seconds)
        {
            for (var i = 0; i < seconds; i++)
            {
                Clock.Advance(TimeSpan.FromSeconds(1));
                var now = Now();
                Engine.Observe(new Observation(EngineHarness.Site, EngineHarness.Chair, "dev-1", sign, value, now, now, SourceProtocol.Simulator), Events);
                Engine.Tick(now, Events);
            }
        }

        /// <summary>Each second a tick; with <paramref name="keepAlive"/>, a normal reading of it keeps the feed alive.</summary>
        public void Quiet(int seconds, Sign? keepAlive = null)
        {
            for (var i = 0; i < seconds; i++)
            {
                if (keepAlive is { } sign)
                {
                    Hold(sign, 75, 1);
                    continue;
                }

                Clock.Advance(TimeSpan.FromSeconds(1));
                Engine.Tick(Now(), Events);
            }
        }

        public List<AlarmEvent> EventsFor(string rule) => [.. Events.Where(e => e.Rule == rule && e.Chair == EngineHarness.Chair)];

        public AlarmState[] StatesOf(string rule) => [.. EventsFor(rule).Select(e => e.State)];

        public ActiveAlarm? Alarm(string rule) => Engine.Alarms.FirstOrDefault(a => a.Rule == rule && a.Chair == EngineHarness.Chair);
    }
}
