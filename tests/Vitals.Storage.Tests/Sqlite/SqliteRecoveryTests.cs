using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Storage.Sqlite;

namespace Vitals.Storage.Tests.Sqlite;

/// <summary>What a restart reads back for the alarm engine: recent readings by receive time, and its state rows.</summary>
public sealed class SqliteRecoveryTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-recovery-").FullName;

    private string DbPath => Path.Combine(dir, "vitals.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    private static Observation Received(string chair, double value, DateTimeOffset at) =>
        new("site-a", chair, "dev-1", Sign.Hr, value, at - TimeSpan.FromHours(3), at, SourceProtocol.Simulator); // device clock 3 h off: receive time counts

    [Fact]
    public void ReadReceivedSince_DayOfReadingsWithCompactedStartAndLateRows_ExactlyTheRowsReceivedSince()
    {
        using var store = new SqliteStore(DbPath);
        var all = new List<Observation>();
        for (var minute = 0; minute < 24 * 60; minute++)
        {
            // Each batch receives two chairs; every 7th batch one row arrives 20 s late (receive times not quite in id order).
            var at = T0 + TimeSpan.FromMinutes(minute);
            List<Observation> batch = [Received("c1", minute, at), Received("c2", minute, at + TimeSpan.FromSeconds(minute % 7 == 0 ? -20 : 1))];
            store.Append(batch);
            all.AddRange(batch);
        }

        var deleted = store.Compact(T0 + TimeSpan.FromHours(1), forwardingConfigured: false); // the oldest ids are gone
        Assert.True(deleted > 100, $"{deleted} rows compacted");
        all.RemoveRange(0, (int)deleted); // one reading a row, deleted oldest first
        foreach (var since in new[] { T0 + TimeSpan.FromMinutes(23 * 60 + 30), T0 + TimeSpan.FromMinutes(601) + TimeSpan.FromSeconds(50), T0 + TimeSpan.FromDays(2), T0 + TimeSpan.FromMinutes(61) })
        {
            var expected = all.Where(o => o.ReceivedAt >= since).Select(o => (o.Chair, o.Value, o.ReceivedAt)).ToList();

            var read = store.ReadReceivedSince(since).Select(o => (o.Chair, o.Value, o.ReceivedAt)).ToList();

            Assert.Equal(expected, read);
        }
    }

    [Fact]
    public void ReadReceivedSince_BySign_OnlyThoseSignsEachFromItsOwnTime()
    {
        using var store = new SqliteStore(DbPath);
        var all = new List<Observation>();
        for (var second = 0; second < 30 * 60; second++)
        {
            // One monitor frame a second with every continuous sign; a cuff reading every 5 min in the same frame.
            var at = T0 + TimeSpan.FromSeconds(second);
            var frame = Signs.All
                .Where(s => !s.Episodic || second % 300 == 0)
                .Select(s => new Observation("site-a", "c1", "dev-1", s.Sign, second, at, at, SourceProtocol.Simulator))
                .ToList();
            store.Append(frame);
            all.AddRange(frame);
        }

        var end = T0 + TimeSpan.FromMinutes(30);
        var since = new Dictionary<Sign, DateTimeOffset>
        {
            [Sign.Hr] = end - TimeSpan.FromMinutes(5),
            [Sign.Pr] = end - TimeSpan.FromMinutes(5),
            [Sign.NibpSys] = end - TimeSpan.FromMinutes(15),
            [Sign.Rr] = end - TimeSpan.FromSeconds(90),
        };
        var expected = all.Where(o => since.TryGetValue(o.Sign, out var from) && o.ReceivedAt >= from).Select(o => (o.Sign, o.Value, o.ReceivedAt)).ToList();

        var read = store.ReadReceivedSince(since).Select(o => (o.Sign, o.Value, o.ReceivedAt)).ToList();

        Assert.Equal(expected, read);
        Assert.Equal(300 + 300 + 3 + 90, read.Count);
        Assert.Empty(store.ReadReceivedSince(new Dictionary<Sign, DateTimeOffset>()));
    }

    [Fact]
    public void SetConfigs_ThenReadConfigStartingWith_OnlyThePrefixInKeyOrder()
    {
        using var store = new SqliteStore(DbPath);
        store.SetConfig("alarm.engine.snapshot", "{}", T0);
        store.SetConfigs([("alarm.engine.chair:s/c2", "two", T0), ("alarm.engine.chair:s/c1", "one", T0), ("other", "x", T0)]);
        store.SetConfigs([("alarm.engine.chair:s/c2", "null", T0)]);

        var rows = store.ReadConfigStartingWith("alarm.engine.chair:");

        Assert.Equal([new("alarm.engine.chair:s/c1", "one"), new KeyValuePair<string, string>("alarm.engine.chair:s/c2", "null")], rows);
    }
}
