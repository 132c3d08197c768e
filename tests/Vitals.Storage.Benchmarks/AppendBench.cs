using System.Diagnostics;
using System.Globalization;
using Vitals.Core;
using Vitals.Storage.Sqlite;

/// <summary>
/// The store alone, as the gateway feeds it during the shared harness: 50 MQTT chairs, a frame of hr and spo2 per
/// message, appended in transactions of 750 frames (what a 20 ms group commit gathers at that rate; 2,000 at 50 ms),
/// into one file that grows round after round. Prints process CPU and wall time per frame for each round.
/// Usage: dotnet run -c Release --project tests/Vitals.Storage.Benchmarks -- append [frames per round] [rounds] [frames per commit].
/// </summary>
internal static class AppendBench
{
    private const int Chairs = 50;

    public static void Run(int frames, int rounds, int framesPerCommit)
    {
        var dir = Directory.CreateTempSubdirectory("vitals-append-").FullName;
        try
        {
            using var store = new SqliteStore(Path.Combine(dir, "vitals.db"));
            var chairs = Enumerable.Range(0, Chairs).Select(i => ("bed-" + i.ToString(CultureInfo.InvariantCulture), "mq-" + i.ToString(CultureInfo.InvariantCulture))).ToArray();
            var t0 = new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero);
            var batch = new List<Observation>(2 * framesPerCommit);
            long message = 0;
            for (var round = 1; round <= rounds; round++)
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var wall = Stopwatch.StartNew();
                for (var done = 0; done < frames; done += framesPerCommit)
                {
                    batch.Clear();
                    for (var i = 0; i < framesPerCommit; i++, message++)
                    {
                        var (chair, device) = chairs[message % Chairs];
                        var measured = t0.AddMilliseconds(message / 10);
                        var received = measured.AddMilliseconds(3);
                        batch.Add(new Observation("clinic", chair, device, Sign.Hr, 60 + (message % 40), measured, received, SourceProtocol.Mqtt));
                        batch.Add(new Observation("clinic", chair, device, Sign.Spo2, 95 + (message % 5), measured, received, SourceProtocol.Mqtt));
                    }

                    store.Append(batch);
                }

                var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: {frames:N0} frames, CPU {used.TotalMilliseconds * 1000 / frames:F2} us/frame, wall {wall.Elapsed.TotalMilliseconds * 1000 / frames:F2} us/frame"));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
