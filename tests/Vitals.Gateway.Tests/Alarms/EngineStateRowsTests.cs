using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;

namespace Vitals.Gateway.Tests.Alarms;

/// <summary>Which engine-state rows a save writes: a chair's row when its state changed, nothing for readings that changed none.</summary>
public sealed class EngineStateRowsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 8, 0, 0, TimeSpan.Zero);
    private readonly AlarmEngine engine = new(site: "s");
    private readonly List<AlarmEvent> events = [];
    private DateTimeOffset now = Start;

    [Fact]
    public void Changed_ActiveAlarmsValueMovesWithEveryReading_NoRowUntilItsStateChanges()
    {
        var rows = new EngineStateRows();
        Hold("c1", 135, 12); // hr.high raised
        Assert.Contains(rows.Changed(engine.Snapshot()), r => r.Key.EndsWith("s/c1", StringComparison.Ordinal) && r.Value.Contains("hr.high", StringComparison.Ordinal));

        Hold("c1", 137, 5);
        Assert.Empty(rows.Changed(engine.Snapshot()));

        Assert.True(engine.Acknowledge("c1", "hr.high", "nurse", now, events));
        var acknowledged = Assert.Single(rows.Changed(engine.Snapshot()));
        Assert.Contains("\"acknowledged\":true", acknowledged.Value, StringComparison.Ordinal);
        Assert.Contains("\"value\":137", acknowledged.Value, StringComparison.Ordinal); // written with the latest value
    }

    [Fact]
    public void Changed_OneOfManyChairsPaused_OnlyThatChairsRow()
    {
        var rows = new EngineStateRows();
        for (var chair = 1; chair <= 20; chair++)
        {
            engine.StartSession(new InfusionSession($"s-{chair}", $"c{chair}", "P-1", "saline", 1, null, now), now, events);
        }

        Assert.Equal(21, rows.Changed(engine.Snapshot()).Count); // the header and every chair, once

        engine.Pause("c7", "nurse", now, TimeSpan.FromMinutes(2), events);

        Assert.Equal(["alarm.engine.chair:s/c7"], rows.Changed(engine.Snapshot()).Select(r => r.Key));
    }

    [Fact]
    public void Changed_ChairsStateGone_RowHoldsNullOnce()
    {
        var rows = new EngineStateRows();
        engine.StartSession(new InfusionSession("s-1", "c1", "P-1", "saline", 1, null, now), now, events);
        rows.Changed(engine.Snapshot());

        engine.StopSession("c1", now, events);

        Assert.Equal([("alarm.engine.chair:s/c1", "null")], rows.Changed(engine.Snapshot()));
        Assert.Empty(rows.Changed(engine.Snapshot()));
    }

    [Fact]
    public void Load_SavedRows_SameStateBackAndNothingRewritten()
    {
        var rows = new EngineStateRows();
        engine.StartSession(new InfusionSession("s-1", "c1", "P-1", "saline", 1, null, now), now, events);
        Hold("c2", 35, 12);
        engine.Pause(null, "nurse", now, TimeSpan.FromMinutes(1), events);
        var written = rows.Changed(engine.Snapshot());

        var reloaded = new EngineStateRows();
        var snapshot = reloaded.Load(
            written.Single(r => r.Key == AlarmService.SnapshotKey).Value,
            written.Where(r => r.Key != AlarmService.SnapshotKey).Select(r => new KeyValuePair<string, string>(r.Key, r.Value)))!;
        var restored = new AlarmEngine(site: "s");
        restored.Restore(snapshot, now);

        Assert.Equal(engine.Alarms, restored.Alarms);
        Assert.Equal("s-1", restored.SessionAt("c1")?.Id);
        Assert.Equal(TimeSpan.FromMinutes(1), restored.PauseRemaining("c9", now));
        Assert.Empty(reloaded.Changed(restored.Snapshot()));
    }

    [Fact]
    public void Load_FormatOneSnapshotBesideChairRows_ChairRowsWin()
    {
        // The first save after an upgrade writes the chair rows before the header: cut off in between, the rows are newer.
        Hold("c2", 35, 12);
        var legacy = System.Text.Json.JsonSerializer.Serialize(engine.Snapshot() with { FormatVersion = 1 }, TestJson.Options);

        var snapshot = new EngineStateRows().Load(legacy, [new("alarm.engine.chair:s/c2", "null")])!;

        Assert.Empty(snapshot.Alarms);
    }

    [Fact]
    public void Load_FormatOneSnapshotFromAnEarlierBuild_Restored()
    {
        Hold("c2", 35, 12);
        var legacy = System.Text.Json.JsonSerializer.Serialize(engine.Snapshot() with { FormatVersion = 1 }, TestJson.Options);

        var snapshot = new EngineStateRows().Load(legacy, [])!;

        Assert.Equal(1, snapshot.FormatVersion);
        Assert.Equal(engine.Alarms, snapshot.Alarms);
        Assert.Contains(new EngineStateRows().Changed(snapshot), r => r.Key == AlarmService.SnapshotKey && r.Value.Contains("\"formatVersion\":2", StringComparison.Ordinal));
    }

    private void Hold(string chair, double hr, int seconds)
    {
        for (var i = 0; i < seconds; i++)
        {
            now += TimeSpan.FromSeconds(1);
            engine.Observe(new Observation("s", chair, "d", Sign.Hr, hr, now, now, SourceProtocol.Simulator), events);
            engine.Tick(now, events);
        }
    }
}
