using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>Per-sign technical alarms: a sign lost while others flow, invalid or implausible readings (issue 11 item 9).</summary>
public class SignalLostTests
{
    private static void Feed(EngineHarness h, int seconds, double? hr, double spo2 = 97, ObservationQuality hrQuality = ObservationQuality.Ok)
    {
        for (var i = 0; i < seconds; i++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            if (hr is { } value)
            {
                h.Observe(Sign.Hr, value, quality: hrQuality);
            }

            h.Observe(Sign.Spo2, spo2);
            h.Tick();
        }
    }

    [Fact]
    public void Tick_HrStopsWhileSpo2Flows_HrLostAfterItsDelayAndClearedWhenHrReturns()
    {
        var h = new EngineHarness();
        Feed(h, 5, hr: 72);

        Feed(h, 29, hr: null);
        Assert.Empty(h.EventsFor("hr.lost"));
        Feed(h, 1, hr: null);

        var raised = Assert.Single(h.EventsFor("hr.lost"));
        Assert.Equal((AlarmState.Raised, AlarmPriority.Medium, AlarmKind.Technical), (raised.State, raised.Priority!.Value, raised.Kind));
        Assert.Equal("Heart rate signal lost", raised.Message);
        Assert.Equal(Sign.Hr, raised.Sign);
        Assert.Empty(h.EventsFor(AlarmEngine.FeedLostRule));

        Feed(h, 1, hr: 72);
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("hr.lost"));
    }

    [Fact]
    public void Observe_EveryHrInvalid_HrLostWhileSpo2Flows()
    {
        var h = new EngineHarness();

        Feed(h, 31, hr: 20, hrQuality: ObservationQuality.Invalid);

        var alarm = h.Alarm("hr.lost");
        Assert.NotNull(alarm);
        Assert.Contains("invalid", alarm.Message, StringComparison.Ordinal);
        Assert.Null(h.Alarm("hr.low"));
    }

    [Fact]
    public void Observe_Spo2ZeroWithoutExceptionBits_ProbeOffTechnicalAlarmNotDesaturation()
    {
        var h = new EngineHarness();

        Feed(h, 60, hr: 72, spo2: 0);

        Assert.Empty(h.EventsFor("spo2.low"));
        var alarm = h.Alarm("spo2.lost");
        Assert.NotNull(alarm);
        Assert.Equal(AlarmKind.Technical, alarm.Kind);
        Assert.Contains("probe", alarm.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sign.Hr, 320, "hr")]
    [InlineData(Sign.Temp, 47, "temp")]
    [InlineData(Sign.Temp, 22, "temp")]
    [InlineData(Sign.NibpSys, 0, "nibp_sys")]
    public void Observe_ImplausibleValue_NeverJudgedAsPhysiology(Sign sign, double value, string shortName)
    {
        var h = new EngineHarness();

        h.Hold(sign, value, 70);

        Assert.DoesNotContain(h.Events, e => e.Rule.StartsWith(shortName + ".", StringComparison.Ordinal) && e.Kind == AlarmKind.Physiological);
        Assert.NotNull(SensorPlausibility.Problem(sign, value));
    }

    [Theory]
    [InlineData(Sign.Hr, 0)]      // asystole cannot be excluded: judged
    [InlineData(Sign.Rr, 0)]      // apnea: judged
    [InlineData(Sign.Spo2, 60)]   // severe desaturation: judged
    [InlineData(Sign.Temp, 30)]   // hypothermia: judged
    public void Problem_PhysiologicalExtreme_IsAMeasurement(Sign sign, double value) =>
        Assert.Null(SensorPlausibility.Problem(sign, value));

    [Fact]
    public void Tick_WholeFeedSilent_OnlyFeedLostNoSignAlarms()
    {
        var h = new EngineHarness();
        Feed(h, 5, hr: 72);

        h.Wait(TimeSpan.FromSeconds(90));

        Assert.NotEmpty(h.EventsFor(AlarmEngine.FeedLostRule));
        Assert.Empty(h.EventsFor("hr.lost"));
        Assert.Empty(h.EventsFor("spo2.lost"));
    }

    [Fact]
    public void Tick_SlowFeedSendingEverySignAtOnce_NoSignLostBetweenMessages()
    {
        var h = new EngineHarness();
        Assert.True(h.Engine.Configuration.SetTimingValue("feed_lost_high", 300, "admin", h.Now).Ok);
        Assert.True(h.Engine.Configuration.SetTimingValue("feed_lost_medium", 120, "admin", h.Now).Ok);

        for (var minute = 0; minute < 10; minute++)
        {
            h.Observe(Sign.Hr, 72);
            h.Observe(Sign.Spo2, 97);
            for (var s = 0; s < 60; s++)
            {
                h.Wait(TimeSpan.FromSeconds(1));
            }
        }

        Assert.Empty(h.Engine.Alarms);
    }

    [Fact]
    public void ReleaseChair_SignLost_ClearedAndNoLongerWatched()
    {
        var h = new EngineHarness();
        Feed(h, 5, hr: 72);
        Feed(h, 31, hr: null);

        h.Engine.ReleaseChair(EngineHarness.Chair, h.Now, h.Events);
        Feed(h, 60, hr: null);

        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("hr.lost"));
    }
}
