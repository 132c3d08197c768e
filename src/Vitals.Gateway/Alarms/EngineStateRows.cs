using System.Buffers;
using System.Text;
using System.Text.Json;
using Vitals.Core.Alarms;
using Vitals.Storage;

namespace Vitals.Gateway.Alarms;

/// <summary>One chair's saved engine state: its session, baseline, pause and checks (null when it has none) and its uncleared alarms.</summary>
/// <param name="State">Session, baseline, pause, checks, last NIBP time and magnesium warnings.</param>
/// <param name="Alarms">Uncleared alarms at the chair.</param>
public sealed record SavedChair(ChairSnapshot? State, IReadOnlyList<ActiveAlarm> Alarms);

/// <summary>
/// The alarm engine's saved state as <c>config</c> rows: one per chair (<see cref="ChairPrefix"/> + site/chair) and
/// <see cref="AlarmService.SnapshotKey"/> for what belongs to no chair (the all-chairs pause). A save writes only the
/// rows whose JSON changed since the last save, so what reaches the disk follows what nurses and alarms change, not the
/// number of chairs or readings: saving the whole state, with the readings the rules need, once a second wrote ~45x the
/// readings' own bytes at 50 chairs (227 KB a second after 6 min, still growing). Readings are not saved here at all: a
/// restart reads them back from the store (<see cref="AlarmEngine.Recall"/>). Used by one thread at a time: the
/// service at start, then only the dispatcher.
/// </summary>
internal sealed class EngineStateRows
{
    /// <summary>Key prefix of the per-chair rows.</summary>
    public const string ChairPrefix = "alarm.engine.chair:";

    // A chair whose state has gone keeps its row, holding JSON null: no delete path, and at most one row per chair ever seen.
    private static readonly byte[] NoState = "null"u8.ToArray();

    private readonly Dictionary<string, byte[]> saved = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> buffer = new();
    private readonly Utf8JsonWriter writer;

    public EngineStateRows() => writer = new Utf8JsonWriter(buffer);

    /// <summary>
    /// Assembles the saved rows into a snapshot and remembers them as saved; null when nothing was saved. A
    /// <paramref name="header"/> of format 1 is a whole snapshot from an earlier build: used when there are no chair
    /// rows yet (the first save of this build writes them before the new header).
    /// </summary>
    public AlarmEngineSnapshot? Load(string? header, IEnumerable<KeyValuePair<string, string>> chairRows)
    {
        List<ActiveAlarm> alarms = [];
        List<ChairSnapshot> chairs = [];
        var any = false;
        foreach (var (key, json) in chairRows)
        {
            saved[key] = NoState;
            if (JsonSerializer.Deserialize(json, GatewayJson.Options.TypeInfo<SavedChair>()) is { } row)
            {
                saved[key] = JsonSerializer.SerializeToUtf8Bytes(WithoutLatestValues(row), GatewayJson.Options.TypeInfo<SavedChair>());
                alarms.AddRange(row.Alarms);
                chairs.AddRange(row.State is { } s ? [s] : []);
            }

            any = true;
        }

        if (header is null || JsonSerializer.Deserialize(header, GatewayJson.Options.TypeInfo<AlarmEngineSnapshot>()) is not { } top)
        {
            return any ? new AlarmEngineSnapshot(alarms, chairs, null) : null;
        }

        if (top.FormatVersion == AlarmEngineSnapshot.CurrentFormat)
        {
            saved[AlarmService.SnapshotKey] = Encoding.UTF8.GetBytes(header);
        }
        else if (!any)
        {
            return top;
        }

        return new AlarmEngineSnapshot(alarms, chairs, top.AllPausedUntil);
    }

    /// <summary>The rows of <paramref name="snapshot"/> that differ from what was last saved, now remembered as saved.</summary>
    public List<(string Key, string Value)> Changed(AlarmEngineSnapshot snapshot)
    {
        var rows = new Dictionary<string, SavedChair>(StringComparer.Ordinal);
        foreach (var chair in snapshot.Chairs)
        {
            rows[KeyOf(chair.Site, chair.Chair)] = new SavedChair(chair, []);
        }

        foreach (var alarm in snapshot.Alarms)
        {
            var key = KeyOf(alarm.Site, alarm.Chair);
            var row = rows.GetValueOrDefault(key) ?? new SavedChair(null, []);
            rows[key] = row with { Alarms = [.. row.Alarms, alarm] };
        }

        var changed = new List<(string, string)>();
        foreach (var (key, row) in rows)
        {
            Compare(key, row, WithoutLatestValues(row), changed);
        }

        var gone = saved.Where(p => p.Key != AlarmService.SnapshotKey && !rows.ContainsKey(p.Key) && !p.Value.AsSpan().SequenceEqual(NoState)).Select(p => p.Key).ToList();
        foreach (var key in gone)
        {
            saved[key] = NoState;
            changed.Add((key, "null"));
        }

        // Last: an earlier build's whole snapshot under this key is read only while no chair rows exist.
        var header = new AlarmEngineSnapshot([], [], snapshot.AllPausedUntil);
        Compare(AlarmService.SnapshotKey, header, header, changed);
        return changed;
    }

    private static string KeyOf(string site, string chair) => $"{ChairPrefix}{site}/{chair}";

    /// <summary>
    /// The row as compared with the last save: an active alarm's latest value, limit and text follow every reading, and
    /// rewriting a chair's row once a second for them alone (measured: most of the rows written in `vitals demo`) would
    /// save nothing a nurse relies on: after a restart the next reading shows them again. Every state change (raised,
    /// escalated, acknowledged, latched with its value, cleared) still rewrites the row, with the latest values.
    /// </summary>
    private static SavedChair WithoutLatestValues(SavedChair row) =>
        row.Alarms.Count == 0 ? row : row with { Alarms = [.. row.Alarms.Select(a => a with { Value = null, Limit = null, Message = "" })] };

    private void Compare<T>(string key, T row, T compared, List<(string, string)> changed)
    {
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, compared, GatewayJson.Options.TypeInfo<T>());
        if (saved.TryGetValue(key, out var before) && buffer.WrittenSpan.SequenceEqual(before))
        {
            return;
        }

        saved[key] = buffer.WrittenSpan.ToArray();
        changed.Add((key, ReferenceEquals(row, compared) ? Encoding.UTF8.GetString(buffer.WrittenSpan) : JsonSerializer.Serialize(row, GatewayJson.Options.TypeInfo<T>())));
    }
}
