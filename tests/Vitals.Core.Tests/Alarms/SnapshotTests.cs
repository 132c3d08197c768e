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
    public void Snapshot_FeedFasterThanAnyMonitor_HistoryKeepsOneReadingPerHalfSecond()
    {
        var h = new EngineHarness();
        for (var i = 0; i < 1200; i++)
        {
            h.Clock.Advance(TimeSpan.FromMilliseconds(50)); // 20 readings a second for a minute
            h.Observe(Sign.Hr, 70 + (i % 3));
        }

        h.Hold(Sign.Hr, 72, 60); // then a monitor's pace, one a second for a minute: every one kept

        var hr = h.Engine.Snapshot().Chairs.Single().Readings!.Single(r => r.Sign == Sign.Hr);
        Assert.Equal(120 + 60, hr.Values.Count);
        Assert.All(hr.OffsetsMs.Zip(hr.OffsetsMs.Skip(1)), gap => Assert.True(gap.Second - gap.First >= 500, $"{gap.First} -> {gap.Second} ms"));
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
    public void Snapshot_SixteenChairsWithHalfAnHourOfHr_KeepsOnlyTheRateWindowCompactly()
    {
        var h = new EngineHarness();
        for (var second = 0; second < 1800; second++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            for (var chair = 1; chair <= 16; chair++)
            {
                h.Observe(Sign.Hr, 70 + (second % 7), chair: $"c{chair}");
                h.Observe(Sign.Spo2, 97, chair: $"c{chair}");
            }
        }

        var snapshot = h.Engine.Snapshot();
        var json = JsonSerializer.Serialize(snapshot);

        // 30 min of HR and SpO2 were seen; only HR's 5 min rate window (301 readings a chair) is kept, about 10 bytes a reading.
        Assert.All(snapshot.Chairs, c => Assert.Equal(301, Assert.Single(c.Readings!, r => r.Sign == Sign.Hr).Values.Count));
        Assert.All(snapshot.Chairs, c => Assert.DoesNotContain(c.Readings!, r => r.Sign == Sign.Spo2));
        Assert.InRange(json.Length, 16 * 301 * 2, 16 * 301 * 16);
    }

    [Fact]
    public void Restore_UnknownFormatVersion_Throws()
    {
        var engine = new AlarmEngine();

        Assert.Throws<NotSupportedException>(() => engine.Restore(new AlarmEngineSnapshot([], [], null, FormatVersion: 99), DateTimeOffset.UnixEpoch));
    }
}
