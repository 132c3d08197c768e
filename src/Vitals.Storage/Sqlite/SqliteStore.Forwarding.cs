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
    /// Local retention: deletes blocks of frames received before <paramref name="olderThan"/>, oldest first, in short
    /// transactions so appends interleave. It walks the blocks in id order and stops at the first block holding a frame
    /// that is not old enough, so a frame stamped in the past after a clock step is kept longer, never deleted early.
    /// With <paramref name="forwardingConfigured"/> it never deletes a frame above the observations forwarder's cursor
    /// (<see cref="SqliteOutbox.ObservationsName"/>): what has not reached InfluxDB stays. It always keeps the newest
    /// block, because the next frame's id is the newest one plus one: an emptied table would hand out ids at or below the
    /// cursor again. The event log is never compacted: it is the append-only audit trail (alarms, config changes).
    /// Returns the number of frames deleted.
    /// </summary>
    public long Compact(DateTimeOffset olderThan, bool forwardingConfigured)
    {
        var cutoff = olderThan.ToUnixTimeMilliseconds();
        long limit;
        using (var conn = OpenReader())
        {
            limit = Scalar(conn, "SELECT coalesce((SELECT first_id FROM vitals_blocks ORDER BY first_id DESC LIMIT 1), 0);") - 1;
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
            long frames = 0;
            var blocks = 0;
            var reachedNewer = false;
            using (var conn = OpenReader())
            using (var cmd = conn.CreateCommand())
            {
                cmd.CommandText = "SELECT first_id, last_id, received_ms FROM vitals_blocks WHERE first_id > $from ORDER BY first_id LIMIT $n;";
                cmd.Parameters.AddWithValue("$from", from);
                cmd.Parameters.AddWithValue("$n", CompactChunk);
                using var reader = cmd.ExecuteReader();
                while (reader.Read())
                {
                    blocks++;
                    if (reader.GetInt64(1) > limit || reader.GetInt64(2) >= cutoff)
                    {
                        reachedNewer = true;
                        break;
                    }

                    upTo = reader.GetInt64(1);
                    frames += upTo - reader.GetInt64(0) + 1;
                }
            }

            if (upTo > from)
            {
                lock (writeLock)
                {
                    using var cmd = writer.CreateCommand();
                    cmd.CommandText = "DELETE FROM vitals_blocks WHERE first_id > $from AND last_id <= $upTo;";
                    cmd.Parameters.AddWithValue("$from", from);
                    cmd.Parameters.AddWithValue("$upTo", upTo);
                    cmd.ExecuteNonQuery();
                    deleted += frames;
                    ForgetTail(upTo);
                }
            }

            if (reachedNewer || blocks < CompactChunk)
            {
                break;
            }

            from = upTo;
        }

        return deleted;
    }

    /// <summary>Frames (or events) waiting for forwarder <paramref name="name"/> and when the oldest was produced (gateway clock).</summary>
    internal (long Rows, DateTimeOffset? OldestAt) ReadBacklog(OutboxKind kind, string name)
    {
        using var conn = OpenReader();
        using var tx = conn.BeginTransaction(deferred: true);
        var cursor = ReadCursor(conn, name);
        if (kind == OutboxKind.Observations)
        {
            // Frames above the cursor are never deleted while forwarding, and ids are dense, so the id
            // difference is the count without walking a large backlog on every status poll.
            var frames = Math.Max(0, NewestFrameId(conn) - cursor);
            return (frames, frames == 0 ? null : OldestReceivedAfter(conn, cursor));
        }

        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.Parameters.AddWithValue("$after", cursor);
        cmd.CommandText = $"SELECT count(*) FROM events WHERE type IN {ForwardedEventTypes} AND id > $after;";
        var rows = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        cmd.CommandText = $"SELECT at_ms FROM events WHERE type IN {ForwardedEventTypes} AND id > $after ORDER BY id LIMIT 1;";
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
        cmd.CommandText = $"SELECT coalesce(max(id), 0) FROM events WHERE type IN {ForwardedEventTypes};";
        var head = kind == OutboxKind.Observations ? NewestFrameId(conn) : Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
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
    /// The observations half of <see cref="ReadOutbox"/>, on the caller's read transaction: one record per frame, from
    /// the blocks holding frames after <paramref name="after"/>. A block this build cannot decode is quarantined whole
    /// (described, not its bytes) and the cursor moved past its last frame.
    /// </summary>
    private void ReadObservationOutbox(SqliteConnection conn, string name, long after, int max, DateTimeOffset now, List<OutboxRecord> records)
    {
        using var stmt = PrepareOn(conn, BlocksAfter + ";");
        raw.sqlite3_bind_int64(stmt, 1, after);
        foreach (var block in DecodeBlocks(conn, stmt))
        {
            if (block.Error is null)
            {
                for (var i = (int)Math.Max(0, after + 1 - block.FirstId); i < block.Frames.Count && records.Count < max; i++)
                {
                    records.Add(OutboxRecord.Of(block.FirstId + i, block.Frames[i]));
                }

                if (records.Count >= max)
                {
                    return;
                }

                continue;
            }

            if (records.Count > 0)
            {
                return; // deliver what decoded; the bad block is handled first thing next read
            }

            var (firstId, lastId) = (block.FirstId, block.LastId);
            var described = string.Create(CultureInfo.InvariantCulture, $"vitals_blocks first_id={firstId} last_id={lastId} stream={block.Stream} bytes={block.Bytes}");
            SkipUndecodable(name, lastId, described, $"cannot decode outbox frames {firstId.ToString(CultureInfo.InvariantCulture)}..{lastId.ToString(CultureInfo.InvariantCulture)}: {block.Error}", now);
            after = lastId;
        }
    }

    /// <summary>The id of the newest frame (0 when none).</summary>
    private static long NewestFrameId(SqliteConnection conn) =>
        Scalar(conn, "SELECT coalesce((SELECT last_id FROM vitals_blocks ORDER BY first_id DESC LIMIT 1), 0);");

    /// <summary>When the first frame after id <paramref name="after"/> was received, or null when it cannot be read.</summary>
    private static DateTimeOffset? OldestReceivedAfter(SqliteConnection conn, long after)
    {
        using var stmt = PrepareOn(conn, BlocksAfter + " LIMIT 1;");
        raw.sqlite3_bind_int64(stmt, 1, after);
        foreach (var block in DecodeBlocks(conn, stmt)) // one block at most (LIMIT 1)
        {
            return block.Error is null ? block.Frames[(int)Math.Max(0, after + 1 - block.FirstId)][0].ReceivedAt : null;
        }

        return null;
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
