using Vitals.Core.Alarms;

namespace Vitals.Core.Tests;

public class FixedLimitAlarmEngineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private static Observation Obs(Sign sign, double value, double seconds, string chair = "c1") =>
        new("site", chair, "dev", sign, value, T0.AddSeconds(seconds), T0.AddSeconds(seconds), SourceProtocol.Simulator);

    [Fact]
    public void Observe_HrBelowLimitShorterThanDelay_RaisesNothing()
    {
        var engine = new FixedLimitAlarmEngine();
        var events = new List<AlarmEvent>();
        for (var s = 0; s < 10; s++)
        {
            engine.Observe(Obs(Sign.Hr, 45, s), events);
        }

        Assert.Empty(events);
    }

    [Fact]
    public void Observe_HrBelowLimitForDelay_RaisesMediumOnce()
    {
        var engine = new FixedLimitAlarmEngine();
        var events = new List<AlarmEvent>();
        for (var s = 0; s <= 15; s++)
        {
            engine.Observe(Obs(Sign.Hr, 45, s), events);
        }

        var raised = Assert.Single(events);
        Assert.Equal("hr.low", raised.Rule);
        Assert.Equal(AlarmState.Raised, raised.State);
        Assert.Equal(AlarmPriority.Medium, raised.Priority);
        Assert.Equal(T0.AddSeconds(10), raised.At);
        Assert.Equal(50, raised.Limit);
    }

    [Fact]
    public void Observe_HrRecoversInsideHysteresisMargin_StaysRaisedUntilClearlyBack()
    {
        var engine = new FixedLimitAlarmEngine();
        var events = new List<AlarmEvent>();
        for (var s = 0; s <= 10; s++)
        {
            engine.Observe(Obs(Sign.Hr, 45, s), events);
        }

        engine.Observe(Obs(Sign.Hr, 50.5, 11), events); // inside the limit, but within the 2 % clear margin
        Assert.Single(engine.Active);
        engine.Observe(Obs(Sign.Hr, 55, 12), events);
        Assert.Empty(engine.Active);
        Assert.Equal(AlarmState.Cleared, events[^1].State);
    }

    [Fact]
    public void Observe_NibpReadingBelowLimit_RaisesImmediately()
    {
        var engine = new FixedLimitAlarmEngine();
        var events = new List<AlarmEvent>();
        engine.Observe(Obs(Sign.NibpSys, 85, 0), events);
        var e = Assert.Single(events);
        Assert.Equal("nibp_sys.low", e.Rule);
        Assert.Equal(85, e.Value);
    }

    [Fact]
    public void Tick_HrOutOfRangeAndNoNewReadings_RaisesWhenDelayElapses()
    {
        var engine = new FixedLimitAlarmEngine();
        var events = new List<AlarmEvent>();
        engine.Observe(Obs(Sign.Hr, 130, 0), events);
        engine.Tick(T0.AddSeconds(9), events);
        Assert.Empty(events);
        engine.Tick(T0.AddSeconds(10), events);
        Assert.Equal("hr.high", Assert.Single(events).Rule);
    }

    [Fact]
    public void Tick_NoDataFor15Seconds_RaisesTechnicalFeedLostAndNextReadingClearsIt()
    {
        var engine = new FixedLimitAlarmEngine();
        var events = new List<AlarmEvent>();
        engine.Observe(Obs(Sign.Hr, 70, 0), events);
        engine.Tick(T0.AddSeconds(14), events);
        Assert.Empty(events);
        engine.Tick(T0.AddSeconds(15), events);
        engine.Tick(T0.AddSeconds(16), events);
        var lost = Assert.Single(events);
        Assert.Equal(FixedLimitAlarmEngine.FeedLostRule, lost.Rule);
        Assert.Equal(AlarmKind.Technical, lost.Kind);

        engine.Observe(Obs(Sign.Hr, 70, 20), events);
        Assert.Equal(AlarmState.Cleared, events[^1].State);
        Assert.Empty(engine.Active);
    }

    [Fact]
    public void Observe_InvalidQualityReading_IsNotJudged()
    {
        var engine = new FixedLimitAlarmEngine();
        var events = new List<AlarmEvent>();
        engine.Observe(Obs(Sign.NibpSys, 40, 0) with { Quality = ObservationQuality.Invalid }, events);
        Assert.Empty(events);
    }

    [Fact]
    public void Observe_TwoChairs_AreJudgedIndependently()
    {
        var engine = new FixedLimitAlarmEngine();
        var events = new List<AlarmEvent>();
        engine.Observe(Obs(Sign.NibpSys, 85, 0, "c1"), events);
        engine.Observe(Obs(Sign.NibpSys, 120, 0, "c2"), events);
        Assert.Equal("c1", Assert.Single(engine.Active).Chair);
    }
}
