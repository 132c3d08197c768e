using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Storage.Sqlite;

namespace Vitals.Storage.Tests.Sqlite;

public sealed class SqliteStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-store-").FullName;

    private string DbPath => Path.Combine(dir, "vitals.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    private static Observation Obs(string chair, Sign sign, double value, int second) =>
        new("site-a", chair, "dev-1", sign, value, T0.AddSeconds(second), T0.AddSeconds(second).AddMilliseconds(40), SourceProtocol.Hl7Mllp, ObservationQuality.Questionable);

    [Fact]
    public void ReadEventsNewestFirst_LogOfThreeHundredThousandRows_NewestMatchesOfEveryFilter()
    {
        // Past the 200,000 rows the audit view used to scan from the start: mostly feed status, with alarms and
        // audit entries by two users at eight chairs throughout.
        using var store = new SqliteStore(DbPath);
        var model = new List<(long Id, string Type, string Chair, string? User, DateTimeOffset At)>();
        var n = 0;
        for (var block = 0; block < 300; block++)
        {
            foreach (var (type, count) in new[] { ("feed_status", 900), ("alarm", 60), ("audit", 40) })
            {
                var rows = Enumerable.Range(n, count).Select(i =>
                    (At: T0.AddSeconds(i), Chair: $"c{i % 8}", User: type == "feed_status" || i % 3 == 0 ? null : i % 2 == 0 ? "Ann" : "bob")).ToList();
                var last = store.AppendEvents(type, [.. rows.Select(r => (r.At, (string?)r.Chair, r.User is null ? "{}" : $$"""{"user":"{{r.User}}"}"""))]);
                model.AddRange(rows.Select((r, k) => (last - count + 1 + k, type, r.Chair, r.User, r.At)));
                n += count;
            }
        }

        string[] auditTypes = ["audit", "alarm-config", "alarm"];
        List<long> Expected(Func<(long Id, string Type, string Chair, string? User, DateTimeOffset At), bool> match, int limit) =>
            [.. model.Where(match).OrderByDescending(e => e.Id).Take(limit).Select(e => e.Id)];
        List<long> Actual(IReadOnlyCollection<string> types, string? chair, string? user, DateTimeOffset? from, DateTimeOffset? to, int limit) =>
            [.. store.ReadEventsNewestFirst(types, chair, user, from, to, limit).Select(e => e.Id)];

        Assert.Equal(Expected(e => e.Type != "feed_status" && e.User == "Ann", 200), Actual(auditTypes, null, "ann", null, null, 200));
        Assert.Equal(Expected(e => e.Type != "feed_status" && e.Chair == "c3", 500), Actual(auditTypes, "c3", null, null, null, 500));
        Assert.Equal(Expected(e => e.Type == "audit" && e.Chair == "c5" && e.User == "bob", 20), Actual(["audit"], "c5", "BOB", null, null, 20));
        var from = T0.AddSeconds(100_000);
        var to = T0.AddSeconds(150_000);
        Assert.Equal(Expected(e => e.Type == "alarm" && e.At >= from && e.At <= to, 100), Actual(["alarm"], null, null, from, to, 100));
        Assert.Equal(Expected(e => e.Type != "feed_status", 5), Actual(auditTypes, "", "", null, null, 5));
        Assert.Equal(model.Max(e => e.Id), Assert.Single(Actual(auditTypes, null, null, null, null, 1))); // the very last entry
    }

    [Fact]
    public void Append_ThenReopen_KeepsEveryFieldOfHistory()
    {
        using (var store = new SqliteStore(DbPath))
        {
            store.Append([Obs("c1", Sign.NibpSys, 118, 0), Obs("c1", Sign.Hr, 72.5, 1)]);
            store.AppendEvent(T0, "alarm", "c1", """{"rule":"hr.low"}""");
            store.SetConfig("profile", "adult", T0);
        }

        using var reopened = new SqliteStore(DbPath);
        var history = reopened.Query("c1", T0, T0.AddMinutes(1));
        Assert.Equal([Obs("c1", Sign.NibpSys, 118, 0), Obs("c1", Sign.Hr, 72.5, 1)], history);
        Assert.Equal("""{"rule":"hr.low"}""", Assert.Single(reopened.ReadEvents()).Data);
        Assert.Equal("adult", reopened.GetConfig("profile"));
    }

    [Fact]
    public void Query_ChairAndTimeRange_ReturnsOnlyThatWindowOldestFirst()
    {
        using var store = new SqliteStore(DbPath);
        store.Append([Obs("c1", Sign.Hr, 70, 30), Obs("c2", Sign.Hr, 90, 31), Obs("c1", Sign.Hr, 71, 10), Obs("c1", Sign.Hr, 72, 60)]);
        var window = store.Query("c1", T0.AddSeconds(10), T0.AddSeconds(60));
        Assert.Equal([71.0, 70.0], window.Select(o => o.Value));
    }

    [Fact]
    public void Append_Batch100k_OneTransactionAllOrNothing()
    {
        using var store = new SqliteStore(DbPath);
        var batch = Enumerable.Range(0, 100_000).Select(i => Obs($"c{i % 8}", (Sign)(i % 8), i % 200, i / 8)).ToList();
        var last = store.Append(batch);
        Assert.Equal(100_000, last);
        Assert.Equal(100_000, store.CountObservations());
        Assert.Equal(12_500, store.Query("c3", T0, T0.AddDays(1)).Count);

        // One transaction means all or nothing: when the very last row of a second 100k batch fails, none of the 99,999
        // rows before it may stay (a batch committed in pieces would keep them).
        using (var other = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            other.Open();
            using var create = other.CreateCommand();
            create.CommandText = """
                CREATE TRIGGER poison BEFORE INSERT ON vitals_blocks WHEN NEW.stream IN (SELECT id FROM streams WHERE device = 'poison')
                BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;
                """;
            create.ExecuteNonQuery();
        }

        var second = batch.Select(o => o with { MeasuredAt = o.MeasuredAt.AddDays(1) }).ToList();
        second[^1] = second[^1] with { Device = "poison" };
        var failure = Assert.ThrowsAny<Exception>(() => store.Append(second));
        Assert.Contains("poisoned row", failure.ToString(), StringComparison.Ordinal);
        Assert.Equal(100_000, store.CountObservations());
        Assert.Empty(store.Query("c3", T0.AddDays(1), T0.AddDays(2)));
        Assert.Equal(100_001, store.Append([second[0]])); // the failed batch left the writer usable

        // The poisoned device's stream was inserted in the rolled-back transaction: its id is not reused from memory.
        using (var other = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            other.Open();
            using var drop = other.CreateCommand();
            drop.CommandText = "DROP TRIGGER poison;";
            drop.ExecuteNonQuery();
        }

        Assert.Equal(100_002, store.Append([second[^1]]));
        Assert.Equal(second[^1], store.Query(second[^1].Chair, T0.AddDays(1), T0.AddDays(2))[^1]);
    }

    [Fact]
    public void Append_FrameOfEverySign_OneRowKeepingEachValueAndQuality()
    {
        using var store = new SqliteStore(DbPath);
        var qualities = new[] { ObservationQuality.Ok, ObservationQuality.Questionable, ObservationQuality.Invalid, ObservationQuality.Simulated };
        var frame = Signs.All.Select((s, i) => Obs("c1", s.Sign, 10 + i, 0) with { Quality = qualities[i % qualities.Length] }).ToList();

        Assert.Equal(1, store.Append([.. Enumerable.Reverse(frame)])); // any order in: one row

        Assert.Equal(frame, store.Query("c1", T0, T0.AddMinutes(1))); // sign order out
        Assert.Equal(Signs.All.Count, store.CountObservations());
    }

    [Fact]
    public void Append_RepeatedSignOrOtherDevice_StartsAnotherRowLosingNothing()
    {
        using var store = new SqliteStore(DbPath);
        Observation[] run = [Obs("c1", Sign.Hr, 70, 0), Obs("c1", Sign.Spo2, 97, 0), Obs("c1", Sign.Hr, 71, 0), Obs("c1", Sign.Spo2, 96, 0) with { Device = "dev-2" }];

        Assert.Equal(3, store.Append(run));

        Assert.Equal([70.0, 97.0, 71.0, 96.0], store.Query("c1", T0, T0.AddMinutes(1)).Select(o => o.Value));
    }

    [Fact]
    public void Append_RowsDifferingFromThePreviousInSignsOrText_NothingCarriedOverWithinOrAcrossAppends()
    {
        // The insert keeps values bound from one row to the next: every row must still hold exactly its own frame.
        using var store = new SqliteStore(DbPath);
        Observation[] first = [Obs("c1", Sign.Hr, 70, 0), Obs("c1", Sign.Spo2, 97, 0), Obs("c1", Sign.Temp, 36.6, 0), Obs("c1", Sign.Hr, 71, 1)];
        Observation[] second = [Obs("c1", Sign.Spo2, 95, 2) with { Site = "site-b", Device = "dev-2", Source = SourceProtocol.Mqtt }, Obs("c2", Sign.Rr, 14, 2)];
        Observation[] third = [Obs("c1", Sign.Hr, 72, 3), Obs("c1", Sign.Spo2, 94, 3)];

        store.Append(first);
        store.Append(second);
        store.Append(third);

        Assert.Equal([.. first, second[0], .. third], store.Query("c1", T0, T0.AddMinutes(1)));
        Assert.Equal([second[1]], store.Query("c2", T0, T0.AddMinutes(1)));
        Assert.Equal(first.Length + second.Length + third.Length, store.CountObservations());
    }

    [Fact]
    public void Query_Limit_CountsObservationsNotRows()
    {
        using var store = new SqliteStore(DbPath);
        store.Append([.. Enumerable.Range(0, 3).SelectMany(second => new[] { Sign.Hr, Sign.Pr, Sign.Spo2 }.Select(s => Obs("c1", s, second, second)))]);

        var firstFour = store.Query("c1", T0, T0.AddMinutes(1), limit: 4);

        Assert.Equal([(Sign.Hr, 0.0), (Sign.Pr, 0.0), (Sign.Spo2, 0.0), (Sign.Hr, 1.0)], firstFour.Select(o => (o.Sign, o.Value)));
    }

    [Fact]
    public void EventLog_UpdateOrDelete_IsRefused()
    {
        using var store = new SqliteStore(DbPath);
        store.AppendEvent(T0, "config", null, "{}");
        using var conn = new SqliteConnection($"Data Source={DbPath}");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "DELETE FROM events;";
        var e = Assert.Throws<SqliteException>(() => cmd.ExecuteNonQuery());
        Assert.Contains("append-only", e.Message, StringComparison.Ordinal);
        cmd.CommandText = "UPDATE events SET type = 'x';";
        Assert.Throws<SqliteException>(() => cmd.ExecuteNonQuery());
        Assert.Single(store.ReadEvents());
    }

    [Fact]
    public void ReadEvents_FilterByTypeChairAndCursor_ReturnsMatchingInOrder()
    {
        using var store = new SqliteStore(DbPath);
        var first = store.AppendEvent(T0, "alarm", "c1", "1");
        store.AppendEvent(T0, "config", null, "2");
        store.AppendEvent(T0, "alarm", "c2", "3");
        store.AppendEvent(T0, "alarm", "c1", "4");
        Assert.Equal(["1", "4"], store.ReadEvents(type: "alarm", chair: "c1").Select(e => e.Data));
        Assert.Equal(["3", "4"], store.ReadEvents(afterId: first, type: "alarm").Select(e => e.Data));
    }

    [Fact]
    public void Open_FileFromNewerSchema_FailsWithClearMessage()
    {
        using (var conn = new SqliteConnection($"Data Source={DbPath}"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 99;";
            cmd.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
        var e = Assert.Throws<InvalidOperationException>(() => new SqliteStore(DbPath));
        Assert.Contains("newer Vitals", e.Message, StringComparison.Ordinal);
    }
}
