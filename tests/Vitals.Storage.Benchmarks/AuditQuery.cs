using System.Diagnostics;
using System.Globalization;
using Vitals.Storage.Sqlite;

/// <summary>
/// The audit view's query on a large event log: the newest 200 entries of the audited types, by user, by chair and
/// unfiltered, timed over repeated calls on a log of mostly feed status with alarms and audit entries throughout
/// (the gateway writes a feed status row per feed every minute while forwarding).
/// Usage: dotnet run -c Release --project tests/Vitals.Storage.Benchmarks -- audit [rows]
/// </summary>
internal static class AuditQuery
{
    private static readonly string[] AuditTypes = ["audit", "alarm-config", "alarm"];

    public static void Run(int rows)
    {
        var dir = Directory.CreateTempSubdirectory("vitals-audit-bench-").FullName;
        try
        {
            using var store = new SqliteStore(Path.Combine(dir, "vitals.db"));
            var t0 = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
            var fill = Stopwatch.StartNew();
            const int Block = 10_000;
            for (var n = 0; n < rows; n += Block)
            {
                // Per block: 85 % feed status, 12 % alarms (a fifth acknowledged by a nurse), 3 % audit entries.
                store.AppendEvents("feed_status", [.. Enumerable.Range(n, Block * 85 / 100).Select(i => (t0.AddSeconds(i), (string?)$"chair-{i % 40}", """{"connected":true}"""))]);
                store.AppendEvents("alarm", [.. Enumerable.Range(n, Block * 12 / 100).Select(i => (t0.AddSeconds(i), (string?)$"chair-{i % 40}",
                    i % 5 == 0 ? $$"""{"rule":"hr.low","state":"acknowledged","user":"nurse{{i % 30}}"}""" : """{"rule":"hr.low","state":"raised"}"""))]);
                store.AppendEvents("audit", [.. Enumerable.Range(n, Block * 3 / 100).Select(i => (t0.AddSeconds(i), (string?)null,
                    $$"""{"action":"login","user":"nurse{{i % 30}}"}"""))]);
            }

            Console.WriteLine($"event log of {rows:N0} rows written in {fill.Elapsed.TotalSeconds:F1} s");
            Time("newest 200, no filter", () => store.ReadEventsNewestFirst(AuditTypes, null, null, null, null, 200));
            Time("newest 200 by user nurse7", () => store.ReadEventsNewestFirst(AuditTypes, null, "nurse7", null, null, 200));
            Time("newest 200 at chair-13", () => store.ReadEventsNewestFirst(AuditTypes, "chair-13", null, null, null, 200));
            Time("newest 200 by user nurse7 at chair-13", () => store.ReadEventsNewestFirst(AuditTypes, "chair-13", "nurse7", null, null, 200));
            Time("newest 200 by a user who never acted", () => store.ReadEventsNewestFirst(AuditTypes, null, "nobody", null, null, 200));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Time(string what, Func<List<StoredEvent>> query)
    {
        var found = query().Count; // warm: statement compiled, pages cached
        var times = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var sw = Stopwatch.StartNew();
            query();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: {found} entries, median {times[10]:F2} ms, max {times[^1]:F2} ms"));
    }
}
