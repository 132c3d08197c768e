using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>
/// The reading history holds only what the rate rules and the baseline proposal read: the signs, the spans, a
/// pending baseline's pre-infusion window, and what a rule added or lengthened at runtime gets.
/// </summary>
public class HistoryKeptTests
{
    /// <summary>Every sign a monitor sends at 1 Hz (temperature each minute, NIBP each 5 min) for <paramref name="minutes"/>.</summary>
    private static void Monitor(EngineHarness h, int minutes, double hr = 72, double rr = 16, double sys = 130)
    {
        for (var second = 0; second < minutes * 60; second++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            h.Observe(Sign.Hr, hr);
            h.Observe(Sign.Pr, hr);
            h.Observe(Sign.Spo2, 97);
            h.Observe(Sign.Rr, rr);
            if (second % 60 == 0)
            {
                h.Observe(Sign.Temp, 36.8);
            }

            if (second % 300 == 0)
            {
                h.Observe(Sign.NibpSys, sys);
                h.Observe(Sign.NibpDia, 80);
                h.Observe(Sign.NibpMap, 97);
            }

            h.Tick();
        }
    }

    /// <summary>Readings older than needed are dropped in batches: up to 63 may still be there.</summary>
    private static void AssertKept(int needed, int kept) => Assert.InRange(kept, needed, needed + 63);

    private static AlarmConfiguration WithRateRules(params RateOfChangeRule[] rules) =>
        new([AlarmProfiles.DefaultAdult with { RateRules = rules }, AlarmProfiles.MgSo4]);

    private static void PutDefaultRateRules(EngineHarness h, params RateOfChangeRule[] rules) =>
        Assert.True(h.Engine.Configuration.PutProfile(AlarmProfiles.DefaultAdult with { RateRules = rules }, "admin", h.Now).Ok);

    [Fact]
    public void TwentyMinutesOfEverySign_DefaultProfiles_KeepsOnlyHeartRateRespirationAndNibpOverTheirWindows()
    {
        var h = new EngineHarness();

        Monitor(h, minutes: 20);

        // hr.rate reads 5 min, the baseline proposal 5 min of HR and RR and 15 min of NIBP; nothing reads SpO2 or temperature.
        Assert.Equal(0, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Spo2));
        Assert.Equal(0, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Temp));
        Assert.Equal(0, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Pr));
        AssertKept(300, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Hr));
        AssertKept(300, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Rr));
        AssertKept(3, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.NibpSys));
        Assert.Equal(
            [Sign.Hr, Sign.Pr, Sign.NibpSys, Sign.NibpDia, Sign.NibpMap, Sign.Rr],
            h.Engine.RecallFrom(h.Now).Keys.Order());
        Assert.Equal(h.Now - TimeSpan.FromMinutes(5), h.Engine.RecallFrom(h.Now)[Sign.Hr]);
        Assert.Equal(h.Now - TimeSpan.FromMinutes(15), h.Engine.RecallFrom(h.Now)[Sign.NibpSys]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BaselineConfirmedTenMinutesAfterStart_ProposalStillFromThePreInfusionReadings(bool restartBeforeConfirming)
    {
        var h = new EngineHarness();
        Monitor(h, minutes: 12, hr: 80, rr: 16, sys: 140);
        h.StartSession();
        Monitor(h, minutes: 10, hr: 100, rr: 22, sys: 120); // more than the 5 min HR and RR span after the start
        if (restartBeforeConfirming)
        {
            h.Restart();
        }

        var status = h.Engine.ConfirmBaseline(EngineHarness.Chair, EngineHarness.Nurse, h.Now);

        Assert.Equal(BaselineState.Confirmed, status.State);
        Assert.Equal((140.0, 80.0, 16.0), (status.Baseline!.Sys!.Value, status.Baseline.Hr!.Value, status.Baseline.Rr!.Value));

        // Once confirmed, the chair keeps the usual spans again.
        Monitor(h, minutes: 1);
        AssertKept(300, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Hr));
    }

    [Fact]
    public void Spo2RateRuleAddedAtRuntime_JudgesFromTheReadingsAfterTheChange()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Spo2, 98, 300);
        Assert.Equal(0, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Spo2));

        PutDefaultRateRules(h, new RateOfChangeRule(Sign.Spo2, 3, TimeSpan.FromMinutes(10), AlarmPriority.Medium));
        h.Hold(Sign.Spo2, 94, 60); // fell before the change: the rule never saw 98

        Assert.Empty(h.EventsFor("spo2.rate"));
        AssertKept(59, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Spo2));

        h.Hold(Sign.Spo2, 90, 60); // 4 below the first reading it saw

        Assert.Equal([AlarmState.Raised], h.StatesOf("spo2.rate"));
    }

    [Fact]
    public void Spo2RateRuleAddedAtRuntime_RestartRecallsItsWholeWindowFromTheStore()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Spo2, 98, 300);
        PutDefaultRateRules(h, new RateOfChangeRule(Sign.Spo2, 3, TimeSpan.FromMinutes(10), AlarmPriority.Medium));

        h.Restart();
        h.Hold(Sign.Spo2, 94, 60);

        Assert.Equal([AlarmState.Raised], h.StatesOf("spo2.rate"));
    }

    [Fact]
    public void HeartRateWindowLengthenedAtRuntime_GetsItsFullWindowOnceItHasPassed()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 60, 600);
        PutDefaultRateRules(h, new RateOfChangeRule(Sign.Hr, 25, TimeSpan.FromMinutes(15), AlarmPriority.Medium));

        // 2 /min for 15 min: 10 within any 5 min (never over 25), 30 within 15 min.
        for (var minute = 1; minute <= 15; minute++)
        {
            h.Hold(Sign.Hr, 60 + (2 * minute), 60);
        }

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.rate"));
        AssertKept(900, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Hr));
    }

    [Fact]
    public void Restart_FifteenMinuteHeartRateWindow_RecallsFifteenMinutes()
    {
        var h = new EngineHarness(WithRateRules(new RateOfChangeRule(Sign.Hr, 25, TimeSpan.FromMinutes(15), AlarmPriority.Medium)));
        for (var minute = 1; minute <= 12; minute++)
        {
            h.Hold(Sign.Hr, 60 + (2 * minute), 60);
        }

        h.Restart();
        for (var minute = 13; minute <= 15; minute++)
        {
            h.Hold(Sign.Hr, 60 + (2 * minute), 60);
        }

        Assert.Equal(h.Now - TimeSpan.FromMinutes(15), h.Engine.RecallFrom(h.Now)[Sign.Hr]);
        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.rate"));
    }

    [Fact]
    public void RateRuleRemovedAtRuntime_SignNoLongerKept()
    {
        var h = new EngineHarness(WithRateRules(new RateOfChangeRule(Sign.Spo2, 3, TimeSpan.FromMinutes(10), AlarmPriority.Medium)));
        h.Hold(Sign.Spo2, 97, 120);
        AssertKept(119, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Spo2));

        PutDefaultRateRules(h);
        h.Hold(Sign.Spo2, 97, 1);

        Assert.Equal(0, h.Engine.ReadingsKept(EngineHarness.Chair, Sign.Spo2));
        Assert.DoesNotContain(Sign.Spo2, h.Engine.RecallFrom(h.Now).Keys);
    }
}
