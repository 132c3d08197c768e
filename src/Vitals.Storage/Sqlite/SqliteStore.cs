using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Vitals.Core;

namespace Vitals.Storage.Sqlite;

/// <summary>An entry of the append-only event log (alarm transitions, config changes, feed events).</summary>
/// <param name="Id">Sequence number, assigned by the store.</param>
/// <param name="At">When it happened.</param>
/// <param name="Type">Event type, for example <c>alarm</c>, <c>config</c>, <c>feed</c>.</param>
/// <param name="Chair">Chair concerned, if any.</param>
/// <param name="Data">JSON payload.</param>
public sealed record StoredEvent(long Id, DateTimeOffset At, string Type, string? Chair, string Data);

/// <summary>
/// The embedded store: observation history (whose row ids double as the forwarding outbox sequence),
/// an append-only event log and key/value configuration, in one SQLite file in WAL mode.
/// Writes are serialised on one connection; reads use their own connections, which WAL lets run beside writes.
/// Forwarding cursors, quarantine, retention and backlog live in <c>SqliteStore.Forwarding.cs</c>.
/// </summary>
public sealed partial class SqliteStore : IDisposable
{
    /// <summary>Event type of alarm transitions (data: the <see cref="AlarmEvent"/> as <see cref="StorageJson"/>).</summary>
    public const string AlarmEventType = "alarm";

    /// <summary>Event type of feed status snapshots (data: the feed status sample as <see cref="StorageJson"/>).</summary>
    public const string FeedStatusEventType = "feed_status";

    /// <summary>Schema 1: observations, events, config. Schema 2 adds forward_cursors and quarantine.</summary>
    private const int SchemaVersion = 2;

    private static readonly string[] SourceNames = Enum.GetNames<SourceProtocol>();

    private readonly Dictionary<string, byte[]> utf8 = new(StringComparer.Ordinal);
    private sqlite3_stmt? insert;

    private readonly string connectionString;
    private readonly SqliteConnection writer;
    private readonly Lock writeLock = new();

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/>.</summary>
    public SqliteStore(string path)
    {
        Path = path;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        writer = new SqliteConnection(connectionString);
        writer.Open();
        // A 64 MB page cache and a WAL checkpoint every 10,000 pages (40 MB, not 1000) on the writer:
        // index pages rewritten by every append are copied back to the database file less often.
        Execute(writer, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            PRAGMA busy_timeout = 5000;
            PRAGMA cache_size = -65536;
            PRAGMA wal_autocheckpoint = 10000;
            """);
        Migrate();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>Appends observations in one transaction. Returns the row id of the last one (the outbox sequence).</summary>
    public long Append(IReadOnlyList<Observation> observations)
    {
        if (observations.Count == 0)
        {
            return 0;
        }

        lock (writeLock)
        {
            using var tx = writer.BeginTransaction();

            // One statement prepared for the store's lifetime and driven through SQLitePCL directly: ADO.NET's
            // per-command binding costs several times more than SQLite's own insert on this hot path.
            insert ??= PrepareOn(writer, """
                INSERT INTO observations (site, chair, device, sign, value, measured_ms, received_ms, source, quality)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9);
                """);
            foreach (var o in observations)
            {
                raw.sqlite3_bind_text(insert, 1, Utf8(o.Site));
                raw.sqlite3_bind_text(insert, 2, Utf8(o.Chair));
                raw.sqlite3_bind_text(insert, 3, Utf8(o.Device));
                raw.sqlite3_bind_text(insert, 4, Utf8(o.Sign.ShortName()));
                raw.sqlite3_bind_double(insert, 5, o.Value);
                raw.sqlite3_bind_int64(insert, 6, o.MeasuredAt.ToUnixTimeMilliseconds());
                raw.sqlite3_bind_int64(insert, 7, o.ReceivedAt.ToUnixTimeMilliseconds());
                raw.sqlite3_bind_text(insert, 8, Utf8(SourceNames[(int)o.Source]));
                raw.sqlite3_bind_int(insert, 9, (int)o.Quality);
                var rc = raw.sqlite3_step(insert);
                raw.sqlite3_reset(insert);
                if (rc != raw.SQLITE_DONE)
                {
                    throw SqliteFailure(writer, rc);
                }
            }

            tx.Commit();
            var last = LastRowId(writer);
            RememberTail(last - observations.Count + 1, observations);
            return last;
        }
    }

    /// <summary>
    /// UTF-8 bytes of a repeated text value (site, chair, device, sign, source): a handful of distinct values
    /// recur on every row, so they are encoded once. Bounded so an unusual feed cannot grow it without limit.
    /// </summary>
    private ReadOnlySpan<byte> Utf8(string value)
    {
        if (!utf8.TryGetValue(value, out var bytes))
        {
            if (utf8.Count >= 4096)
            {
                utf8.Clear();
            }

            utf8[value] = bytes = System.Text.Encoding.UTF8.GetBytes(value);
        }

        return bytes;
    }

    /// <summary>Observations of <paramref name="chair"/> measured in [from, to), oldest first, at most <paramref name="limit"/>.</summary>
    public List<Observation> Query(string chair, DateTimeOffset from, DateTimeOffset to, int limit = 100_000)
    {
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT site, chair, device, sign, value, measured_ms, received_ms, source, quality
            FROM observations WHERE chair = $chair AND measured_ms >= $from AND measured_ms < $to
            ORDER BY measured_ms, id LIMIT $limit;
            """;
        cmd.Parameters.AddWithValue("$chair", chair);
        cmd.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$limit", limit);
        using var reader = cmd.ExecuteReader();
        var result = new List<Observation>();
        while (reader.Read())
        {
            if (ReadObservation(reader, 0) is { } observation)
            {
                result.Add(observation);
            }
        }

        return result;
    }

