using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>
/// The engine keeps each chair's resolved rules and a reference to its alarms between readings. Every change that moves
/// a chair's limits while its readings flow must reach the very next reading (the readings before the change are what
/// fill the cache), and a restore must leave every chair looking at its restored alarms.
/// </summary>
public class MidStreamChangeTests
{
    private const string Admin = "admin";

    [Fact]
    public void SetProfileValue_LimitRaisedWhileAbnormalHrFlows_PendingAlarmNeverRaised()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 130, 5); // above hr.high.medium 120, pending its 10 s delay

        Assert.True(h.Engine.Configuration.SetProfileValue(AlarmProfiles.DefaultAdultName, "hr.high.medium", 140, Admin, h.Now).Ok);
        h.Hold(Sign.Hr, 130, 20);

        Assert.Empty(h.EventsFor("hr.high"));
    }

    [Fact]
    public void SetProfileValue_LimitLoweredWhileNormalHrFlows_AlarmRaisedAfterDelay()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 110, 5);

        Assert.True(h.Engine.Configuration.SetProfileValue(AlarmProfiles.DefaultAdultName, "hr.high.medium", 100, Admin, h.Now).Ok);
        h.Hold(Sign.Hr, 110, 11);

        var raised = Assert.Single(h.EventsFor("hr.high"));
        Assert.Equal((AlarmState.Raised, 100d), (raised.State, raised.Limit));
    }

    [Fact]
    public void SetChairOverride_WhileReadingsFlow_AppliesToTheNextReadings()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 110, 5);

        Assert.True(h.Engine.Configuration.SetChairOverride(EngineHarness.Chair, "hr.high.medium", 100, Admin, h.Now).Ok);
        h.Hold(Sign.Hr, 110, 11);

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.high"));
    }

    [Fact]
    public void SetChairProfile_MgSo4WhileSpo2Flows_Spo2At92RaisedThenClearedWhenProfileReverts()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Spo2, 92, 20); // fine for the default profile (low 90)
        Assert.Empty(h.EventsFor("spo2.low"));

        Assert.True(h.Engine.Configuration.SetChairProfile(EngineHarness.Chair, AlarmProfiles.MgSo4Name, Admin, h.Now).Ok);
        h.Hold(Sign.Spo2, 92, 16); // below the MgSO4 profile's 94
        Assert.Equal([AlarmState.Raised], h.StatesOf("spo2.low"));

        Assert.True(h.Engine.Configuration.SetChairProfile(EngineHarness.Chair, null, Admin, h.Now).Ok);
        h.Hold(Sign.Spo2, 92, 11);
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("spo2.low"));
    }

    [Fact]
    public void StartAndStopSession_MagnesiumWhileSpo2Flows_SessionProfileFollowsTheSession()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Spo2, 92, 20);

        h.StartSession(drug: "magnesium sulfate");
        h.Hold(Sign.Spo2, 92, 16);
        Assert.Equal([AlarmState.Raised], h.StatesOf("spo2.low"));

        h.Engine.StopSession(EngineHarness.Chair, h.Now, h.Events);
        h.Hold(Sign.Spo2, 92, 11);
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf("spo2.low"));
    }

    [Fact]
    public void SetSessionOverride_WhileReadingsFlow_AppliesToTheNextReadings()
    {
        var h = new EngineHarness();
        h.StartSession();
        h.Hold(Sign.Hr, 110, 5);

        Assert.True(h.Engine.SetSessionOverride(EngineHarness.Chair, "hr.high.medium", 100, EngineHarness.Nurse, h.Now).Ok);
        h.Hold(Sign.Hr, 110, 11);

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.high"));
    }

    [Fact]
    public void ConfirmBaseline_WhileHrFlows_RiseFromBaselineJudgedFromTheNextReading()
    {
        var h = new EngineHarness();
        h.StartSession();
        h.Hold(Sign.Hr, 105, 15); // no baseline yet: no change-from-baseline rule
        Assert.Empty(h.EventsFor("hr.rise"));

        var status = h.Engine.ConfirmBaseline(EngineHarness.Chair, EngineHarness.Nurse, h.Now, new Baseline(150, 80, 100, 70, 20, 0));
        Assert.Equal(BaselineState.Confirmed, status.State);
        h.Hold(Sign.Hr, 105, 11); // 35 above 70: at least 30 % and 30 /min

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.rise"));
    }

    [Fact]
    public void SetTimingValue_WhileReadingsFlow_ChairRulesStillFollowLaterLimitChanges()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 110, 5);

        // An engine-wide change bumps the version too; the limit change after it must still reach the chair.
        Assert.True(h.Engine.Configuration.SetTimingValue("reannounce", 90, Admin, h.Now).Ok);
        h.Hold(Sign.Hr, 110, 2);
        Assert.True(h.Engine.Configuration.SetChairOverride(EngineHarness.Chair, "hr.high.medium", 100, Admin, h.Now).Ok);
        h.Hold(Sign.Hr, 110, 11);

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.high"));
    }

    [Fact]
    public void Restore_IntoTheEngineThatTookTheSnapshot_RestoredAlarmClearsWhenValuesReturnToNormal()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 130, 11);
        var snapshot = h.Engine.Snapshot();
        h.Hold(Sign.Hr, 80, 11);
        Assert.Null(h.Alarm("hr.high"));

        h.Engine.Restore(snapshot, h.Now);
        Assert.NotNull(h.Alarm("hr.high"));
        h.Hold(Sign.Hr, 80, 11);

        Assert.Equal([AlarmState.Raised, AlarmState.Cleared, AlarmState.Cleared], h.StatesOf("hr.high"));
        Assert.Null(h.Alarm("hr.high"));
    }
}
