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
/// The embedded store: observation history in blocks of frames (SqliteStore.Blocks.cs; frame ids double as the forwarding outbox sequence),
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

    /// <summary>
    /// Schema 1: observations, events, config. 2 adds forward_cursors and quarantine. 3 stores a row per frame in vitals.
    /// 4 indexes the event log for the audit view. 5 keys each row's (site, chair, device, source) by a <c>streams</c> id.
    /// 6 indexed history by <c>vitals_spans</c> instead of an index entry per row. 7 stores a stream's consecutive frames
    /// as one <c>vitals_blocks</c> row (SqliteStore.Blocks.cs) instead of a row per frame.
    /// </summary>
    private const int SchemaVersion = 7;

    /// <summary>
    /// Who an event log entry names (alarm acknowledgements, configuration changes, audit entries), as indexed. A row
    /// that is not JSON has no user: json_extract would fail its insert.
    /// </summary>
    private const string UserExpression = "CASE WHEN json_valid(data) THEN lower(json_extract(data, '$.user')) END";

    private static readonly string[] SourceNames = Enum.GetNames<SourceProtocol>();

    /// <summary>
    /// <c>streams</c> ids by (site, chair, device, source), of committed rows only (a failed append clears it).
    /// Bounded so an unusual feed cannot grow it without limit.
    /// </summary>
    private readonly Dictionary<StreamKey, long> streamIds = [];

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
        // A WAL checkpoint every 10,000 pages (40 MB, not 1000) on the writer: index pages rewritten by every append
        // are copied back to the database file less often. An 8 MB page cache (2,048 pages) holds the hot index leaf of
        // each of 1,000+ streams; 64 MB only grew the gateway's RSS with the file (harness peak 137-140 -> 133 MB, same CPU).
        Execute(writer, """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            PRAGMA busy_timeout = 5000;
            PRAGMA cache_size = -8192;
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
    /// Appends observations in one transaction, a block per stream (see <see cref="ObservationFrames"/> and
    /// SqliteStore.Blocks.cs). Returns the id of the last frame (the outbox sequence).
    /// </summary>
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
            insertBlock ??= PrepareOn(writer, InsertBlock);

            var committed = false;
            long last;
            try
            {
                last = InsertBlocks(observations);
                tx.Commit();
                committed = true;
            }
            finally
            {
                if (!committed)
                {
                    streamIds.Clear(); // streams inserted by the rolled-back transaction are gone: look them up again
                }
            }

            RememberTail(last - frames.Count + 1, observations);
            return last;
        }
    }

    /// <summary>
    /// The <c>streams</c> id of <paramref name="key"/>, added on first sight (on the writer's open transaction).
    /// A row carries this small integer instead of four strings: a file 30 % smaller, and the history index compares an
    /// integer instead of the chair's text on its descent. The store's append, 50 chairs, hr and spo2 per frame
    /// (<c>Vitals.Storage.Benchmarks -- append</c>): 3.6-3.9 -> 3.0-3.3 us CPU per frame.
    /// </summary>
    private long StreamId(StreamKey key)
    {
        if (streamIds.TryGetValue(key, out var id))
        {
            return id;
        }

        using var cmd = writer.CreateCommand();
        cmd.CommandText = """
            INSERT INTO streams (site, chair, device, source) VALUES ($site, $chair, $device, $source) ON CONFLICT DO NOTHING;
            SELECT id FROM streams WHERE site = $site AND chair = $chair AND device = $device AND source = $source;
            """;
        cmd.Parameters.AddWithValue("$site", key.Site);
        cmd.Parameters.AddWithValue("$chair", key.Chair);
        cmd.Parameters.AddWithValue("$device", key.Device);
        cmd.Parameters.AddWithValue("$source", SourceNames[(int)key.Source]);
        id = Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (streamIds.Count >= 4096)
        {
            streamIds.Clear();
        }

        streamIds[key] = id;
        return id;
    }

    /// <summary>What a <c>streams</c> row names.</summary>
    private readonly record struct StreamKey(string Site, string Chair, string Device, SourceProtocol Source);

    /// <summary>Observations of <paramref name="chair"/> measured in [from, to), oldest first, at most <paramref name="limit"/>.</summary>
    public List<Observation> Query(string chair, DateTimeOffset from, DateTimeOffset to, int limit = 100_000)
    {
        using var conn = OpenReader();
        using var tx = conn.BeginTransaction(deferred: true); // the chair's streams and blocks as of one moment

        // The chair's blocks that overlap the window (see SqliteStore.Blocks.cs). A chair fed by one device (the usual
        // case) names its stream, so the blocks come from one range of their index.
        var only = SingleStream(conn, chair);
        using var stmt = PrepareOn(conn, $"""
            SELECT {BlockColumns} FROM vitals_blocks b
            WHERE b.stream {(only is null ? "IN (SELECT id FROM streams WHERE chair = ?1)" : "= ?1")} AND {BlocksOverlapping};
            """);
        if (only is { } stream)
        {
            raw.sqlite3_bind_int64(stmt, 1, stream);
        }
        else
        {
            raw.sqlite3_bind_text(stmt, 1, chair);
        }

        var (fromMs, toMs) = (from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        raw.sqlite3_bind_int64(stmt, 2, fromMs);
        raw.sqlite3_bind_int64(stmt, 3, toMs);
        var inWindow = new List<(long Ms, long Id, Observation[] Frame)>();
        foreach (var block in DecodeBlocks(conn, stmt))
        {
            if (block.Error is not null)
            {
                continue; // a block this build cannot read is left out of history (the forwarder quarantines it)
            }

            for (var i = 0; i < block.Frames.Count; i++)
            {
                var ms = block.Frames[i][0].MeasuredAt.ToUnixTimeMilliseconds();
                if (ms >= fromMs && ms < toMs)
                {
                    inWindow.Add((ms, block.FirstId + i, block.Frames[i]));
                }
            }
        }

        inWindow.Sort(static (a, b) => a.Ms != b.Ms ? a.Ms.CompareTo(b.Ms) : a.Id.CompareTo(b.Id));
        var result = new List<Observation>();
        foreach (var (_, _, frame) in inWindow)
        {
            if (result.Count >= limit)
            {
                break;
            }

            result.AddRange(frame.AsSpan(0, Math.Min(frame.Length, limit - result.Count)));
        }

        return result;
    }

    /// <summary>The id of <paramref name="chair"/>'s stream when it has exactly one, else null.</summary>
    private static long? SingleStream(SqliteConnection conn, string chair)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT id FROM streams WHERE chair = $chair LIMIT 2;";
        cmd.Parameters.AddWithValue("$chair", chair);
        using var reader = cmd.ExecuteReader();
        long? id = reader.Read() ? reader.GetInt64(0) : null;
        return reader.Read() ? null : id;
    }

    /// <summary>Number of observations stored (sign values, not rows).</summary>
    public long CountObservations()
    {
        using var conn = OpenReader();
        return Scalar(conn, "SELECT coalesce(sum(readings), 0) FROM vitals_blocks;");
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
            insertBlock?.Dispose();
            insertBlock = null;
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

        if (version < 5)
        {
            // About 4 s per million rows here (3 million: 11 s at load 8; a week of 50 chairs at 1 Hz is 30 million),
            // and free disk space for a copy of the table: say so before the pause.
            var rows = version < 3 ? 0 : Scalar(writer, "SELECT count(*) FROM vitals;");
            if (rows > 0)
            {
                upgrading?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"Upgrading {Path} to schema 5 (integer stream keys): converting {rows:N0} rows once; this can take minutes and needs free disk space for a copy of the table."));
            }

            MigrateStep(5, MigrateToStreams);
        }

        if (version < 6)
        {
            // A span per existing row, in place of its index entry: about as long as building the index was.
            var rows = version < 3 ? 0 : Scalar(writer, "SELECT count(*) FROM vitals;");
            if (rows > 1_000_000)
            {
                upgrading?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"Upgrading {Path} to schema 6 (history indexed by spans): indexing {rows:N0} rows once; this can take a minute."));
            }

            MigrateStep(6, """
                CREATE TABLE vitals_spans (
                    first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, stream INTEGER NOT NULL,
                    min_ms INTEGER NOT NULL, max_ms INTEGER NOT NULL);
                INSERT INTO vitals_spans (first_id, last_id, stream, min_ms, max_ms)
                    SELECT id, id, stream, measured_ms, measured_ms FROM vitals ORDER BY id;
                CREATE INDEX vitals_spans_stream ON vitals_spans (stream, min_ms, max_ms, last_id); -- covering: a read finds its spans in the index alone
                DROP INDEX vitals_stream_time;
                """);
        }

        if (version < 7)
        {
            var rows = Scalar(writer, "SELECT count(*) FROM vitals;");
            if (rows > 1_000_000)
            {
                upgrading?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"Upgrading {Path} to schema 7 (history in blocks): rewriting {rows:N0} rows once; this can take a few minutes and needs free disk space for a copy of the table."));
            }

            MigrateToBlocks();
        }
    }

    /// <summary>
    /// Schema 5: the text a row repeats (site, chair, device, source) moves to a <c>streams</c> row, and each
    /// <c>vitals</c> row carries its small integer id; the history index is (stream, measured_ms). Ids, values,
    /// forwarding cursors and the quarantine are kept as they are. <c>vitals_frames</c> shows the rows with their
    /// text, as schema 3 and 4 had them, for the readers and for anyone querying the file by hand.
    /// </summary>
    private static string MigrateToStreams
    {
        get
        {
            // Literal for this version, as in schema 3: a sign added later gets its columns in its own migration step.
            string[] signs = ["hr", "pr", "spo2", "nibp_sys", "nibp_dia", "nibp_map", "rr", "temp"];
            var columns = string.Join(", ", signs.Select(s => $"{s} REAL, {s}_quality INTEGER"));
            var names = string.Join(", ", signs.Select(s => $"{s}, {s}_quality"));
            var fromOld = string.Join(", ", signs.Select(s => $"v.{s}, v.{s}_quality"));
            return $"""
                CREATE TABLE streams (
                    id INTEGER PRIMARY KEY,
                    site TEXT NOT NULL, chair TEXT NOT NULL, device TEXT NOT NULL, source TEXT NOT NULL,
                    UNIQUE (site, chair, device, source));
                CREATE INDEX streams_chair ON streams (chair);
                INSERT INTO streams (site, chair, device, source)
                    SELECT site, chair, device, source FROM vitals GROUP BY site, chair, device, source ORDER BY min(id);
                CREATE TABLE vitals_by_stream (
                    id INTEGER PRIMARY KEY,
                    stream INTEGER NOT NULL, measured_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL,
                    {columns});
                INSERT INTO vitals_by_stream (id, stream, measured_ms, received_ms, {names})
                    SELECT v.id, s.id, v.measured_ms, v.received_ms, {fromOld}
                    FROM vitals v JOIN streams s ON s.site = v.site AND s.chair = v.chair AND s.device = v.device AND s.source = v.source
                    ORDER BY v.id;
                DROP TABLE vitals;
                ALTER TABLE vitals_by_stream RENAME TO vitals;
                CREATE INDEX vitals_stream_time ON vitals (stream, measured_ms);
                CREATE VIEW vitals_frames AS
                    SELECT v.id AS id, s.site AS site, s.chair AS chair, s.device AS device, v.measured_ms AS measured_ms,
                        v.received_ms AS received_ms, s.source AS source, {string.Join(", ", signs.Select(s => $"v.{s} AS {s}, v.{s}_quality AS {s}_quality"))},
                        v.stream AS stream
                    FROM vitals v LEFT JOIN streams s ON s.id = v.stream;
                """;
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