    /// <summary>Number of observations stored.</summary>
    public long CountObservations()
    {
        using var conn = OpenReader();
        return Scalar(conn, "SELECT count(*) FROM observations;");
    }

    /// <summary>Appends one entry to the event log and returns its sequence number.</summary>
    public long AppendEvent(DateTimeOffset at, string type, string? chair, string data)
    {
        lock (writeLock)
        {
            using var cmd = writer.CreateCommand();
            cmd.CommandText = "INSERT INTO events (at_ms, type, chair, data) VALUES ($at, $type, $chair, $data);";
            cmd.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$type", type);
            cmd.Parameters.AddWithValue("$chair", (object?)chair ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$data", data);
            cmd.ExecuteNonQuery();
            return LastRowId(writer);
        }
    }

    /// <summary>Event log entries after <paramref name="afterId"/>, oldest first, optionally of one type and chair.</summary>
    public List<StoredEvent> ReadEvents(long afterId = 0, string? type = null, string? chair = null, int limit = 1000)
    {
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT id, at_ms, type, chair, data FROM events
            WHERE id > $after AND ($type IS NULL OR type = $type) AND ($chair IS NULL OR chair = $chair)
            ORDER BY id LIMIT $limit;
            """;
        cmd.Parameters.AddWithValue("$after", afterId);
        cmd.Parameters.AddWithValue("$type", (object?)type ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$chair", (object?)chair ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$limit", limit);
        using var reader = cmd.ExecuteReader();
        var result = new List<StoredEvent>();
        while (reader.Read())
        {
            result.Add(new StoredEvent(
                reader.GetInt64(0),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetString(4)));
        }

        return result;
    }

    /// <summary>A configuration value, or null.</summary>
    public string? GetConfig(string key)
    {
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT value FROM config WHERE key = $key;";
        cmd.Parameters.AddWithValue("$key", key);
        return cmd.ExecuteScalar() as string;
    }

    /// <summary>Sets a configuration value.</summary>
    public void SetConfig(string key, string value, DateTimeOffset at)
    {
        lock (writeLock)
        {
            using var cmd = writer.CreateCommand();
            cmd.CommandText = """
                INSERT INTO config (key, value, updated_ms) VALUES ($key, $value, $at)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms;
                """;
            cmd.Parameters.AddWithValue("$key", key);
            cmd.Parameters.AddWithValue("$value", value);
            cmd.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
            cmd.ExecuteNonQuery();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (writeLock)
        {
            // A statement left open would keep the connection (and the file) from closing.
            insert?.Dispose();
            insert = null;
            writer.Dispose();
        }
    }

    private static long LastRowId(SqliteConnection conn) => Scalar(conn, "SELECT last_insert_rowid();");

    private static long Scalar(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private SqliteConnection OpenReader()
    {
        var conn = new SqliteConnection(connectionString);
        conn.Open();
        return conn;
    }

    private void Migrate()
    {
        var version = Scalar(writer, "PRAGMA user_version;");
        if (version > SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The data file {Path} was written by a newer Vitals (schema {version}, this build knows {SchemaVersion}). Use the newer build or another --data directory.");
        }

        // Each step upgrades one version in its own transaction, so a crash mid-migration leaves a
        // consistent file at the previous version; existing rows are never rewritten.
        if (version < 1)
        {
            MigrateStep(1, """
                CREATE TABLE IF NOT EXISTS observations (
                    id INTEGER PRIMARY KEY,
                    site TEXT NOT NULL, chair TEXT NOT NULL, device TEXT NOT NULL, sign TEXT NOT NULL,
                    value REAL NOT NULL, measured_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL,
                    source TEXT NOT NULL, quality INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS observations_chair_time ON observations (chair, measured_ms);
                CREATE TABLE IF NOT EXISTS events (
                    id INTEGER PRIMARY KEY,
                    at_ms INTEGER NOT NULL, type TEXT NOT NULL, chair TEXT, data TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS events_type ON events (type, id);
                CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
                    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_ms INTEGER NOT NULL);
                """);
        }

        if (version < 2)
        {
            MigrateStep(2, """
                CREATE TABLE IF NOT EXISTS forward_cursors (name TEXT PRIMARY KEY, cursor INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS quarantine (
                    id INTEGER PRIMARY KEY,
                    at_ms INTEGER NOT NULL, forwarder TEXT NOT NULL, line TEXT NOT NULL, error TEXT NOT NULL);
                """);
        }
    }

    private void MigrateStep(int toVersion, string sql)
    {
        using var tx = writer.BeginTransaction();
        using var cmd = writer.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql + $"PRAGMA user_version = {toVersion};";
        cmd.ExecuteNonQuery();
        tx.Commit();
    }
}
