using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Vitals.Core;
using Vitals.Storage.Influx;

namespace Vitals.Storage.Sqlite;

/// <summary>A line InfluxDB refused (or an outbox row that could not be decoded), kept for an operator.</summary>
/// <param name="Id">Sequence number in the quarantine table.</param>
/// <param name="At">When it was quarantined.</param>
/// <param name="Forwarder">Which outbox it came from (<see cref="SqliteOutbox.Name"/>).</param>
/// <param name="Line">The line protocol text, or a description of the undecodable row.</param>
/// <param name="Error">The server's error, or why the row could not be decoded.</param>
public sealed record QuarantineEntry(long Id, DateTimeOffset At, string Forwarder, string Line, string Error);

/// <summary>Forwarding support: durable cursors, quarantine, outbox reads, retention and backlog.</summary>
public sealed partial class SqliteStore
{
    private const int CompactChunk = 10_000;
    private const string ForwardedEventTypes = $"('{AlarmEventType}', '{FeedStatusEventType}')";

    /// <summary>Appends feed status snapshots to the event log (type <see cref="FeedStatusEventType"/>) in one transaction. Returns the last sequence number (0 for none).</summary>
    public long AppendFeedStatus(IReadOnlyList<FeedStatusSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return AppendEvents(FeedStatusEventType, [.. samples.Select(s => (s.At, (string?)s.Chair, JsonSerializer.Serialize(s, StorageJson.Options.TypeInfo<FeedStatusSample>())))]);
    }

    /// <summary>The committed cursor of forwarder <paramref name="name"/> (0 when it never committed).</summary>
    public long GetForwardCursor(string name)
    {
        using var conn = OpenReader();
        return ReadCursor(conn, name);
    }

    /// <summary>Durably moves forwarder <paramref name="name"/>'s cursor to <paramref name="cursor"/>; it never moves backwards.</summary>
    public void SetForwardCursor(string name, long cursor)
    {
        lock (writeLock)
        {
            WriteCursor(writer, null, name, cursor);
        }

        if (name == SqliteOutbox.ObservationsName)
        {
            ForgetTail(cursor); // delivered: the forwarder never reads these again
        }
    }

    /// <summary>Keeps <paramref name="lines"/> with <paramref name="error"/> in the quarantine table, in one transaction.</summary>
    public void AppendQuarantine(string forwarder, IReadOnlyList<string> lines, string error, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(lines);
        lock (writeLock)
        {
            using var tx = writer.BeginTransaction();
            foreach (var line in lines)
            {
                InsertQuarantine(writer, tx, forwarder, line, error, at);
            }

            tx.Commit();
        }
    }

