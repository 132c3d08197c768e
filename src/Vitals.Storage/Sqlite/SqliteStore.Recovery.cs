using SQLitePCL;
using Vitals.Core;

namespace Vitals.Storage.Sqlite;

/// <summary>
/// What a restart reads back besides configuration changes: the alarm engine's state, saved as one small
/// <c>config</c> row per chair and written only when it changed, and the recent readings its rate-of-change and
/// baseline rules compare with, read from the <c>vitals</c> rows they were stored in (so they are never written twice).
/// </summary>
public sealed partial class SqliteStore
{
    /// <summary>
    /// Rows are in id order, and a row's receive time grows with its id but for feeds racing into one batch (milliseconds)
    /// or a clock step; the search for where a time span starts steps back this much further to keep such rows.
    /// </summary>
    private static readonly TimeSpan ReceivedOrderSlack = TimeSpan.FromMinutes(1);

    /// <summary>Every configuration value whose key starts with <paramref name="prefix"/>, in key order.</summary>
    public List<KeyValuePair<string, string>> ReadConfigStartingWith(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT key, value FROM config WHERE substr(key, 1, length($prefix)) = $prefix ORDER BY key;";
        cmd.Parameters.AddWithValue("$prefix", prefix);
        using var reader = cmd.ExecuteReader();
        var result = new List<KeyValuePair<string, string>>();
        while (reader.Read())
        {
            result.Add(new(reader.GetString(0), reader.GetString(1)));
        }

        return result;
    }

    /// <summary>Sets several configuration values in one transaction: one WAL commit, and each page written once.</summary>
    public void SetConfigs(IReadOnlyCollection<(string Key, string Value, DateTimeOffset At)> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return;
        }

        lock (writeLock)
        {
            using var tx = writer.BeginTransaction();
            using var cmd = writer.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO config (key, value, updated_ms) VALUES ($key, $value, $at)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms;
                """;
            var key = cmd.Parameters.Add("$key", Microsoft.Data.Sqlite.SqliteType.Text);
            var value = cmd.Parameters.Add("$value", Microsoft.Data.Sqlite.SqliteType.Text);
            var at = cmd.Parameters.Add("$at", Microsoft.Data.Sqlite.SqliteType.Integer);
            foreach (var v in values)
            {
                (key.Value, value.Value, at.Value) = (v.Key, v.Value, v.At.ToUnixTimeMilliseconds());
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }
    }

    /// <summary>
    /// The observations received at or after <paramref name="since"/> (gateway clock), in the order they were stored,
    /// read lazily: enumerate once. The start is found by a binary search on row ids, so the cost is that of the rows
    /// returned, however long the history.
    /// </summary>
    public IEnumerable<Observation> ReadReceivedSince(DateTimeOffset since) =>
        ReadReceivedSince(Signs.All.ToDictionary(s => s.Sign, _ => since));

    /// <summary>
    /// The observations of the signs in <paramref name="since"/>, each received at or after its own time (gateway clock),
    /// in the order they were stored, read lazily: enumerate once. What the alarm engine recalls at start: only the signs
    /// its rules read, over their windows. SQLite leaves out the other signs' values and the rows with none of those asked
    /// for, so no observation is built for them (at 1,000 chairs with 30 min stored, the read of every sign took ~14 s).
    /// </summary>
    public IEnumerable<Observation> ReadReceivedSince(IReadOnlyDictionary<Sign, DateTimeOffset> since)
    {
        ArgumentNullException.ThrowIfNull(since);
        if (since.Count == 0)
        {
            yield break;
        }

        // ?1 the first row id, ?2 the earliest time asked, ?3 onwards each asked sign's time in sign order. The columns
        // keep FrameColumns' layout (what ReadFrame reads), with NULL for a sign not asked or a value received before its time.
        var asked = Signs.All.Where(s => since.ContainsKey(s.Sign)).ToList();
        string Fresh(SignInfo s) => $"received_ms >= ?{asked.IndexOf(s) + 3}";
        var columns = Signs.All.Select(s => since.ContainsKey(s.Sign)
            ? $"CASE WHEN {Fresh(s)} THEN {s.ShortName} END, {s.ShortName}_quality"
            : "NULL, NULL");
        var anyFresh = string.Join(" OR ", asked.Select(s => $"({s.ShortName} IS NOT NULL AND {Fresh(s)})"));
        var earliest = since.Values.Min();
        using var conn = OpenReader();
        var from = FirstIdReceivedFrom(conn, earliest - ReceivedOrderSlack);
        using var stmt = PrepareOn(conn, $"""
            SELECT {FrameHead}, {string.Join(", ", columns)}
            FROM vitals_frames WHERE id >= ?1 AND received_ms >= ?2 AND ({anyFresh}) ORDER BY id;
            """);
        raw.sqlite3_bind_int64(stmt, 1, from);
        raw.sqlite3_bind_int64(stmt, 2, earliest.ToUnixTimeMilliseconds());
        for (var i = 0; i < asked.Count; i++)
        {
            raw.sqlite3_bind_int64(stmt, i + 3, since[asked[i].Sign].ToUnixTimeMilliseconds());
        }

        var text = new Utf8TextCache();
        while (Step(conn, stmt))
        {
            if (ReadFrame(stmt, text) is { } frame)
            {
                foreach (var o in frame)
                {
                    yield return o;
                }
            }
        }
    }

    /// <summary>The lowest row id whose row (or any later one, taken in id order) was received at or after <paramref name="at"/>.</summary>
    private static long FirstIdReceivedFrom(Microsoft.Data.Sqlite.SqliteConnection conn, DateTimeOffset at)
    {
        using var probe = PrepareOn(conn, "SELECT id, received_ms FROM vitals WHERE id >= ?1 ORDER BY id LIMIT 1;");
        var target = at.ToUnixTimeMilliseconds();
        long low = 0, high = Scalar(conn, "SELECT coalesce(max(id), 0) FROM vitals;") + 1;
        while (low < high)
        {
            var mid = low + ((high - low) / 2);
            raw.sqlite3_reset(probe);
            raw.sqlite3_bind_int64(probe, 1, mid);
            if (!Step(conn, probe))
            {
                high = mid;
                continue;
            }

            var (id, received) = (raw.sqlite3_column_int64(probe, 0), raw.sqlite3_column_int64(probe, 1));
            if (received >= target)
            {
                high = mid;
            }
            else
            {
                low = id + 1;
            }
        }

        return low;
    }
}
