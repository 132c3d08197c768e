using System.Text.Json;
using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Storage.Influx;
using Vitals.Storage.Sqlite;

namespace Vitals.Storage.Tests.Sqlite;

public sealed class SqliteOutboxTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-outbox-").FullName;

    private string DbPath => Path.Combine(dir, "vitals.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    internal static Observation Obs(int i, DateTimeOffset? received = null) =>
        new("north", "c1", "dev-1", Sign.Hr, 60 + i, T0.AddSeconds(i), received ?? T0.AddSeconds(i).AddMilliseconds(30), SourceProtocol.Hl7Mllp);

    internal static AlarmEvent Alarm(int i, AlarmState state = AlarmState.Raised) =>
        new("north", "c1", "hr.high", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, state, 130 + i, 120, "HR high", T0.AddSeconds(i), state == AlarmState.Acknowledged ? "ann" : null);

    [Fact]
    public async Task ObservationsOutbox_ReadCommitReopen_ResumesAfterCommittedCursor()
    {
        using (var store = new SqliteStore(DbPath))
        {
            store.Append([.. Enumerable.Range(0, 10).Select(i => Obs(i))]);
            var outbox = SqliteOutbox.ForObservations(store);
            Assert.Equal(0, await outbox.GetCursorAsync(default));
            var batch = await outbox.ReadAfterAsync(0, 4, default);
            Assert.Equal([1L, 2, 3, 4], batch.Records.Select(r => r.Sequence));
            Assert.Equal(10, batch.HeadSequence);
            Assert.Equal([Obs(0)], batch.Records[0].Observations!);
            await outbox.CommitAsync(batch.LastSequence, default);

            // Read but not committed: a crash here must re-deliver these.
            Assert.Equal(3, (await outbox.ReadAfterAsync(4, 3, default)).Records.Count);
        }

        SqliteConnection.ClearAllPools();
        using var reopened = new SqliteStore(DbPath);
        var again = SqliteOutbox.ForObservations(reopened);
        var cursor = await again.GetCursorAsync(default);
        Assert.Equal(4, cursor);
        var rest = await again.ReadAfterAsync(cursor, 100, default);
        Assert.Equal(Enumerable.Range(5, 6).Select(i => (long)i), rest.Records.Select(r => r.Sequence));
        Assert.Equal([.. Enumerable.Range(4, 6).Select(i => Obs(i))], rest.Records.SelectMany(r => r.Observations!));
    }

    [Fact]
    public async Task ObservationsOutbox_TailInMemory_ReadsAsFromTable()
    {
        List<OutboxRecord> fromTail;
        using (var store = new SqliteStore(DbPath))
        {
            var outbox = SqliteOutbox.ForObservations(store);
            Assert.Empty((await outbox.ReadAfterAsync(0, 10, default)).Records); // a forwarder's first read turns the tail on

            // Three appends; the forwarder's reads cross their boundaries.
            store.Append([.. Enumerable.Range(0, 4).Select(i => Obs(i))]);
            store.Append([.. Enumerable.Range(4, 3).Select(i => Obs(i))]);
            store.Append([.. Enumerable.Range(7, 5).Select(i => Obs(i))]);
            fromTail = [.. (await outbox.ReadAfterAsync(2, 6, default)).Records, .. (await outbox.ReadAfterAsync(8, 100, default)).Records];
            Assert.Equal(12, (await outbox.ReadAfterAsync(8, 100, default)).HeadSequence);
        }

        SqliteConnection.ClearAllPools();
        using var reopened = new SqliteStore(DbPath); // nothing cached: reads the table
        var table = SqliteOutbox.ForObservations(reopened);
        List<OutboxRecord> fromTable = [.. (await table.ReadAfterAsync(2, 6, default)).Records, .. (await table.ReadAfterAsync(8, 100, default)).Records];
        Assert.Equal([3L, 4, 5, 6, 7, 8, 9, 10, 11, 12], fromTail.Select(r => r.Sequence));
        Assert.Equal(fromTable.Select(r => r.Sequence), fromTail.Select(r => r.Sequence));
        Assert.Equal(fromTable.SelectMany(r => r.Observations!), fromTail.SelectMany(r => r.Observations!));
    }

    [Fact]
    public async Task ObservationsOutbox_CallerReusesItsListAfterAppend_TailKeepsWhatWasAppended()
    {
        using var store = new SqliteStore(DbPath);
        var outbox = SqliteOutbox.ForObservations(store);
        Assert.Empty((await outbox.ReadAfterAsync(0, 10, default)).Records); // tail on
        List<Observation> batch = [Obs(0), Obs(1)];
        store.Append(batch);
        batch.Clear(); // as the store writer does with its batch
        batch.Add(Obs(7));

        var records = (await outbox.ReadAfterAsync(0, 10, default)).Records;
        Assert.Equal([Obs(0), Obs(1)], records.SelectMany(r => r.Observations!));
    }

    [Fact]
    public async Task ObservationsOutbox_CompactedWithoutForwarding_NotServedFromTail()
    {
        using var store = new SqliteStore(DbPath);
        var outbox = SqliteOutbox.ForObservations(store);
        Assert.Empty((await outbox.ReadAfterAsync(0, 10, default)).Records); // tail on
        for (var i = 0; i < 10; i++)
        {
            store.Append([Obs(i, received: T0.AddMinutes(i))]); // a block each: retention deletes whole blocks
        }

        Assert.Equal(5, store.Compact(T0.AddMinutes(5), forwardingConfigured: false));
        var batch = await outbox.ReadAfterAsync(0, 100, default);
        Assert.Equal([6L, 7, 8, 9, 10], batch.Records.Select(r => r.Sequence));
    }

    [Fact]
    public async Task ObservationsOutbox_TailStartsWithFirstRead_LaterAppendsServedFromMemory()
    {
        using var store = new SqliteStore(DbPath);
        var outbox = SqliteOutbox.ForObservations(store);
        void ChangeUnderneath(int id) => Exec($"UPDATE vitals_blocks SET frames = {BlockOf(Obs(id) with { Value = 999 })} WHERE first_id = {id};");

        // No forwarder has read yet (no InfluxDB configured): nothing is cached, the table is read.
        store.Append([Obs(0)]);
        ChangeUnderneath(1);
        Assert.Equal(999, Assert.Single(Assert.Single((await outbox.ReadAfterAsync(0, 10, default)).Records).Observations!).Value);

        // After that first read, an append is served from memory, exactly as appended.
        store.Append([Obs(1)]);
        ChangeUnderneath(2);
        Assert.Equal(Obs(1), Assert.Single(Assert.Single((await outbox.ReadAfterAsync(1, 10, default)).Records).Observations!));
    }

    private void Exec(string sql)
    {
        using var conn = new SqliteConnection($"Data Source={DbPath}");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    [Fact]
    public async Task Outboxes_CommitOne_OtherCursorUnchanged()
    {
        using var store = new SqliteStore(DbPath);
        store.Append([Obs(0), Obs(1)]);
        store.AppendEvent(T0, SqliteStore.AlarmEventType, "c1", JsonSerializer.Serialize(Alarm(0), StorageJson.Options));
        var observations = SqliteOutbox.ForObservations(store);
        var events = SqliteOutbox.ForEvents(store);
        await observations.CommitAsync(2, default);
        Assert.Equal(2, await observations.GetCursorAsync(default));
        Assert.Equal(0, await events.GetCursorAsync(default));
        Assert.Single((await events.ReadAfterAsync(0, 10, default)).Records);
        Assert.Empty((await observations.ReadAfterAsync(2, 10, default)).Records);
    }

    [Fact]
    public async Task Commit_LowerCursor_NeverMovesBackwards()
    {
        using var store = new SqliteStore(DbPath);
        var outbox = SqliteOutbox.ForObservations(store);
        await outbox.CommitAsync(7, default);
        await outbox.CommitAsync(3, default);
        Assert.Equal(7, await outbox.GetCursorAsync(default));
    }

    [Fact]
    public async Task EventsOutbox_MixedLog_ReadsAlarmsAndFeedStatusOnlyDecoded()
    {
        using var store = new SqliteStore(DbPath);

        // Exactly what the gateway's StoreWriter writes (Vitals.Gateway.Pipeline.Json: camelCase, snake_case enums).
        const string GatewayAlarm = """{"site":"north","chair":"c1","rule":"nibp.sys.high","sign":"nibp_sys","priority":"high","kind":"physiological","state":"acknowledged","value":182,"limit":180,"message":"NIBP sys 182 above 180","at":"2026-11-22T09:00:05+00:00","user":"ann"}""";
        var alarmId = store.AppendEvent(T0.AddSeconds(5), SqliteStore.AlarmEventType, "c1", GatewayAlarm);
        store.AppendEvent(T0, "config", null, """{"key":"limits"}""");
        var status = new FeedStatusSample("north", "c1", "dev-1", true, 1200, 3, T0.AddSeconds(6));
        var statusId = store.AppendFeedStatus([status]);
        store.AppendEvent(T0, "config", null, "{}");

        var batch = await SqliteOutbox.ForEvents(store).ReadAfterAsync(0, 10, default);

        Assert.Equal([alarmId, statusId], batch.Records.Select(r => r.Sequence));
        Assert.Equal(statusId, batch.HeadSequence);
        Assert.Equal(
            new AlarmEvent("north", "c1", "nibp.sys.high", Sign.NibpSys, AlarmPriority.High, AlarmKind.Physiological, AlarmState.Acknowledged, 182, 180, "NIBP sys 182 above 180", T0.AddSeconds(5), "ann"),
            batch.Records[0].Alarm);
        Assert.Equal(status, batch.Records[1].FeedStatus);
        var stored = store.ReadEvents(type: SqliteStore.FeedStatusEventType).Single();
        Assert.Equal("c1", stored.Chair);
        Assert.Contains("\"framesOk\":1200", stored.Data, StringComparison.Ordinal);
    }

    [Fact]
    public void StorageJson_AlarmEvent_UsesTheGatewayShape()
    {
        var json = JsonSerializer.Serialize(Alarm(1), StorageJson.Options);
        Assert.Equal("""{"site":"north","chair":"c1","rule":"hr.high","sign":"hr","priority":"high","kind":"physiological","state":"raised","value":131,"limit":120,"message":"HR high","at":"2026-11-22T09:00:01+00:00"}""", json);
        Assert.Equal(Alarm(1), JsonSerializer.Deserialize<AlarmEvent>(json, StorageJson.Options));
    }

    [Fact]
    public void StorageJson_PauseEventWithoutPriority_OmitsTheKeyAndReadsBack()
    {
        var pause = new AlarmEvent("north", "*", "audio.pause", null, null, AlarmKind.Technical, AlarmState.Paused, 120, 120, "Audio paused for 120 s (all chairs)", T0, "ann");

        var json = JsonSerializer.Serialize(pause, StorageJson.Options);

        Assert.DoesNotContain("priority", json, StringComparison.Ordinal);
        Assert.Equal(pause, JsonSerializer.Deserialize<AlarmEvent>(json, StorageJson.Options));
    }

    [Fact]
    public void StorageJson_TechnicalAlarmWithoutSign_ReadsBack()
    {
        var feedLost = new AlarmEvent("north", "c1", "feed.lost", null, AlarmPriority.Medium, AlarmKind.Technical, AlarmState.Raised, 15, 15, "No data from the monitor for 15 s", T0);

        var json = JsonSerializer.Serialize(feedLost, StorageJson.Options);

        Assert.DoesNotContain("sign", json, StringComparison.Ordinal);
        Assert.Equal(feedLost, JsonSerializer.Deserialize<AlarmEvent>(json, StorageJson.Options));
    }

    [Fact]
    public async Task EventsOutbox_EveryAlarmShapeTheEngineWrites_RoundTripsWithNothingQuarantined()
    {
        // Every state, kind and priority, with and without the optional parts: technical and gateway alarms carry no
        // sign, a check reminder no value or limit, a pause its user. Nulls are omitted when written.
        var written = new List<AlarmEvent>();
        foreach (var state in Enum.GetValues<AlarmState>())
        {
            foreach (var kind in Enum.GetValues<AlarmKind>())
            {
                foreach (var priority in Enum.GetValues<AlarmPriority>())
                {
                    for (var optional = 0; optional < 8; optional++)
                    {
                        written.Add(new AlarmEvent(
                            "north", written.Count % 3 == 0 ? "gateway" : "c1", kind == AlarmKind.Technical ? "feed.lost" : "hr.low",
                            (optional & 1) == 0 ? null : Sign.Hr, priority, kind, state,
                            (optional & 2) == 0 ? null : 42.5, (optional & 2) == 0 ? null : 50, "text", T0.AddSeconds(written.Count),
                            (optional & 4) == 0 ? null : "ann"));
                    }
                }
            }
        }

        var status = new FeedStatusSample("north", "c1", "dev-1", false, 0, 0, T0);
        using var store = new SqliteStore(DbPath);
        store.AppendEvents(SqliteStore.AlarmEventType, [.. written.Select(e => (e.At, (string?)e.Chair, JsonSerializer.Serialize(e, StorageJson.Options)))]);
        store.AppendFeedStatus([status]);

        var batch = await SqliteOutbox.ForEvents(store).ReadAfterAsync(0, 10_000, default);

        Assert.Equal(0, store.CountQuarantined());
        Assert.Equal(written, batch.Records.Where(r => r.Alarm is not null).Select(r => r.Alarm!));
        Assert.Equal(status, batch.Records[^1].FeedStatus);

        // Only nullable parts may be missing: an alarm without its chair is still refused.
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<AlarmEvent>(
            """{"site":"north","rule":"feed.lost","priority":"high","kind":"technical","state":"raised","message":"m","at":"2026-11-22T09:00:05+00:00"}""",
            StorageJson.Options));
    }

    [Fact]
    public async Task EventsOutbox_UndecodableRows_QuarantinedOnceAndSkipped()
    {
        using var store = new SqliteStore(DbPath);
        var good1 = store.AppendEvent(T0, SqliteStore.AlarmEventType, "c1", JsonSerializer.Serialize(Alarm(1), StorageJson.Options));
        var bad1 = store.AppendEvent(T0, SqliteStore.AlarmEventType, "c1", """{"site":"north","priority":"apocalyptic"}""");
        var bad2 = store.AppendEvent(T0, SqliteStore.FeedStatusEventType, "c1", "not json");
        var good2 = store.AppendEvent(T0, SqliteStore.AlarmEventType, "c1", JsonSerializer.Serialize(Alarm(2), StorageJson.Options));
        var outbox = SqliteOutbox.ForEvents(store);

        // The batch stops before the bad row so the good one goes out first.
        var first = await outbox.ReadAfterAsync(0, 10, default);
        Assert.Equal([good1], first.Records.Select(r => r.Sequence));
        await outbox.CommitAsync(first.LastSequence, default);
        Assert.Equal(0, store.CountQuarantined());

        var second = await outbox.ReadAfterAsync(good1, 10, default);
        Assert.Equal([good2], second.Records.Select(r => r.Sequence));
        Assert.Equal(bad2, await outbox.GetCursorAsync(default)); // moved past both bad rows
        var again = await outbox.ReadAfterAsync(good1, 10, default); // a re-read does not quarantine twice
        Assert.Equal([good2], again.Records.Select(r => r.Sequence));
        Assert.Equal(2, store.CountQuarantined(SqliteOutbox.EventsName));
        var latest = store.ReadQuarantine(10);
        Assert.Contains($"row {bad2}", latest[0].Error, StringComparison.Ordinal);
        Assert.Contains("not json", latest[0].Line, StringComparison.Ordinal);
        Assert.Contains($"row {bad1}", latest[1].Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("'Pigeon'", false, "stream=", "unknown or of a source this build does not know")] // a source this build does not know
    [InlineData("'Hl7Mllp'", true, "bytes=2", "truncated frame head")] // damaged bytes
    [InlineData(null, false, "stream=999", "stream 999 is unknown")] // a block whose stream is missing
    public async Task ObservationsOutbox_UndecodableBlock_QuarantinedAndSkipped(string? source, bool damaged, string described, string why)
    {
        using var store = new SqliteStore(DbPath);
        store.Append([Obs(0)]);
        var frames = damaged ? "X'0100'" : BlockOf(Obs(1));
        Exec(source is null
            ? $"INSERT INTO vitals_blocks VALUES (2, 2, 999, 0, 0, 0, 1, {frames});"
            : $"""
                INSERT INTO streams (site, chair, device, source) VALUES ('north', 'c1', 'dev-x', {source});
                INSERT INTO vitals_blocks VALUES (2, 2, last_insert_rowid(), 0, 0, 0, 1, {frames});
                """);

        store.Append([Obs(2)]);
        var outbox = SqliteOutbox.ForObservations(store);
        Assert.Equal([1L], (await outbox.ReadAfterAsync(0, 10, default)).Records.Select(r => r.Sequence));
        await outbox.CommitAsync(1, default);
        Assert.Equal([3L], (await outbox.ReadAfterAsync(1, 10, default)).Records.Select(r => r.Sequence));
        var entry = Assert.Single(store.ReadQuarantine());
        Assert.Equal(SqliteOutbox.ObservationsName, entry.Forwarder);
        Assert.Contains(described, entry.Line, StringComparison.Ordinal);
        Assert.Contains("cannot decode outbox frames 2..2", entry.Error, StringComparison.Ordinal);
        Assert.Contains(why, entry.Error, StringComparison.Ordinal);
        Assert.Equal(2, await outbox.GetCursorAsync(default)); // moved past it, so it is quarantined once
        Assert.Equal([60.0, 62.0], store.Query("c1", T0.AddDays(-1), T0.AddDays(1)).Select(o => o.Value)); // history leaves it out
    }

    /// <summary><paramref name="o"/> as a one-frame block, as SQL blob text.</summary>
    internal static string BlockOf(Observation o)
    {
        var bytes = new byte[FrameBlock.MaxFrameBytes + 1];
        var length = FrameBlock.Append(bytes, FrameBlock.Begin(bytes), 0, [o], 0, 1);
        return $"X'{Convert.ToHexString(bytes, 0, length)}'";
    }

    [Fact]
    public async Task Quarantine_Reopen_PersistedWithCountAndLatestNewestFirst()
    {
        using (var store = new SqliteStore(DbPath))
        {
            await SqliteOutbox.ForObservations(store).QuarantineAsync(["vitals hr=x 1", "vitals hr=y 2"], "partial write: bad", default);
            await SqliteOutbox.ForEvents(store).QuarantineAsync(["alarms state=1i 3"], "field type conflict", default);
        }

        SqliteConnection.ClearAllPools();
        using var reopened = new SqliteStore(DbPath);
        Assert.Equal(3, reopened.CountQuarantined());
        Assert.Equal(2, reopened.CountQuarantined(SqliteOutbox.ObservationsName));
        var latest = reopened.ReadQuarantine(2);
        Assert.Equal(["alarms state=1i 3", "vitals hr=y 2"], latest.Select(q => q.Line));
        Assert.Equal(SqliteOutbox.EventsName, latest[0].Forwarder);
        Assert.Equal("field type conflict", latest[0].Error);
        Assert.Equal(["vitals hr=x 1"], reopened.ReadQuarantine(5, SqliteOutbox.ObservationsName).Skip(1).Select(q => q.Line));
    }
}