    /// <summary>Number of quarantined lines, of one forwarder or of all.</summary>
    public long CountQuarantined(string? forwarder = null)
    {
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM quarantine WHERE $fw IS NULL OR forwarder = $fw;";
        cmd.Parameters.AddWithValue("$fw", (object?)forwarder ?? DBNull.Value);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The latest <paramref name="count"/> quarantined lines, newest first, of one forwarder or of all.</summary>
    public List<QuarantineEntry> ReadQuarantine(int count = 20, string? forwarder = null)
    {
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT id, at_ms, forwarder, line, error FROM quarantine
            WHERE $fw IS NULL OR forwarder = $fw ORDER BY id DESC LIMIT $n;
            """;
        cmd.Parameters.AddWithValue("$fw", (object?)forwarder ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$n", count);
        using var reader = cmd.ExecuteReader();
        var result = new List<QuarantineEntry>();
        while (reader.Read())
        {
            result.Add(new QuarantineEntry(
                reader.GetInt64(0),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4)));
        }

        return result;
    }

    /// <summary>
    /// Local retention: deletes <c>vitals</c> rows received before <paramref name="olderThan"/>, oldest first,
    /// in short transactions so appends interleave. It walks the table in insertion order and stops at
    /// the first row that is not old enough, so a row stamped in the past after a clock step is kept
    /// longer, never deleted early. With <paramref name="forwardingConfigured"/> it never deletes a row
    /// above the observations forwarder's cursor (<see cref="SqliteOutbox.ObservationsName"/>): what has
    /// not reached InfluxDB stays. It always keeps the newest row, because SQLite gives a new row the
    /// highest id plus one: an emptied table would hand out ids at or below the cursor again (AUTOINCREMENT
    /// would prevent that too, but costs a write to sqlite_sequence on every insert).
    /// The event log is never compacted: it is the append-only audit trail (alarms, config changes).
    /// Returns the number of rows (frames) deleted.
    /// </summary>
    public long Compact(DateTimeOffset olderThan, bool forwardingConfigured)
    {
        var cutoff = olderThan.ToUnixTimeMilliseconds();
        long limit;
        using (var conn = OpenReader())
        {
            limit = Scalar(conn, "SELECT coalesce(max(id), 0) FROM vitals;") - 1;
            if (forwardingConfigured)
            {
                limit = Math.Min(limit, ReadCursor(conn, SqliteOutbox.ObservationsName));
            }
        }

        long deleted = 0;
        long from = 0;
        while (from < limit)
        {
            // Find the old prefix of the next chunk on a reader connection; only the delete takes the writer.
            long upTo = from;
            var rows = 0;
            var reachedNewer = false;
            using (var conn = OpenReader())
            using (var cmd = conn.CreateCommand())
            {
                cmd.CommandText = "SELECT id, received_ms FROM vitals WHERE id > $from AND id <= $limit ORDER BY id LIMIT $n;";
                cmd.Parameters.AddWithValue("$from", from);
                cmd.Parameters.AddWithValue("$limit", limit);
                cmd.Parameters.AddWithValue("$n", CompactChunk);
                using var reader = cmd.ExecuteReader();
                while (reader.Read())
                {
                    rows++;
                    if (reader.GetInt64(1) >= cutoff)
                    {
                        reachedNewer = true;
                        break;
                    }

                    upTo = reader.GetInt64(0);
                }
            }

            if (upTo > from)
            {
                lock (writeLock)
                {
                    using var cmd = writer.CreateCommand();
                    cmd.CommandText = "DELETE FROM vitals WHERE id > $from AND id <= $upTo;";
                    cmd.Parameters.AddWithValue("$from", from);
                    cmd.Parameters.AddWithValue("$upTo", upTo);
                    deleted += cmd.ExecuteNonQuery();

                    // A span goes with its last row; one cut in two keeps indexing the rows left (a read skips the gap).
                    cmd.CommandText = "DELETE FROM vitals_spans WHERE first_id <= $upTo AND last_id <= $upTo;";
                    cmd.ExecuteNonQuery();
                    ForgetTail(upTo);
                }
            }

            if (reachedNewer || rows < CompactChunk)
            {
                break;
            }

            from = upTo;
        }

        return deleted;
    }

    /// <summary>Rows waiting for forwarder <paramref name="name"/> and when the oldest was produced (gateway clock).</summary>
    internal (long Rows, DateTimeOffset? OldestAt) ReadBacklog(OutboxKind kind, string name)
    {
        using var conn = OpenReader();
        using var tx = conn.BeginTransaction(deferred: true);
        var cursor = ReadCursor(conn, name);
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.Parameters.AddWithValue("$after", cursor);
        long rows;
        if (kind == OutboxKind.Observations)
        {
            // Rows above the cursor are never deleted while forwarding, and ids are dense, so the id
            // difference is the count without walking a large backlog on every status poll.
            cmd.CommandText = "SELECT coalesce(max(id), 0) FROM vitals;";
            rows = Math.Max(0, Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) - cursor);
            cmd.CommandText = "SELECT received_ms FROM vitals WHERE id > $after ORDER BY id LIMIT 1;";
        }
        else
        {
            cmd.CommandText = $"SELECT count(*) FROM events WHERE type IN {ForwardedEventTypes} AND id > $after;";
            rows = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
            cmd.CommandText = $"SELECT at_ms FROM events WHERE type IN {ForwardedEventTypes} AND id > $after ORDER BY id LIMIT 1;";
        }

        var oldest = cmd.ExecuteScalar();
        return (rows, oldest is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null);
    }

    /// <summary>
    /// Reads up to <paramref name="max"/> outbox rows after the larger of <paramref name="cursor"/> and
    /// the durable cursor. A row that cannot be decoded (corrupt, or written by a newer build) is
    /// quarantined and the durable cursor moved past it in one transaction, so it never wedges the
    /// forwarder and is quarantined once; a batch stops before such a row when it already holds records.
    /// </summary>
    internal OutboxBatch ReadOutbox(OutboxKind kind, string name, long cursor, int max, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        using var conn = OpenReader();
        using var tx = conn.BeginTransaction(deferred: true);
        var after = Math.Max(cursor, ReadCursor(conn, name));
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = kind == OutboxKind.Observations
            ? "SELECT coalesce(max(id), 0) FROM vitals;"
            : $"SELECT coalesce(max(id), 0) FROM events WHERE type IN {ForwardedEventTypes};";
        var head = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        var records = new List<OutboxRecord>(Math.Min(max, 16_384));
        if (kind == OutboxKind.Observations)
        {
            if (!ReadTail(after, max, records))
            {
                ReadObservationOutbox(conn, name, after, max, now, records);
            }

            return new OutboxBatch(records, Math.Max(head, records.Count > 0 ? records[^1].Sequence : 0));
        }

        cmd.CommandText = $"SELECT id, type, data FROM events WHERE type IN {ForwardedEventTypes} AND id > $after ORDER BY id LIMIT $max;";
        cmd.Parameters.AddWithValue("$after", after);
        cmd.Parameters.AddWithValue("$max", max);
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            var id = reader.GetInt64(0);
            var type = reader.GetString(1);
            var data = reader.GetString(2);
            var error = TryDecodeEvent(id, type, data, out var record);
            if (error is null)
            {
                records.Add(record);
                continue;
            }

            if (records.Count > 0)
            {
                break; // deliver what decoded; the bad row is handled first thing next read
            }

            SkipUndecodable(name, id, DescribeRow(reader), $"cannot decode outbox row {id.ToString(CultureInfo.InvariantCulture)}: {error}", now);
        }

        return new OutboxBatch(records, head);
    }

    /// <summary>
    /// The observations half of <see cref="ReadOutbox"/>, on the caller's read transaction: one record per
    /// <c>vitals</c> row. It drives one statement through SQLitePCL directly (like <see cref="Append"/>):
    /// through ADO.NET, building strings per row cost more than SQLite's own read.
    /// </summary>
    private void ReadObservationOutbox(SqliteConnection conn, string name, long after, int max, DateTimeOffset now, List<OutboxRecord> records)
    {
        using var stmt = PrepareOn(conn, $"SELECT {FrameColumns} FROM vitals_frames WHERE id > ?1 ORDER BY id LIMIT ?2;");
        raw.sqlite3_bind_int64(stmt, 1, after);
        raw.sqlite3_bind_int(stmt, 2, max);
        var text = new Utf8TextCache();
        while (Step(conn, stmt))
        {
            var id = raw.sqlite3_column_int64(stmt, 0);
            if (ReadFrame(stmt, text) is { Length: > 0 } frame)
            {
                records.Add(OutboxRecord.Of(id, frame));
                continue;
            }

            if (records.Count > 0)
            {
                return; // deliver what decoded; the bad row is handled first thing next read
            }

            SkipUndecodable(name, id, DescribeRow(stmt), $"cannot decode outbox row {id.ToString(CultureInfo.InvariantCulture)}: vitals row with an unknown source or no value", now);
        }
    }

    /// <summary>
    /// The observations of the current row of a <c>SELECT</c> of <see cref="FrameColumns"/>, in sign order;
    /// null when its source is not one this build knows.
    /// </summary>
    private static Observation[]? ReadFrame(sqlite3_stmt stmt, Utf8TextCache text)
    {
        if (text.Source(stmt, 6) is not { } source)
        {
            return null;
        }

        var count = 0;
        for (var i = 0; i < Signs.All.Count; i++)
        {
            count += raw.sqlite3_column_type(stmt, FirstSignColumn + (2 * i)) == raw.SQLITE_NULL ? 0 : 1;
        }

        var frame = new Observation[count];
        if (count == 0)
        {
            return frame;
        }

        var site = text.Get(stmt, 1);
        var chair = text.Get(stmt, 2);
        var device = text.Get(stmt, 3);
        var measured = DateTimeOffset.FromUnixTimeMilliseconds(raw.sqlite3_column_int64(stmt, 4));
        var received = DateTimeOffset.FromUnixTimeMilliseconds(raw.sqlite3_column_int64(stmt, 5));
        var n = 0;
        for (var i = 0; n < count; i++)
        {
            var column = FirstSignColumn + (2 * i);
            if (raw.sqlite3_column_type(stmt, column) != raw.SQLITE_NULL)
            {
                frame[n++] = new Observation(
                    site, chair, device, (Sign)i, raw.sqlite3_column_double(stmt, column), measured, received, source,
                    (ObservationQuality)raw.sqlite3_column_int(stmt, column + 1));
            }
        }

        return frame;
    }

    /// <summary>Steps <paramref name="stmt"/>: true for a row, false when done; a failure throws.</summary>
    private static bool Step(SqliteConnection conn, sqlite3_stmt stmt) => raw.sqlite3_step(stmt) switch
    {
        raw.SQLITE_ROW => true,
        raw.SQLITE_DONE => false,
        var rc => throw SqliteFailure(conn, rc),
    };

    private static sqlite3_stmt PrepareOn(SqliteConnection conn, string sql)
    {
        var rc = raw.sqlite3_prepare_v2(conn.Handle, sql, out var statement);
        if (rc != raw.SQLITE_OK)
        {
            statement.Dispose();
            throw SqliteFailure(conn, rc);
        }

        return statement;
    }

    /// <summary>The error of a failed SQLitePCL call on <paramref name="conn"/>, as Microsoft.Data.Sqlite reports its own.</summary>
    private static SqliteException SqliteFailure(SqliteConnection conn, int rc) =>
        new($"SQLite Error {rc}: '{raw.sqlite3_errmsg(conn.Handle).utf8_to_string()}'.", rc);

    private static string DescribeRow(sqlite3_stmt stmt)
    {
        var parts = new string[raw.sqlite3_column_count(stmt)];
        for (var i = 0; i < parts.Length; i++)
        {
            object value = raw.sqlite3_column_type(stmt, i) switch
            {
                raw.SQLITE_INTEGER => raw.sqlite3_column_int64(stmt, i),
                raw.SQLITE_FLOAT => raw.sqlite3_column_double(stmt, i),
                raw.SQLITE_NULL => string.Empty,
                _ => raw.sqlite3_column_text(stmt, i).utf8_to_string(),
            };
            parts[i] = string.Create(CultureInfo.InvariantCulture, $"{raw.sqlite3_column_name(stmt, i).utf8_to_string()}={value}");
        }

        return string.Join(' ', parts);
    }

    private static string? TryDecodeEvent(long id, string type, string data, out OutboxRecord record)
    {
        record = default;
        try
        {
            if (type == AlarmEventType && JsonSerializer.Deserialize(data, StorageJson.Options.TypeInfo<AlarmEvent>()) is { } alarm)
            {
                record = OutboxRecord.Of(id, alarm);
                return null;
            }

            if (type == FeedStatusEventType && JsonSerializer.Deserialize(data, StorageJson.Options.TypeInfo<FeedStatusSample>()) is { } status)
            {
                record = OutboxRecord.Of(id, status);
                return null;
            }

            return $"empty {type} payload";
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or FormatException)
        {
            // A payload this build cannot read must not wedge the forwarder: the caller quarantines it.
            return e.Message;
        }
    }

    private static string DescribeRow(SqliteDataReader reader)
    {
        var parts = new string[reader.FieldCount];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = string.Create(CultureInfo.InvariantCulture, $"{reader.GetName(i)}={reader.GetValue(i)}");
        }

        return string.Join(' ', parts);
    }

    private static long ReadCursor(SqliteConnection conn, string name)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT cursor FROM forward_cursors WHERE name = $name;";
        cmd.Parameters.AddWithValue("$name", name);
        return cmd.ExecuteScalar() is long cursor ? cursor : 0;
    }

    private static void WriteCursor(SqliteConnection conn, SqliteTransaction? tx, string name, long cursor)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            INSERT INTO forward_cursors (name, cursor) VALUES ($name, $cursor)
            ON CONFLICT(name) DO UPDATE SET cursor = max(cursor, excluded.cursor);
            """;
        cmd.Parameters.AddWithValue("$name", name);
        cmd.Parameters.AddWithValue("$cursor", cursor);
        cmd.ExecuteNonQuery();
    }

    private static void InsertQuarantine(SqliteConnection conn, SqliteTransaction tx, string forwarder, string line, string error, DateTimeOffset at)
    {
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO quarantine (at_ms, forwarder, line, error) VALUES ($at, $fw, $line, $error);";
        cmd.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$fw", forwarder);
        cmd.Parameters.AddWithValue("$line", line);
        cmd.Parameters.AddWithValue("$error", error);
        cmd.ExecuteNonQuery();
    }

    private void SkipUndecodable(string name, long id, string line, string error, DateTimeOffset at)
    {
        lock (writeLock)
        {
            using var tx = writer.BeginTransaction();
            InsertQuarantine(writer, tx, name, line, error, at);
            WriteCursor(writer, tx, name, id);
            tx.Commit();
        }
    }
}

/// <summary>Which table an outbox reads.</summary>
internal enum OutboxKind
{
    Observations,
    Events,
}
