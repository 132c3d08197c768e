using System.Text.Json;
using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>Restart recovery: the snapshot survives System.Text.Json and a new engine carries on from it.</summary>
public class SnapshotTests
{
    private static AlarmEngineSnapshot RoundTrip(AlarmEngine engine) =>
        JsonSerializer.Deserialize<AlarmEngineSnapshot>(JsonSerializer.Serialize(engine.Snapshot()))!;

    /// <summary>A chair with a session, a confirmed baseline, a latched high alarm and an acknowledged medium alarm.</summary>
    private static EngineHarness BusyChair()
    {
        var h = new EngineHarness();
        h.StartWithBaseline(sys: 150);
        h.Hold(Sign.Hr, 35, 11);
        h.Hold(Sign.Hr, 70, 20);          // hr.low latches
        h.Observe(Sign.NibpSys, 125);     // nibp_sys.drop medium
        h.Acknowledge("nibp_sys.drop");
        h.Engine.Pause("c1", EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(1), h.Events);
        Assert.True(h.Engine.SetSessionOverride("c1", "spo2.low.medium", 92, "nurse.b", h.Now).Ok);
        return h;
    }

    [Fact]
    public void Restore_SerializedSnapshot_SameAlarmsSessionBaselineAndPause()
    {
        var h = BusyChair();
        var snapshot = RoundTrip(h.Engine);
        var restored = new AlarmEngine(site: EngineHarness.Site);

        restored.Restore(snapshot, h.Now);

        Assert.Equal(h.Engine.Alarms, restored.Alarms);
        Assert.Contains(restored.Alarms, a => a is { Rule: "hr.low", Latched: true, Priority: AlarmPriority.High });
        Assert.Contains(restored.Alarms, a => a is { Rule: "nibp_sys.drop", Acknowledged: true, AcknowledgedBy: EngineHarness.Nurse });
        Assert.Equal(h.Engine.SessionAt("c1")!.Id, restored.SessionAt("c1")!.Id);
        Assert.Equal("P-1042", restored.SessionAt("c1")!.PatientPseudonym);
        Assert.Equal(92, restored.SessionAt("c1")!.Overrides!["spo2.low.medium"]);
        Assert.Equal(92, restored.ProfileFor("c1").Limits.Single(b => b.Key == "spo2.low.medium").Threshold);
        Assert.Equal(BaselineState.Confirmed, restored.GetBaselineStatus("c1", h.Now).State);
        Assert.Equal(150, restored.GetBaselineStatus("c1", h.Now).Baseline!.Sys);
        Assert.Equal(h.Engine.PauseRemaining("c1", h.Now), restored.PauseRemaining("c1", h.Now));
    }

    [Fact]
    public void Snapshot_HalfAnHourOfReadingsAtSixteenChairs_SameBytesAsAfterTheFirstMinute()
    {
        var h = new EngineHarness();
        for (var chair = 1; chair <= 16; chair++)
        {
            h.StartSession(chair: $"c{chair}");
        }

        string? afterOneMinute = null;
        for (var second = 0; second < 1800; second++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            for (var chair = 1; chair <= 16; chair++)
            {
                h.Observe(Sign.Hr, 70 + (second % 7), chair: $"c{chair}");
                h.Observe(Sign.Spo2, 97, chair: $"c{chair}");
            }

            afterOneMinute ??= second == 60 ? JsonSerializer.Serialize(h.Engine.Snapshot()) : null;
        }

        // Readings live in the store, not in the saved state: it changes with sessions and alarms, never with time.
        Assert.Equal(afterOneMinute, JsonSerializer.Serialize(h.Engine.Snapshot()));
        Assert.Equal(16, h.Engine.Snapshot().Chairs.Count);
    }

    [Fact]
    public void Restart_StoreLostTheReadingsBeforeTheChange_NoRateAdvisory()
    {
        // What a crash costs the rate rule when readings never reached the store: the saved state holds none itself.
        var h = new EngineHarness();
        h.Hold(Sign.Hr, 70, 60);
        h.Stored.Clear();

        h.Restart();
        h.Hold(Sign.Hr, 100, 30);

        Assert.Empty(h.EventsFor("hr.rate"));
    }

