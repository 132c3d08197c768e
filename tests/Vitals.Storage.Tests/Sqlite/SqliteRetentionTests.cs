using System.Globalization;
using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Storage.Influx;
using Vitals.Storage.Sqlite;

namespace Vitals.Storage.Tests.Sqlite;

public sealed class SqliteRetentionTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-retention-").FullName;

    private string DbPath => Path.Combine(dir, "vitals.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>Observation i received i minutes after T0.</summary>
    private static Observation At(int minute) => SqliteOutboxTests.Obs(minute % 100, T0.AddMinutes(minute));

    /// <summary>Appends each reading in its own commit, as a quiet ward does: a block per frame, so retention can cut anywhere.</summary>
    private static void AppendEach(SqliteStore store, IEnumerable<Observation> readings)
    {
        foreach (var o in readings)
        {
            store.Append([o]);
        }
    }

    private static void Exec(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static long Scalar(string path, string sql)
    {
        using var conn = new SqliteConnection($"Data Source={path}");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>A file exactly as the schema-1 build left it, with <paramref name="rows"/> inserted.</summary>
    private void CreateSchemaV1File(string rows)
    {
        using (var conn = new SqliteConnection($"Data Source={DbPath}"))
        {
            conn.Open();
            Exec(conn, $"""
                PRAGMA journal_mode = WAL;
                CREATE TABLE observations (
                    id INTEGER PRIMARY KEY,
                    site TEXT NOT NULL, chair TEXT NOT NULL, device TEXT NOT NULL, sign TEXT NOT NULL,
                    value REAL NOT NULL, measured_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL,
                    source TEXT NOT NULL, quality INTEGER NOT NULL);
                CREATE INDEX observations_chair_time ON observations (chair, measured_ms);
                CREATE TABLE events (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, type TEXT NOT NULL, chair TEXT, data TEXT NOT NULL);
                CREATE INDEX events_type ON events (type, id);
                CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_ms INTEGER NOT NULL);
                PRAGMA user_version = 1;
                {rows}
                """);
        }

        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task Open_SchemaV2FileWhoseNewestRowHasNoColumn_CapsCursorSoNewRowsAreForwarded()
    {
        // Schema 2, forwarded (and quarantined) up to row 3, whose sign schema 3 has no column for.
        CreateSchemaV1File("""
            INSERT INTO observations VALUES (1, 'north', 'c1', 'dev-1', 'hr', 61, 1763802000000, 1763802000040, 'Hl7Mllp', 0);
            INSERT INTO observations VALUES (2, 'north', 'c1', 'dev-1', 'hr', 62, 1763802001000, 1763802001040, 'Hl7Mllp', 0);
            INSERT INTO observations VALUES (3, 'north', 'c1', 'dev-1', 'etco2', 35, 1763802002000, 1763802002040, 'Hl7Mllp', 0);
            CREATE TABLE forward_cursors (name TEXT PRIMARY KEY, cursor INTEGER NOT NULL);
            CREATE TABLE quarantine (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, forwarder TEXT NOT NULL, line TEXT NOT NULL, error TEXT NOT NULL);
            INSERT INTO forward_cursors VALUES ('influx.observations', 3);
            PRAGMA user_version = 2;
            """);

        using var store = new SqliteStore(DbPath);
        Assert.Equal(2, store.GetForwardCursor(SqliteOutbox.ObservationsName));
        var next = store.Append([At(0)]);
        var outbox = SqliteOutbox.ForObservations(store);
        Assert.Equal([next], (await outbox.ReadAfterAsync(0, 10, default)).Records.Select(r => r.Sequence));
    }

    [Fact]
    public async Task Open_SchemaV1File_MigratesToV3KeepingData()
    {
        CreateSchemaV1File("""
            INSERT INTO observations VALUES (1, 'north', 'c1', 'dev-1', 'hr', 61, 1763802000000, 1763802000040, 'Hl7Mllp', 0);
            INSERT INTO observations VALUES (2, 'north', 'c1', 'dev-1', 'nibp_sys', 118, 1763802001000, 1763802001040, 'Hl7Mllp', 0);
            INSERT INTO observations VALUES (3, 'north', 'c1', 'dev-1', 'etco2', 35, 1763802002000, 1763802002040, 'Hl7Mllp', 1);
            INSERT INTO events VALUES (1, 1763802000000, 'alarm', 'c1', '{"rule":"hr.low"}');
            INSERT INTO config VALUES ('profile', 'adult', 1763802000000);
            """);

        var said = new List<string>();
        using (var store = new SqliteStore(DbPath, said.Add))
        {
            Assert.Contains("to schema 3 (one row per frame): converting 3 observation rows once", Assert.Single(said), StringComparison.Ordinal);
            Assert.Equal(2, store.CountObservations());
            var kept = store.Query("c1", DateTimeOffset.FromUnixTimeMilliseconds(0), T0.AddYears(1));
            Assert.Equal([(Sign.Hr, 61.0), (Sign.NibpSys, 118.0)], kept.Select(o => (o.Sign, o.Value)));
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1763802001040), kept[1].ReceivedAt);

            // A sign this build has no column for is never silently dropped: it waits in quarantine, in full.
            var unknown = Assert.Single(store.ReadQuarantine());
            Assert.Equal("migration", unknown.Forwarder);
            Assert.Equal("observations id=3 site=north chair=c1 device=dev-1 sign=etco2 value=35.0 measured_ms=1763802002000 received_ms=1763802002040 source=Hl7Mllp quality=1", unknown.Line);
            Assert.Equal("""{"rule":"hr.low"}""", Assert.Single(store.ReadEvents()).Data);
            Assert.Equal("adult", store.GetConfig("profile"));

            // The new tables work, and the old data is the outbox backlog (cursor 0: nothing forwarded yet).
            var outbox = SqliteOutbox.ForObservations(store);
            Assert.Equal(2, (await outbox.ReadAfterAsync(0, 10, default)).Records.Count);
            await outbox.CommitAsync(1, default);
            store.AppendQuarantine("influx.observations", ["x"], "e", T0);
            Assert.Equal(3, store.Append([At(0)]));
        }

        SqliteConnection.ClearAllPools();
        Assert.Equal(7, Scalar(DbPath, "PRAGMA user_version;"));
        Assert.Equal(0, Scalar(DbPath, "SELECT count(*) FROM sqlite_master WHERE name IN ('observations', 'vitals');"));
        using var reopened = new SqliteStore(DbPath);
        Assert.Equal(1, reopened.GetForwardCursor(SqliteOutbox.ObservationsName));
        Assert.Equal(2, reopened.CountQuarantined());
    }

    /// <summary>A file as the schema-4 build left it (vitals with text columns, indexed by chair), with <paramref name="rows"/> inserted.</summary>
    private void CreateSchemaV4File(string rows)
    {
        string[] signs = ["hr", "pr", "spo2", "nibp_sys", "nibp_dia", "nibp_map", "rr", "temp"];
        CreateSchemaV1File($"""
            CREATE TABLE forward_cursors (name TEXT PRIMARY KEY, cursor INTEGER NOT NULL);
            CREATE TABLE quarantine (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, forwarder TEXT NOT NULL, line TEXT NOT NULL, error TEXT NOT NULL);
            CREATE TABLE vitals (
                id INTEGER PRIMARY KEY,
                site TEXT NOT NULL, chair TEXT NOT NULL, device TEXT NOT NULL,
                measured_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL, source TEXT NOT NULL,
                {string.Join(", ", signs.Select(s => $"{s} REAL, {s}_quality INTEGER"))});
            DROP TABLE observations;
            CREATE INDEX vitals_chair_time ON vitals (chair, measured_ms);
            CREATE INDEX events_type_chair ON events (type, chair, id);
            PRAGMA user_version = 4;
            {rows}
            """);
    }

    [Fact]
    public async Task Open_SchemaV4FileWithRows_MigratesToV7KeepingIdsCursorsQuarantineAndWhatEveryReaderReturns()
    {
        // Ids from 4 (1-3 compacted), two chairs, a chair with two devices of different sources, a forwarded prefix.
        CreateSchemaV4File("""
            INSERT INTO vitals (id, site, chair, device, measured_ms, received_ms, source, hr, hr_quality, spo2, spo2_quality)
                VALUES (4, 'north', 'c1', 'dev-1', 1763802000000, 1763802000040, 'Hl7Mllp', 61, 0, 97, 1);
            INSERT INTO vitals (id, site, chair, device, measured_ms, received_ms, source, hr, hr_quality)
                VALUES (5, 'north', 'c2', 'mq-2', 1763802000500, 1763802000600, 'Mqtt', 80, 0);
            INSERT INTO vitals (id, site, chair, device, measured_ms, received_ms, source, nibp_sys, nibp_sys_quality, nibp_dia, nibp_dia_quality)
                VALUES (6, 'north', 'c1', 'dev-1', 1763802001000, 1763802001040, 'Hl7Mllp', 118, 2, 75, 2);
            INSERT INTO vitals (id, site, chair, device, measured_ms, received_ms, source, temp, temp_quality)
                VALUES (7, 'north', 'c1', 'sim-1', 1763802000800, 1763802000900, 'Simulator', 36.6, 4);
            INSERT INTO forward_cursors VALUES ('influx.observations', 5);
            INSERT INTO forward_cursors VALUES ('influx.events', 1);
            INSERT INTO quarantine VALUES (7, 1763802000000, 'influx.observations', 'vitals,chair=c1 hr=x', 'partial write');
            INSERT INTO events VALUES (1, 1763802000000, 'alarm', 'c1', '{"rule":"hr.low"}');
            """);
        static Observation Row(string chair, string device, Sign sign, double value, long measured, long received, SourceProtocol source, ObservationQuality quality) =>
            new("north", chair, device, sign, value, DateTimeOffset.FromUnixTimeMilliseconds(measured), DateTimeOffset.FromUnixTimeMilliseconds(received), source, quality);
        Observation[] row4 =
        [
            Row("c1", "dev-1", Sign.Hr, 61, 1763802000000, 1763802000040, SourceProtocol.Hl7Mllp, ObservationQuality.Ok),
            Row("c1", "dev-1", Sign.Spo2, 97, 1763802000000, 1763802000040, SourceProtocol.Hl7Mllp, ObservationQuality.Questionable),
        ];
        Observation[] row6 =
        [
            Row("c1", "dev-1", Sign.NibpSys, 118, 1763802001000, 1763802001040, SourceProtocol.Hl7Mllp, ObservationQuality.Invalid),
            Row("c1", "dev-1", Sign.NibpDia, 75, 1763802001000, 1763802001040, SourceProtocol.Hl7Mllp, ObservationQuality.Invalid),
        ];
        Observation[] row7 = [Row("c1", "sim-1", Sign.Temp, 36.6, 1763802000800, 1763802000900, SourceProtocol.Simulator, ObservationQuality.Simulated)];
        var c2 = Row("c2", "mq-2", Sign.Hr, 80, 1763802000500, 1763802000600, SourceProtocol.Mqtt, ObservationQuality.Ok);
        var everything = (DateTimeOffset.FromUnixTimeMilliseconds(0), T0.AddYears(1));

        var said = new List<string>();
        using (var store = new SqliteStore(DbPath, said.Add))
        {
            Assert.Contains("to schema 5 (integer stream keys): converting 4 rows once", Assert.Single(said), StringComparison.Ordinal);

            // History: by measured time, across the chair's devices.
            Assert.Equal([.. row4, .. row7, .. row6], store.Query("c1", everything.Item1, everything.Item2));
            Assert.Equal([c2], store.Query("c2", everything.Item1, everything.Item2));
            Assert.Equal([row4[0], row4[1]], store.Query("c1", everything.Item1, DateTimeOffset.FromUnixTimeMilliseconds(1763802000800)));
            Assert.Equal(6, store.CountObservations());

            // Forwarding: the cursor and ids are kept, so exactly the rows after it are the backlog, with their text.
            var outbox = SqliteOutbox.ForObservations(store);
            Assert.Equal(5, await outbox.GetCursorAsync(default));
            Assert.Equal(1, store.GetForwardCursor(SqliteOutbox.EventsName));
            var backlog = await outbox.ReadAfterAsync(0, 10, default);
            Assert.Equal([6L, 7L], backlog.Records.Select(r => r.Sequence));
            Assert.Equal([.. row6, .. row7], backlog.Records.SelectMany(r => r.Observations!));
            Assert.Equal(2, outbox.GetBacklog(T0, new StoreRetentionOptions()).Rows);

            var kept = Assert.Single(store.ReadQuarantine());
            Assert.Equal((7L, "influx.observations", "vitals,chair=c1 hr=x", "partial write"), (kept.Id, kept.Forwarder, kept.Line, kept.Error));
            Assert.Equal("""{"rule":"hr.low"}""", Assert.Single(store.ReadEvents()).Data);

            // New rows continue the ids, and a known stream is not added twice.
            var later = row4[0] with { MeasuredAt = T0 };
            Assert.Equal(8, store.Append([later]));
            Assert.Equal([later], store.Query("c1", T0, T0.AddMinutes(1)));
        }

        SqliteConnection.ClearAllPools();
        Assert.Equal(7, Scalar(DbPath, "PRAGMA user_version;"));
        Assert.Equal(3, Scalar(DbPath, "SELECT count(*) FROM streams;"));
        Assert.Equal(5, Scalar(DbPath, "SELECT count(*) FROM vitals_blocks;")); // no two neighbouring rows share a stream; one for the new one
        Assert.Equal(0, Scalar(DbPath, "SELECT count(*) FROM sqlite_master WHERE name IN ('vitals', 'vitals_frames', 'vitals_spans', 'vitals_chair_time', 'vitals_by_stream');"));
        Assert.Equal(1, Scalar(DbPath, "SELECT count(*) FROM vitals_blocks b JOIN streams s ON s.id = b.stream WHERE s.chair = 'c2' AND s.device = 'mq-2' AND s.source = 'Mqtt' AND b.first_id = 5 AND b.readings = 1;"));
    }

    [Fact]
    public async Task Open_SchemaV4FileWithRunsGapsAndAnEmptyRow_MigratedIntoBlocksKeepingEveryIdAndReading()
    {
        // 400 rows in runs of 10 per chair, ids 1-200 then 301-500 (a compacted gap), and a row with no value at id 250.
        static long Id(int i) => i < 200 ? i + 1 : i + 101;
        var rows = new System.Text.StringBuilder();
        for (var i = 0; i < 400; i++)
        {
            rows.Append(CultureInfo.InvariantCulture, $"""
                INSERT INTO vitals (id, site, chair, device, measured_ms, received_ms, source, hr, hr_quality)
                    VALUES ({Id(i)}, 'north', 'c{i / 10 % 2}', 'dev', {1763802000000 + (i * 1000)}, {1763802000040 + (i * 1000)}, 'Mqtt', {i}, 0);

                """);
        }

        rows.Append("INSERT INTO vitals (id, site, chair, device, measured_ms, received_ms, source) VALUES (250, 'north', 'c0', 'dev', 1763802000000, 1763802000040, 'Mqtt');");
        CreateSchemaV4File(rows.ToString());

        using (var store = new SqliteStore(DbPath))
        {
            var (from, to) = (DateTimeOffset.FromUnixTimeMilliseconds(0), T0.AddYears(1));
            Assert.Equal(Enumerable.Range(0, 400).Where(i => i / 10 % 2 == 1).Select(i => (double)i), store.Query("c1", from, to).Select(o => o.Value));
            var backlog = await SqliteOutbox.ForObservations(store).ReadAfterAsync(0, 1000, default);
            Assert.Equal(Enumerable.Range(0, 400).Select(Id), backlog.Records.Select(r => r.Sequence));
            Assert.Equal(Enumerable.Range(0, 400).Select(i => (double)i), backlog.Records.Select(r => Assert.Single(r.Observations!).Value));
            var empty = Assert.Single(store.ReadQuarantine());
            Assert.Equal("migration", empty.Forwarder);
            Assert.StartsWith("id=250 ", empty.Line, StringComparison.Ordinal);
            Assert.Equal(501, store.Append([At(0)]));
        }

        SqliteConnection.ClearAllPools();
        Assert.Equal(41, Scalar(DbPath, "SELECT count(*) FROM vitals_blocks;")); // a block per run of 10, one for the new frame
        Assert.Equal(0, Scalar(DbPath, "SELECT count(*) FROM vitals_blocks WHERE first_id <= 200 AND last_id > 200;")); // none across the gap
    }

    [Fact]
    public void Open_SchemaV4FileMigrationFails_LeftAtSchema4WithItsRows()
    {
        // A migration that cannot finish (here: a table in the way of the new one) must leave the old file as it was.
        CreateSchemaV4File("""
            INSERT INTO vitals (id, site, chair, device, measured_ms, received_ms, source, hr, hr_quality)
                VALUES (4, 'north', 'c1', 'dev-1', 1763802000000, 1763802000040, 'Hl7Mllp', 61, 0);
            CREATE TABLE vitals_by_stream (x);
            """);

        Assert.ThrowsAny<SqliteException>(() => new SqliteStore(DbPath).Dispose());

        SqliteConnection.ClearAllPools();
        Assert.Equal(4, Scalar(DbPath, "PRAGMA user_version;"));
        Assert.Equal(1, Scalar(DbPath, "SELECT count(*) FROM vitals WHERE chair = 'c1' AND hr = 61;"));
        Assert.Equal(0, Scalar(DbPath, "SELECT count(*) FROM sqlite_master WHERE name = 'streams';"));
    }

    [Fact]
    public void Open_NewFile_IsSchemaV7()
    {
        var said = new List<string>();
        using (new SqliteStore(DbPath, said.Add))
        {
        }

        Assert.Empty(said); // nothing to convert, nothing to announce

        SqliteConnection.ClearAllPools();
        Assert.Equal(7, Scalar(DbPath, "PRAGMA user_version;"));
        Assert.Equal(0, Scalar(DbPath, "SELECT count(*) FROM sqlite_master WHERE name IN ('vitals', 'vitals_frames', 'vitals_spans', 'vitals_stream_time');"));
        Assert.Equal(1, Scalar(DbPath, "SELECT count(*) FROM sqlite_master WHERE name = 'vitals_blocks_stream';"));
        Assert.Equal(1, Scalar(DbPath, "SELECT count(*) FROM sqlite_master WHERE name = 'events_type_user';"));
        Assert.Equal(1, Scalar(DbPath, "SELECT count(*) FROM sqlite_master WHERE name = 'forward_cursors';"));
    }

    [Fact]
    public void Compact_Forwarding_NeverDeletesRowsAboveCursor()
    {
        using var store = new SqliteStore(DbPath);
        AppendEach(store, Enumerable.Range(0, 25_000).Select(At)); // ids 1..25000, received T0 + (id-1) min
        store.SetForwardCursor(SqliteOutbox.ObservationsName, 12_345);

        // Everything is past retention, but only the forwarded rows may go.
        var deleted = store.Compact(T0.AddYears(1), forwardingConfigured: true);

        Assert.Equal(12_345, deleted);
        Assert.Equal(25_000 - 12_345, store.CountObservations());
        Assert.Equal(12_346, Scalar(DbPath, "SELECT min(first_id) FROM vitals_blocks;"));
        Assert.Equal(0, store.Compact(T0.AddYears(1), forwardingConfigured: true));
    }

    [Fact]
    public void Compact_RetentionCutoff_DeletesOnlyOlderRows()
    {
        using var store = new SqliteStore(DbPath);
        AppendEach(store, Enumerable.Range(0, 100).Select(At));
        store.SetForwardCursor(SqliteOutbox.ObservationsName, 100);
        var options = new StoreRetentionOptions { Retention = TimeSpan.FromHours(1) };
        options.Validate();

        // Now = T0 + 90 min: rows received before T0 + 30 min are older than the 1 h retention.
        var deleted = store.Compact(options.CompactBefore(T0.AddMinutes(90)), forwardingConfigured: true);

        Assert.Equal(30, deleted);
        Assert.Equal(31, Scalar(DbPath, "SELECT min(first_id) FROM vitals_blocks;"));
    }

    [Fact]
    public void Compact_RowStampedInThePastAfterNewerOnes_KeptUntilThePrefixAges()
    {
        using var store = new SqliteStore(DbPath);
        AppendEach(store, [At(0), At(1), At(50), At(2), At(3)]); // a clock step back after id 3
        var deleted = store.Compact(T0.AddMinutes(10), forwardingConfigured: false);
        Assert.Equal(2, deleted); // stops at id 3, never deletes out of order
        Assert.Equal(3, store.CountObservations());
    }

    [Fact]
    public async Task Compact_NoForwarderEverythingOld_KeepsNewestRowSoIdsAreNeverReused()
    {
        using var store = new SqliteStore(DbPath);
        AppendEach(store, Enumerable.Range(0, 10).Select(At));
        store.AppendEvent(T0, SqliteStore.AlarmEventType, "c1", "{}");
        var deleted = store.Compact(T0.AddYears(1), forwardingConfigured: false);

        Assert.Equal(9, deleted);
        Assert.Equal(1, store.CountObservations());
        Assert.Single(store.ReadEvents()); // the event log is the audit trail: never compacted

        // If forwarding is configured later, new rows still come after every old id.
        var outbox = SqliteOutbox.ForObservations(store);
        await outbox.CommitAsync(10, default);
        Assert.Equal(11, store.Append([At(20)]));
        Assert.Equal([11L], (await outbox.ReadAfterAsync(10, 10, default)).Records.Select(r => r.Sequence));
    }

    [Fact]
    public async Task Backlog_GrowsPastWarningAndMaximum_ReportsLevelsAndKeepsStoring()
    {
        using var store = new SqliteStore(DbPath);
        var limits = new StoreRetentionOptions { MaxBacklogRows = 100, MaxBacklogAge = TimeSpan.FromHours(10) };
        limits.Validate();
        var outbox = SqliteOutbox.ForObservations(store);
        var now = T0.AddMinutes(60);

        var empty = outbox.GetBacklog(now, limits);
        Assert.Equal((0L, (DateTimeOffset?)null, TimeSpan.Zero, BacklogLevel.Ok), (empty.Rows, empty.OldestAt, empty.OldestAge, empty.Level));

        store.Append([.. Enumerable.Range(0, 79).Select(At)]);
        var ok = outbox.GetBacklog(now, limits);
        Assert.Equal((79L, T0, TimeSpan.FromHours(1), BacklogLevel.Ok), (ok.Rows, ok.OldestAt, ok.OldestAge, ok.Level));

        store.Append([At(79)]);
        Assert.Equal(BacklogLevel.Warning, outbox.GetBacklog(now, limits).Level); // 80 % of the rows

        store.Append([.. Enumerable.Range(80, 40).Select(At)]);
        var full = outbox.GetBacklog(now, limits);
        Assert.True(full.BacklogFull && full.Warning);
        Assert.Equal(120, full.Rows);
        Assert.Equal(120, store.CountObservations()); // nothing dropped at the maximum

        await outbox.CommitAsync(110, default);
        var drained = outbox.GetBacklog(T0.AddMinutes(111), limits);
        Assert.Equal((10L, T0.AddMinutes(110), TimeSpan.FromMinutes(1), BacklogLevel.Ok), (drained.Rows, drained.OldestAt, drained.OldestAge, drained.Level));

        // Age alone: the oldest unforwarded row is 8 h old (80 % of 10 h), then 10 h.
        Assert.Equal(BacklogLevel.Warning, outbox.GetBacklog(T0.AddMinutes(110).AddHours(8), limits).Level);
        Assert.Equal(BacklogLevel.Full, outbox.GetBacklog(T0.AddMinutes(110).AddHours(10), limits).Level);
    }

    [Fact]
    public async Task Backlog_EventsOutbox_CountsOnlyForwardedTypes()
    {
        using var store = new SqliteStore(DbPath);
        store.AppendEvent(T0, "config", null, "{}");
        store.AppendEvent(T0.AddMinutes(1), SqliteStore.AlarmEventType, "c1", "{}");
        store.AppendFeedStatus([new FeedStatusSample("north", "c1", "d", true, 1, 0, T0.AddMinutes(2))]);
        var outbox = SqliteOutbox.ForEvents(store);
        var backlog = outbox.GetBacklog(T0.AddMinutes(3), new StoreRetentionOptions());
        Assert.Equal((2L, T0.AddMinutes(1)), (backlog.Rows, backlog.OldestAt));
        await outbox.CommitAsync(3, default);
        Assert.Equal(0, outbox.GetBacklog(T0.AddMinutes(3), new StoreRetentionOptions()).Rows);
    }

    [Fact]
    public void RetentionOptions_BadValues_FailValidationNamingTheSetting()
    {
        Assert.Equal("WarnFraction", Assert.Throws<ArgumentOutOfRangeException>(() => new StoreRetentionOptions { WarnFraction = 1 }.Validate()).ParamName);
        Assert.Equal("Retention", Assert.Throws<ArgumentOutOfRangeException>(() => new StoreRetentionOptions { Retention = TimeSpan.Zero }.Validate()).ParamName);
        Assert.Equal(TimeSpan.FromDays(7), new StoreRetentionOptions().Retention);
    }
}
