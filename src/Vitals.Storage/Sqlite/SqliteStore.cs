using System.Globalization;
using System.Text;
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
/// The embedded store: observation history, a row per frame (whose row ids double as the forwarding outbox sequence),
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

    /// <summary>Schema 1: observations, events, config. 2 adds forward_cursors and quarantine. 3 stores a row per frame in vitals.</summary>
    private const int SchemaVersion = 4;

    /// <summary>
    /// Who an event log entry names (alarm acknowledgements, configuration changes, audit entries), as indexed. A row
    /// that is not JSON has no user: json_extract would fail its insert.
    /// </summary>
    private const string UserExpression = "CASE WHEN json_valid(data) THEN lower(json_extract(data, '$.user')) END";

    private static readonly string[] SourceNames = Enum.GetNames<SourceProtocol>();

    /// <summary>A value and a quality column per sign, in <see cref="Sign"/> order: sign i is at <see cref="FirstSignColumn"/> + 2i.</summary>
    private static readonly string SignColumns = string.Join(", ", Signs.All.Select(s => $"{s.ShortName}, {s.ShortName}_quality"));

    /// <summary>The columns of a <c>vitals</c> row but its id.</summary>
    private static readonly string FrameValueColumns = "site, chair, device, measured_ms, received_ms, source, " + SignColumns;

    /// <summary>Every column of a <c>vitals</c> row, in the order <see cref="ReadFrame"/> expects.</summary>
    private static readonly string FrameColumns = "id, " + FrameValueColumns;

    private const int FirstSignColumn = 7;

    /// <summary>Inserts a frame; parameter n is column n of <see cref="FrameColumns"/> (sign i: <see cref="FirstSignColumn"/> + 2i).</summary>
    private static readonly string InsertFrame =
        $"INSERT INTO vitals ({FrameValueColumns}) VALUES ({string.Join(", ", Enumerable.Range(1, FirstSignColumn - 1 + (2 * Signs.All.Count)).Select(i => $"?{i}"))});";

    private readonly Dictionary<string, byte[]> utf8 = new(StringComparer.Ordinal);
    private sqlite3_stmt? insert;
    private BoundRow bound;

    private readonly string connectionString;
    private readonly SqliteConnection writer;
    private readonly Lock writeLock = new();

    /// <summary>
    /// Opens (creating if needed) the store at <paramref name="path"/>. A file of an older schema is upgraded first;
    /// <paramref name="upgrading"/> hears what is about to happen when that takes more than a moment.
    /// </summary>
    public SqliteStore(string path, Action<string>? upgrading = null)
    {
        Path = path;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        connectionString = ConnectionString(path);
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
        Migrate(upgrading);
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>
    /// How every connection to the file is opened (one string, so all share one pool). A command that cannot get a
    /// lock gives up after 5 s (Microsoft.Data.Sqlite's default retries for 30 s), so a store locked by another
    /// process is reported, and alarmed, within seconds while readings wait in memory.
    /// </summary>
    internal static string ConnectionString(string path) =>
        new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 5 }.ToString();

    /// <summary>
    /// Appends observations in one transaction, one <c>vitals</c> row per frame (see <see cref="ObservationFrames"/>).
    /// Returns the row id of the last row (the outbox sequence).
    /// </summary>
    public long Append(IReadOnlyList<Observation> observations)
    {
        if (observations.Count == 0)
        {
            return 0;
        }

        // The tail keeps the rows, so they are copied: the caller may reuse its list.
        List<ArraySegment<Observation>> frames = [.. ObservationFrames.Split([.. observations])];
        lock (writeLock)
        {
            using var tx = writer.BeginTransaction();

            // One statement prepared for the store's lifetime and driven through SQLitePCL directly: ADO.NET's
            // per-command binding costs several times more than SQLite's own insert on this hot path.
            if (insert is null)
            {
                insert = PrepareOn(writer, InsertFrame);
                bound = default;
            }

            foreach (var frame in frames)
            {
                var first = frame[0];
                BindText(1, first.Site, ref bound.Site);
                BindText(2, first.Chair, ref bound.Chair);
                BindText(3, first.Device, ref bound.Device);
                raw.sqlite3_bind_int64(insert, 4, first.MeasuredAt.ToUnixTimeMilliseconds());
                raw.sqlite3_bind_int64(insert, 5, first.ReceivedAt.ToUnixTimeMilliseconds());
                BindText(6, SourceNames[(int)first.Source], ref bound.Source);
                var signs = 0;
                foreach (var o in frame)
                {
                    var column = FirstSignColumn + (2 * (int)o.Sign);
                    raw.sqlite3_bind_double(insert, column, o.Value);
                    raw.sqlite3_bind_int(insert, column + 1, (int)o.Quality);
                    signs |= 1 << (int)o.Sign;
                }

                // Signs the previous frame had and this one has not must be NULL, not the previous frame's values.
                for (var absent = bound.Signs & ~signs; absent != 0; absent &= absent - 1)
                {
                    var column = FirstSignColumn + (2 * System.Numerics.BitOperations.TrailingZeroCount(absent));
                    raw.sqlite3_bind_null(insert, column);
                    raw.sqlite3_bind_null(insert, column + 1);
                }

                bound.Signs = signs;
                var rc = raw.sqlite3_step(insert);
                raw.sqlite3_reset(insert);
                if (rc != raw.SQLITE_DONE)
                {
                    throw SqliteFailure(writer, rc);
                }
            }

            tx.Commit();
            var last = raw.sqlite3_last_insert_rowid(writer.Handle);
            RememberTail(last - frames.Count + 1, frames);
            return last;
        }
    }

    /// <summary>
    /// Binds a text column of the insert unless it already holds <paramref name="value"/>: values stay bound across
    /// <c>sqlite3_reset</c>, and site, source (and, for one monitor's stream, chair and device) repeat row after row.
    /// Each bind is an interface call, a handle check and a P/Invoke; skipping the repeated ones and the per-row
    /// <c>sqlite3_clear_bindings</c> saves 3-6 of the ~13 native calls per row.
    /// </summary>
    private void BindText(int column, string value, ref string? current)
    {
        if (!string.Equals(value, current, StringComparison.Ordinal))
        {
            raw.sqlite3_bind_text(insert, column, Utf8(value));
            current = value;
        }
    }

    /// <summary>What the prepared insert holds bound from the previous row (see <see cref="BindText"/>).</summary>
    private struct BoundRow
    {
        public string? Site;
        public string? Chair;
        public string? Device;
        public string? Source;
        public int Signs; // bit i: sign i's value and quality columns are bound (not NULL)
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
        using var stmt = PrepareOn(conn, $"""
            SELECT {FrameColumns} FROM vitals WHERE chair = ?1 AND measured_ms >= ?2 AND measured_ms < ?3
            ORDER BY measured_ms, id LIMIT ?4;
            """);
        raw.sqlite3_bind_text(stmt, 1, chair);
        raw.sqlite3_bind_int64(stmt, 2, from.ToUnixTimeMilliseconds());
        raw.sqlite3_bind_int64(stmt, 3, to.ToUnixTimeMilliseconds());
        raw.sqlite3_bind_int(stmt, 4, limit); // frames: at least as many observations
        var text = new Utf8TextCache();
        var result = new List<Observation>();
        while (result.Count < limit && Step(conn, stmt))
        {
            if (ReadFrame(stmt, text) is { } frame)
            {
                result.AddRange(frame.AsSpan(0, Math.Min(frame.Length, limit - result.Count)));
            }
        }

        return result;
    }

    /// <summary>Number of observations stored (sign values, not rows).</summary>
    public long CountObservations()
    {
        using var conn = OpenReader();
        var present = string.Join(" + ", Signs.All.Select(s => $"({s.ShortName} IS NOT NULL)"));
        return Scalar(conn, $"SELECT coalesce(sum({present}), 0) FROM vitals;");
    }

    /// <summary>Appends one entry to the event log and returns its sequence number.</summary>
    public long AppendEvent(DateTimeOffset at, string type, string? chair, string data) => AppendEvents(type, [(at, chair, data)]);

    /// <summary>Appends entries of one type to the event log in one transaction. Returns the last sequence number (0 for none).</summary>
    public long AppendEvents(string type, IReadOnlyList<(DateTimeOffset At, string? Chair, string Data)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return 0;
        }

        lock (writeLock)
        {
            using var tx = writer.BeginTransaction();
            using var cmd = writer.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO events (at_ms, type, chair, data) VALUES ($at, $type, $chair, $data);";
            var at = cmd.Parameters.Add("$at", SqliteType.Integer);
            cmd.Parameters.AddWithValue("$type", type);
            var chair = cmd.Parameters.Add("$chair", SqliteType.Text);
            var data = cmd.Parameters.Add("$data", SqliteType.Text);
            foreach (var e in entries)
            {
                at.Value = e.At.ToUnixTimeMilliseconds();
                chair.Value = (object?)e.Chair ?? DBNull.Value;
                data.Value = e.Data;
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
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
        return ReadStoredEvents(reader);
    }

    /// <summary>The rows of a <c>SELECT id, at_ms, type, chair, data FROM events</c>.</summary>
    private static List<StoredEvent> ReadStoredEvents(SqliteDataReader reader)
    {
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

    /// <summary>
    /// The newest <paramref name="limit"/> event log entries of <paramref name="types"/>, newest first, optionally of
    /// one chair, by one user (the payload's <c>user</c>, ASCII case-insensitive) and within [<paramref name="from"/>,
    /// <paramref name="to"/>]. Each type is read newest-first through an index (schema 4), so the cost depends on the
    /// entries returned, not on the size of the log.
    /// </summary>
    public List<StoredEvent> ReadEventsNewestFirst(
        IReadOnlyCollection<string> types, string? chair, string? user, DateTimeOffset? from, DateTimeOffset? to, int limit)
    {
        ArgumentNullException.ThrowIfNull(types);
        using var conn = OpenReader();
        using var cmd = conn.CreateCommand();

        // Only the filters given appear in the statement, so the planner sees the index's exact expression.
        var sql = new StringBuilder("SELECT id, at_ms, type, chair, data FROM events WHERE type = $type");
        AddFilter(" AND chair = $chair", "$chair", chair);
        AddFilter($" AND {UserExpression} = lower($user)", "$user", user);
        AddFilter(" AND at_ms >= $from", "$from", from?.ToUnixTimeMilliseconds());
        AddFilter(" AND at_ms <= $to", "$to", to?.ToUnixTimeMilliseconds());
        cmd.CommandText = sql.Append(" ORDER BY id DESC LIMIT $limit;").ToString();
        cmd.Parameters.AddWithValue("$limit", limit);
        var type = cmd.Parameters.Add("$type", SqliteType.Text);
        var result = new List<StoredEvent>();
        foreach (var t in types.Distinct(StringComparer.Ordinal))
        {
            type.Value = t;
            using var reader = cmd.ExecuteReader();
            result.AddRange(ReadStoredEvents(reader));
        }

        result.Sort((a, b) => b.Id.CompareTo(a.Id));
        return result.Count > limit ? result[..limit] : result;

        void AddFilter(string clause, string name, object? value)
        {
            if (value is not null and not "")
            {
                sql.Append(clause);
                cmd.Parameters.AddWithValue(name, value);
            }
        }
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

    private void Migrate(Action<string>? upgrading)
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

        if (version < 3)
        {
            // About 2 s per million rows here (a week of 8 chairs is ~25 million): say so before the pause.
            var rows = version < 1 ? 0 : Scalar(writer, "SELECT count(*) FROM observations;");
            if (rows > 0)
            {
                upgrading?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"Upgrading {Path} to schema 3 (one row per frame): converting {rows:N0} observation rows once; this can take a minute."));
            }

            MigrateStep(3, MigrateToFrames);
        }

        if (version < 4)
        {
            // The audit view reads newest-first by type and chair or user; building the indexes reads the log once.
            var rows = version < 1 ? 0 : Scalar(writer, "SELECT count(*) FROM events;");
            if (rows > 100_000)
            {
                upgrading?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"Upgrading {Path} to schema 4: indexing {rows:N0} event log entries once; this can take a few seconds."));
            }

            MigrateStep(4, $"""
                CREATE INDEX IF NOT EXISTS events_type_chair ON events (type, chair, id);
                CREATE INDEX IF NOT EXISTS events_type_user ON events (type, {UserExpression}, id);
                """);
        }
    }

    /// <summary>
    /// Schema 3: one <c>vitals</c> row per frame (site, chair, device, measured and received millisecond,
    /// source) with a value and a quality column per sign, like the InfluxDB <c>vitals</c> point, in place
    /// of one <c>observations</c> row per sign: a sixth of the rows to write, index, forward and compact.
    /// Each old row becomes a one-sign row with the same id, so forwarding cursors stay valid. A row of a
    /// sign this build has no column for cannot occur from <see cref="Append"/>; should one exist it is
    /// kept in the quarantine table, described in full, rather than dropped, and the observations cursor
    /// is capped at the highest id left, so new rows (numbered from it) are never taken as forwarded.
    /// </summary>
    private static string MigrateToFrames
    {
        get
        {
            // Literal for this version: a sign added later gets its columns in its own migration step.
            string[] signs = ["hr", "pr", "spo2", "nibp_sys", "nibp_dia", "nibp_map", "rr", "temp"];
            var known = string.Join(", ", signs.Select(s => $"'{s}'"));
            var columns = string.Join(", ", signs.Select(s => $"{s} REAL, {s}_quality INTEGER"));
            var names = string.Join(", ", signs.Select(s => $"{s}, {s}_quality"));
            var values = string.Join(", ", signs.Select(s => $"CASE sign WHEN '{s}' THEN value END, CASE sign WHEN '{s}' THEN quality END"));
            return $"""
                CREATE TABLE vitals (
                    id INTEGER PRIMARY KEY,
                    site TEXT NOT NULL, chair TEXT NOT NULL, device TEXT NOT NULL,
                    measured_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL, source TEXT NOT NULL,
                    {columns});
                INSERT INTO vitals (id, site, chair, device, measured_ms, received_ms, source, {names})
                    SELECT id, site, chair, device, measured_ms, received_ms, source, {values}
                    FROM observations WHERE sign IN ({known}) ORDER BY id;
                INSERT INTO quarantine (at_ms, forwarder, line, error)
                    SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'migration',
                        'observations id=' || id || ' site=' || site || ' chair=' || chair || ' device=' || device || ' sign=' || sign
                        || ' value=' || value || ' measured_ms=' || measured_ms || ' received_ms=' || received_ms || ' source=' || source || ' quality=' || quality,
                        'schema 3 has no column for sign ' || sign
                    FROM observations WHERE sign NOT IN ({known}) ORDER BY id;
                UPDATE forward_cursors SET cursor = min(cursor, (SELECT coalesce(max(id), 0) FROM vitals))
                    WHERE name = '{SqliteOutbox.ObservationsName}';
                DROP TABLE observations;
                CREATE INDEX vitals_chair_time ON vitals (chair, measured_ms);
                """;
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
