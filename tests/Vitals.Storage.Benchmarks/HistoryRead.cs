using System.Diagnostics;
using System.Globalization;
using Vitals.Core;
using Vitals.Storage.Sqlite;

/// <summary>
/// A chair's history as the chair page reads it, from a file holding a ward's day: [chairs] chairs at 1 Hz for [hours]
/// hours, hr and spo2 per frame, committed a second of the ward at a time (what the group commit gathers at that rate).
/// Reads one chair's last 0.5, 4 and 24 hours (capped at [hours]) five times each and prints the time of each read.
/// Usage: dotnet run -c Release --project tests/Vitals.Storage.Benchmarks -- history [chairs] [hours].
/// </summary>
internal static class HistoryRead
{
    public static void Run(int chairs, int hours)
    {
        var dir = Directory.CreateTempSubdirectory("vitals-history-").FullName;
        try
        {
            using var store = new SqliteStore(Path.Combine(dir, "vitals.db"));
            var t0 = new DateTimeOffset(2026, 12, 5, 0, 0, 0, TimeSpan.Zero);
            var seconds = hours * 3600;
            var batch = new List<Observation>(2 * chairs);
            var fill = Stopwatch.StartNew();
            for (var s = 0; s < seconds; s++)
            {
                batch.Clear();
                for (var c = 0; c < chairs; c++)
                {
                    var chair = "bed-" + c.ToString(CultureInfo.InvariantCulture);
                    var measured = t0.AddSeconds(s).AddMilliseconds(c * 7);
                    batch.Add(new Observation("clinic", chair, "mq-" + chair, Sign.Hr, 60 + (s % 40), measured, measured.AddMilliseconds(5), SourceProtocol.Mqtt));
                    batch.Add(new Observation("clinic", chair, "mq-" + chair, Sign.Spo2, 95 + (s % 5), measured, measured.AddMilliseconds(5), SourceProtocol.Mqtt));
                }

                store.Append(batch);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"filled {seconds * chairs:N0} frames in {fill.Elapsed.TotalSeconds:F0} s"));
            var end = t0.AddSeconds(seconds);
            foreach (var window in new[] { 0.5, 4, 24 }.Where(h => h <= hours))
            {
                var times = new List<double>();
                var count = 0;
                for (var i = 0; i < 5; i++)
                {
                    var read = Stopwatch.StartNew();
                    count = store.Query("bed-7", end.AddHours(-window), end, 500_000).Count;
                    times.Add(read.Elapsed.TotalMilliseconds);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"last {window} h: {count:N0} readings, {string.Join(" / ", times.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))} ms"));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
