using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>
/// Condition delay with hysteresis on the way in (issue 11 item 9): one borderline sample must not hold off a
/// sustained condition; a raise needs two thirds of the delay window abnormal; MgSO4 apnea has a shorter delay.
/// </summary>
public class ConditionDelayTests
{
    [Theory]
    [InlineData(35, AlarmPriority.High)]
    [InlineData(41, AlarmPriority.Medium)]
    public void Observe_LowHrForNineSecondsThenOneBorderlineSampleRepeated_Raised(double low, AlarmPriority priority)
    {
        var h = new EngineHarness();

        for (var cycle = 0; cycle < 12; cycle++)
        {
            h.Hold(Sign.Hr, low, 9);
            h.Hold(Sign.Hr, 50, 1);
        }

        var raised = Assert.Single(h.EventsFor("hr.low"));
        Assert.Equal((AlarmState.Raised, priority), (raised.State, raised.Priority!.Value));
        Assert.Equal(low, raised.Value);
    }

    [Fact]
    public void Observe_AbnormalForExactlyTwoThirdsOfTheDelay_RaisedAtTheBoundary()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Spo2, 88, 10); // abnormal 10 s of the 15 s SpO2 delay
        h.Hold(Sign.Spo2, 95, 5);  // a normal stretch shorter than the 10 s clear time keeps the episode

        h.Hold(Sign.Spo2, 88, 1);

        var raised = Assert.Single(h.EventsFor("spo2.low"));
        Assert.Equal(h.Now, raised.At);
    }

    [Fact]
    public void Observe_AbnormalForJustUnderTwoThirdsOfTheDelay_RaisedOnlyOnceTheWindowHoldsTwoThirds()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Spo2, 88, 9);
        h.Hold(Sign.Spo2, 95, 6);

        h.Hold(Sign.Spo2, 88, 10); // each 15 s window up to here holds 9 s abnormal
        Assert.Empty(h.EventsFor("spo2.low"));
        h.Hold(Sign.Spo2, 88, 1);  // now 10 s of the last 15 s

        Assert.Equal([AlarmState.Raised], h.StatesOf("spo2.low"));
    }

    [Fact]
    public void Observe_MgSo4ApneaRrZero_RaisedHighAfterTwentySeconds()
    {
        var h = new EngineHarness();
        h.StartSession(drug: "magnesium sulfate");

        h.Hold(Sign.Rr, 0, 20); // samples at 1..20 s: 19 s since the first
        Assert.Empty(h.EventsFor("rr.low"));
        h.Hold(Sign.Rr, 0, 1);

        var raised = Assert.Single(h.EventsFor("rr.low"));
        Assert.Equal((AlarmState.Raised, AlarmPriority.High), (raised.State, raised.Priority!.Value));
        Assert.Equal(TimeSpan.FromSeconds(20), AlarmProfiles.MgSo4.TimingFor(Sign.Rr).HighPriorityDelay);
    }

    [Fact]
    public void Observe_MgSo4RrInMediumBand_StillWaitsForTheRrDelay()
    {
        var h = new EngineHarness();
        h.StartSession(drug: "magnesium sulfate");

        h.Hold(Sign.Rr, 13, 30);
        Assert.Empty(h.EventsFor("rr.low"));
        h.Hold(Sign.Rr, 13, 1);

        Assert.Equal([AlarmState.Raised], h.StatesOf("rr.low"));
    }

    [Fact]
    public void Observe_DefaultProfileRrZero_NoShortApneaDelay()
    {
        var h = new EngineHarness();

        h.Hold(Sign.Rr, 0, 30);
        Assert.Empty(h.EventsFor("rr.low"));
        h.Hold(Sign.Rr, 0, 1);

        Assert.Equal([AlarmState.Raised], h.StatesOf("rr.low"));
    }

    [Fact]
    public void SetSessionOverride_DelayHighAboveDelay_RejectedNamingTheKey()
    {
        var h = new EngineHarness();
        h.StartSession(drug: "magnesium sulfate");

        var result = h.Engine.SetSessionOverride(EngineHarness.Chair, "rr.delay_high", 40, EngineHarness.Nurse, h.Now);

        Assert.False(result.Ok);
        Assert.StartsWith("rr.delay_high", result.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Observe_CuffReadingsAlternateAroundTheLimit_RaisedOnceNoFlapping()
    {
        var h = new EngineHarness();

        for (var i = 0; i < 12; i++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(15));
            h.Observe(Sign.NibpSys, i % 2 == 0 ? 88 : 92);
        }

        Assert.Equal([AlarmState.Raised], h.StatesOf("nibp_sys.low"));
        h.Observe(Sign.NibpSys, 95); // back inside by the 5 mmHg margin
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("nibp_sys.low"));
    }
}
