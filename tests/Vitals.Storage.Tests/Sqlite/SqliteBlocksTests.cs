using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Storage.Sqlite;

namespace Vitals.Storage.Tests.Sqlite;

/// <summary>
/// History is stored in blocks (schema 7): a run of one stream's frames per append, one row. These try to make a read
/// miss, repeat or misorder a reading: interleaved streams, device clocks out of order or far apart, windows that cut a
/// block, retention meeting a block with newer frames or the forwarding cursor inside one.
/// </summary>
public sealed class SqliteBlocksTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-blocks-").FullName;

    private string DbPath => Path.Combine(dir, "vitals.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    private static Observation Obs(string chair, string device, double value, DateTimeOffset measured, Sign sign = Sign.Hr) =>
        new("site-a", chair, device, sign, value, measured, measured.AddMilliseconds(40), SourceProtocol.Mqtt);

    private long Scalar(string sql)
    {
        using var conn = new SqliteConnection($"Data Source={DbPath}");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }

    [Fact]
    public void Query_InterleavedStreamsAndDeviceClocks_EveryWindowReturnsExactlyItsReadingsInTimeOrder()
    {
        // Three chairs (c3 fed by two devices) interleaved in each append, measured times jittered back and forth,
        // a reading 10 minutes late and one 2 hours early among them, over 20 appends.
        using var store = new SqliteStore(DbPath);
        var all = new List<Observation>();
        var rng = new Random(15);
        var value = 0;
        for (var append = 0; append < 20; append++)
        {
            var batch = new List<Observation>();
            for (var i = 0; i < 60; i++)
            {
                var (chair, device) = (i % 4) switch { 0 => ("c1", "d1"), 1 => ("c2", "d2"), 2 => ("c3", "d3a"), _ => ("c3", "d3b") };
                var measured = T0.AddSeconds((append * 15) + (i / 4)).AddMilliseconds(rng.Next(-3000, 3000));
                measured = (append, i) switch { (7, 9) => measured.AddMinutes(-10), (12, 5) => measured.AddHours(2), _ => measured };
                var o = Obs(chair, device, value++, measured);
                batch.Add(o);
                all.Add(o);
            }

            store.Append(batch);
        }

        foreach (var chair in new[] { "c1", "c2", "c3" })
        {
            foreach (var (from, to) in new[]
            {
                (T0.AddHours(-1), T0.AddHours(3)), (T0.AddSeconds(100), T0.AddSeconds(101)), (T0.AddSeconds(37), T0.AddSeconds(200)),
                (T0.AddMinutes(-9), T0.AddSeconds(30)), (T0.AddHours(2), T0.AddHours(2).AddMinutes(5)), (T0.AddSeconds(299), T0.AddHours(1)),
            })
            {
                var expected = all.Where(o => o.Chair == chair && o.MeasuredAt >= from && o.MeasuredAt < to)
                    .OrderBy(o => o.MeasuredAt).ThenBy(o => o.Value).Select(o => o.Value).ToList();
                Assert.Equal(expected, store.Query(chair, from, to).Select(o => o.Value));
            }
        }
    }

    [Fact]
    public void Append_ManyFramesOfFewStreams_OneBlockPerStreamNotPerFrame()
    {
        using var store = new SqliteStore(DbPath);
        var batch = Enumerable.Range(0, 3000).Select(i => Obs($"c{i % 3}", "d", i, T0.AddMilliseconds(i * 10))).ToList();
        Assert.Equal(3000, store.Append(batch));
        store.Append([Obs("c0", "d", -1, T0.AddMinutes(1))]);

        SqliteConnection.ClearAllPools();
        Assert.Equal(4, Scalar("SELECT count(*) FROM vitals_blocks;"));
        Assert.Equal(1000, Scalar("SELECT last_id - first_id + 1 FROM vitals_blocks WHERE first_id = 1;")); // c0's frames, together
        Assert.Equal(3001, Scalar("SELECT sum(last_id - first_id + 1) FROM vitals_blocks;"));
        Assert.Equal(3001, Scalar("SELECT sum(readings) FROM vitals_blocks;"));
        Assert.Equal(0, Scalar("SELECT count(*) FROM vitals_blocks a JOIN vitals_blocks b ON a.first_id < b.first_id AND a.last_id >= b.first_id;"));
        Assert.Equal(batch.Where(o => o.Chair == "c1").Select(o => o.Value), store.Query("c1", T0, T0.AddHours(1)).Select(o => o.Value));
    }

    [Fact]
    public void Append_MoreFramesOfOneStreamThanABlockHolds_SplitAtTheCap()
    {
        using var store = new SqliteStore(DbPath);
        var batch = Enumerable.Range(0, 3000).Select(i => Obs("c1", "d", i, T0.AddMilliseconds(i * 10))).ToList();
        store.Append(batch);

        Assert.Equal(batch.Select(o => o.Value), store.Query("c1", T0, T0.AddHours(1)).Select(o => o.Value));
        SqliteConnection.ClearAllPools();
        Assert.Equal(3, Scalar("SELECT count(*) FROM vitals_blocks;"));
        Assert.Equal(SqliteStore.MaxFramesPerBlock, Scalar("SELECT max(last_id - first_id + 1) FROM vitals_blocks;"));
    }

    [Fact]
    public void Append_StreamIdsBeyondTheCountingSort_StillOneBlockPerStream()
    {
        using (var conn = new SqliteConnection($"Data Source={DbPath}"))
        {
            using var store = new SqliteStore(DbPath); // creates the file
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "INSERT INTO streams (id, site, chair, device, source) VALUES (70000, 'old', 'old', 'old', 'Mqtt');"; // new streams number from here
            cmd.ExecuteNonQuery();
        }

        using (var store = new SqliteStore(DbPath))
        {
            var batch = Enumerable.Range(0, 300).Select(i => Obs($"c{i % 3}", "d", i, T0.AddMilliseconds(i * 10))).ToList();
            store.Append(batch);
            Assert.Equal(batch.Where(o => o.Chair == "c2").Select(o => o.Value), store.Query("c2", T0, T0.AddMinutes(1)).Select(o => o.Value));
        }

        SqliteConnection.ClearAllPools();
        Assert.Equal(3, Scalar("SELECT count(*) FROM vitals_blocks WHERE stream > 70000;"));
    }

    [Fact]
    public void Append_OneStreamSpreadOverHours_SplitIntoBlocksOfAtMostAMinute()
    {
        using var store = new SqliteStore(DbPath);
        var batch = Enumerable.Range(0, 600).Select(i => Obs("c1", "d", i, T0.AddSeconds(i * 30))).ToList(); // 5 hours in one append
        store.Append(batch);

        Assert.Equal(batch.Skip(240).Take(2).Select(o => o.Value), store.Query("c1", T0.AddHours(2), T0.AddHours(2).AddMinutes(1)).Select(o => o.Value));
        SqliteConnection.ClearAllPools();
        Assert.Equal(0, Scalar($"SELECT count(*) FROM vitals_blocks WHERE max_ms - min_ms > {SqliteStore.SpanMs};"));
        Assert.Equal(200, Scalar("SELECT count(*) FROM vitals_blocks;")); // three frames 30 s apart span a minute
    }

    [Fact]
    public void Compact_BlockWithNewerFrames_KeptWholeUntilItsNewestFrameAges()
    {
        using var store = new SqliteStore(DbPath);
        var old = Enumerable.Range(0, 100).Select(i => Obs("c1", "d", i, T0.AddMilliseconds(i * 100))).ToList();
        store.Append(old); // one block, frames 1-100, received from T0 to T0 + 9.9 s
        store.Append([Obs("c1", "d", 100, T0.AddMinutes(5))]);

        Assert.Equal(0, store.Compact(T0.AddSeconds(5), forwardingConfigured: false)); // half the block is not old yet
        Assert.Equal(101, store.Query("c1", T0, T0.AddHours(1)).Count);

        Assert.Equal(100, store.Compact(T0.AddMinutes(1), forwardingConfigured: false));
        Assert.Equal([100.0], store.Query("c1", T0, T0.AddHours(1)).Select(o => o.Value));
        SqliteConnection.ClearAllPools();
        Assert.Equal(1, Scalar("SELECT count(*) FROM vitals_blocks;"));
    }

    [Fact]
    public async Task Compact_ForwardingCursorInsideABlock_NothingAboveTheCursorDeletedAndTheRestStillForwarded()
    {
        using var store = new SqliteStore(DbPath);
        store.Append([.. Enumerable.Range(0, 100).Select(i => Obs("c1", "d", i, T0.AddMilliseconds(i * 100)))]); // frames 1-100
        store.Append([.. Enumerable.Range(0, 10).Select(i => Obs("c1", "d", 100 + i, T0.AddMinutes(2).AddMilliseconds(i)))]); // 101-110
        store.Append([Obs("c1", "d", 999, T0.AddMinutes(3))]); // 111: the newest block, always kept
        var outbox = SqliteOutbox.ForObservations(store);
        await outbox.CommitAsync(105, default);

        Assert.Equal(100, store.Compact(T0.AddYears(1), forwardingConfigured: true)); // 101-110 straddles the cursor: kept
        Assert.Equal([106L, 107, 108, 109, 110, 111], (await outbox.ReadAfterAsync(0, 100, default)).Records.Select(r => r.Sequence));
        Assert.Equal(6, outbox.GetBacklog(T0, new StoreRetentionOptions()).Rows);
    }

    [Fact]
    public void ReadReceivedSince_FromInsideABlock_ReturnsExactlyTheFreshReadingsInStoredOrder()
    {
        using var store = new SqliteStore(DbPath);
        var all = new List<Observation>();
        for (var append = 0; append < 30; append++)
        {
            var batch = Enumerable.Range(0, 40).Select(i => Obs($"c{i % 2}", "d", (append * 40) + i, T0.AddSeconds(append).AddMilliseconds(i * 20))).ToList();
            store.Append(batch);
            all.AddRange(batch.Where(o => o.Chair == "c0").Concat(batch.Where(o => o.Chair == "c1"))); // stored grouped by stream
        }

        var since = T0.AddSeconds(12.5);
        Assert.Equal(all.Where(o => o.ReceivedAt >= since).Select(o => o.Value), store.ReadReceivedSince(since).Select(o => o.Value));
    }
}
