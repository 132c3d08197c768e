using SQLitePCL;
using Vitals.Core;

namespace Vitals.Storage.Sqlite;

/// <summary>
/// What a restart reads back besides configuration changes: the alarm engine's state, saved as one small
/// <c>config</c> row per chair and written only when it changed, and the recent readings its rate-of-change and
/// baseline rules compare with, read from the blocks they were stored in (so they are never written twice).
/// </summary>
public sealed partial class SqliteStore
{
    /// <summary>
    /// Frames are in id order, and a frame's receive time grows with its id but for feeds racing into one batch
    /// (milliseconds) or a clock step; the search for where a time span starts steps back this much further to keep such frames.
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
    /// its rules read, over their windows.
    /// </summary>
    public IEnumerable<Observation> ReadReceivedSince(IReadOnlyDictionary<Sign, DateTimeOffset> since)
    {
        ArgumentNullException.ThrowIfNull(since);
        if (since.Count == 0)
        {
            yield break;
        }

        var fresh = new long[Signs.All.Count];
        Array.Fill(fresh, long.MaxValue); // a sign not asked for is never fresh
        foreach (var (sign, at) in since)
        {
            fresh[(int)sign] = at.ToUnixTimeMilliseconds();
        }

        var earliest = since.Values.Min();
        using var conn = OpenReader();
        var from = FirstIdReceivedFrom(conn, earliest - ReceivedOrderSlack);
        using var stmt = PrepareOn(conn, BlocksAfter + ";");
        raw.sqlite3_bind_int64(stmt, 1, from - 1);
        foreach (var block in DecodeBlocks(conn, stmt))
        {
            if (block.Error is not null)
            {
                continue; // what cannot be read is not recalled (the forwarder quarantines it)
            }

            for (var i = (int)Math.Max(0, from - block.FirstId); i < block.Frames.Count; i++)
            {
                foreach (var o in block.Frames[i])
                {
                    if (o.ReceivedAt.ToUnixTimeMilliseconds() >= fresh[(int)o.Sign])
                    {
                        yield return o;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The lowest frame id from which on every frame (taken in id order) was received at or after <paramref name="at"/>,
    /// as far as blocks tell: a block's <c>received_ms</c> is its latest frame's.
    /// </summary>
    private static long FirstIdReceivedFrom(Microsoft.Data.Sqlite.SqliteConnection conn, DateTimeOffset at)
    {
        using var probe = PrepareOn(conn, "SELECT first_id, last_id, received_ms FROM vitals_blocks WHERE first_id >= ?1 ORDER BY first_id LIMIT 1;");
        var target = at.ToUnixTimeMilliseconds();
        long low = 0, high = NewestFrameId(conn) + 1;
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

            var (first, last, received) = (raw.sqlite3_column_int64(probe, 0), raw.sqlite3_column_int64(probe, 1), raw.sqlite3_column_int64(probe, 2));
            if (received >= target)
            {
                high = Math.Min(mid, first);
            }
            else
            {
                low = last + 1;
            }
        }

        return low;
    }
}