    [Fact]
    public void Restart_PreInfusionCuffReadingsStored_BaselineStillProposed()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 142);
        h.Wait(TimeSpan.FromMinutes(3));
        h.Observe(Sign.NibpSys, 138);
        h.Wait(TimeSpan.FromMinutes(1));
        h.StartSession();
        var before = h.Engine.GetBaselineStatus(EngineHarness.Chair, h.Now);

        h.Restart();

        var after = h.Engine.GetBaselineStatus(EngineHarness.Chair, h.Now);
        Assert.Equal((BaselineState.Proposed, 140.0, 2), (before.State, before.Baseline!.Sys, before.Baseline.NibpReadings));
        Assert.Equal(before, after);
    }

    [Fact]
    public void Restart_StoredReadingWithSensorProblem_NotRecalledAsReference()
    {
        var h = new EngineHarness();
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        h.Observe(Sign.Hr, 70, quality: ObservationQuality.Invalid);

        h.Restart();
        h.Hold(Sign.Hr, 100, 30);

        Assert.Empty(h.EventsFor("hr.rate"));
    }

    [Fact]
    public void Restart_StoredPulseRateWithoutHeartRate_RecalledAsHeartRate()
    {
        var h = new EngineHarness();
        h.Hold(Sign.Pr, 70, 60);

        h.Restart();
        h.Hold(Sign.Pr, 100, 30);

        Assert.Equal([AlarmState.Raised], h.StatesOf("hr.rate"));
    }

    [Fact]
    public void Restore_FormatOneSnapshotWithReadings_AlarmsAndSessionBack()
    {
        var h = BusyChair();
        var json = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(h.Engine.Snapshot()))!;
        json["FormatVersion"] = 1;
        json["Chairs"]![0]!["Readings"] = new System.Text.Json.Nodes.JsonArray(
            new System.Text.Json.Nodes.JsonObject { ["Sign"] = 0, ["Start"] = "2026-11-22T08:00:00+00:00", ["OffsetsMs"] = new System.Text.Json.Nodes.JsonArray(0), ["Values"] = new System.Text.Json.Nodes.JsonArray(70.0) });
        var restored = new AlarmEngine(site: EngineHarness.Site);

        restored.Restore(JsonSerializer.Deserialize<AlarmEngineSnapshot>(json.ToJsonString())!, h.Now);

        Assert.Equal(h.Engine.Alarms, restored.Alarms);
        Assert.Equal(h.Engine.SessionAt("c1")!.Id, restored.SessionAt("c1")!.Id);
    }

    [Fact]
    public void Restore_ChairPausedBeforeItsFirstReading_PauseKept()
    {
        var h = new EngineHarness();
        h.Engine.Pause("c9", EngineHarness.Nurse, h.Now, TimeSpan.FromMinutes(2), h.Events);
        var restored = new AlarmEngine(site: EngineHarness.Site);

        restored.Restore(RoundTrip(h.Engine), h.Now);

        Assert.Equal(TimeSpan.FromMinutes(2), restored.PauseRemaining("c9", h.Now));
    }

    [Fact]
    public void Restore_LatchedAlarm_AcknowledgeAfterRestartClearsIt()
    {
        var h = BusyChair();
        var restored = new AlarmEngine(site: EngineHarness.Site);
        restored.Restore(RoundTrip(h.Engine), h.Now);
        var events = new List<AlarmEvent>();

        Assert.True(restored.Acknowledge("c1", "hr.low", "nurse.b", h.Now, events));

        Assert.Equal([AlarmState.Acknowledged, AlarmState.Cleared], events.Select(e => e.State));
        Assert.DoesNotContain(restored.Alarms, a => a.Rule == "hr.low");
    }

    [Fact]
    public void Restore_AcknowledgedAlarm_ReannouncedTwoMinutesAfterOriginalAcknowledge()
    {
        var h = BusyChair();
        var ackAt = h.Now;
        var restored = new AlarmEngine(site: EngineHarness.Site);
        restored.Restore(RoundTrip(h.Engine), h.Now);
        var events = new List<AlarmEvent>();

        restored.Tick(ackAt + TimeSpan.FromSeconds(119), events);
        Assert.DoesNotContain(events, e => e.Rule == "nibp_sys.drop");
        restored.Tick(ackAt + TimeSpan.FromMinutes(2), events);

        Assert.Contains(events, e => e is { Rule: "nibp_sys.drop", State: AlarmState.Reannounced });
    }

    [Fact]
    public void Restore_ChairWithSession_FeedWatchedFromRestoreTime()
    {
        var h = BusyChair();
        var restoreAt = h.Now + TimeSpan.FromMinutes(10);
        var restored = new AlarmEngine(site: EngineHarness.Site);
        restored.Restore(RoundTrip(h.Engine), restoreAt);
        var events = new List<AlarmEvent>();

        restored.Tick(restoreAt + TimeSpan.FromSeconds(14), events);
        Assert.DoesNotContain(events, e => e.Rule == AlarmEngine.FeedLostRule);
        restored.Tick(restoreAt + TimeSpan.FromSeconds(15), events);

        Assert.Contains(events, e => e is { Rule: AlarmEngine.FeedLostRule, State: AlarmState.Raised, Chair: "c1" });
    }

    [Fact]
    public void Restore_RestoredConditionActiveAlarm_ClearsWhenValuesReturnToNormal()
    {
        var h = new EngineHarness();
        h.Observe(Sign.NibpSys, 170);
        var restored = new AlarmEngine(site: EngineHarness.Site);
        restored.Restore(RoundTrip(h.Engine), h.Now);
        var events = new List<AlarmEvent>();

        restored.Observe(new Observation(EngineHarness.Site, "c1", "d", Sign.NibpSys, 130, h.Now, h.Now, SourceProtocol.Simulator), events);

        Assert.Contains(events, e => e is { Rule: "nibp_sys.high", State: AlarmState.Cleared });
        Assert.Empty(restored.Alarms);
    }

    [Fact]
    public void Restore_UnknownFormatVersion_Throws()
    {
        var engine = new AlarmEngine();

        Assert.Throws<NotSupportedException>(() => engine.Restore(new AlarmEngineSnapshot([], [], null, FormatVersion: 99), DateTimeOffset.UnixEpoch));
    }
}
