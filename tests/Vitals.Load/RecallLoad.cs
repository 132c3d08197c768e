using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Storage.Sqlite;

/// <summary>
/// <c>recall</c>: what a restart with a full history costs. Fills a store as 1,000 chairs' monitors would have over the
/// last 30 min (one frame a second each with HR, pulse rate, SpO2 and RR; temperature each minute; NIBP each 5 min),
/// then starts <c>vitals run</c> on a copy of it (with a loopback mosquitto and an <c>mqtt</c> device per chair, as
/// mqtt-ingest does) and prints the time from the process start to the alarm engine's "restored" log line (no chair is
/// judged before it) and to the first <c>/healthz</c> answer, the CPU and peak RSS by then, and how many readings the
/// engine recalled. Several <c>--gateway</c> builds are started in turn, <c>--rounds</c> times, on the same history:
/// each on its own copy, whose times are moved forward first so that its newest reading was received just now.
///   dotnet run -c Release --project tests/Vitals.Load -- recall [--chairs 1000] [--minutes 30] [--rounds 3] [--gateway PATH]...
/// With <c>--engine</c> it measures instead what the engine itself holds in steady state: the same readings fed to an
/// <see cref="Vitals.Core.Alarms.AlarmEngine"/> in this process, then the managed heap after a full collection.
/// </summary>
internal static partial class RecallLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        var chairs = MqttIngestLoad.Arg(args, "--chairs", 1000);
        var minutes = MqttIngestLoad.Arg(args, "--minutes", 30);
        var rounds = MqttIngestLoad.Arg(args, "--rounds", 1);
        if (args.Contains("--engine"))
        {
            EngineMemory(chairs, minutes);
            return 0;
        }

        var gateways = args.Select((a, i) => (a, i)).Where(p => p.a == "--gateway" && p.i + 1 < args.Length).Select(p => args[p.i + 1]).ToList();
        if (gateways.Count == 0)
        {
            gateways.Add(Path.Combine(AppContext.BaseDirectory, "vitals"));
        }

        var dir = Directory.CreateTempSubdirectory("vitals-recall-").FullName;
        try
        {
            var template = Path.Combine(dir, "template.db");
            var filledAt = Fill(template, chairs, TimeSpan.FromMinutes(minutes));
            using var broker = Mosquitto.Start(dir);
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var gateway in gateways)
                {
                    await MeasureAsync(gateway, template, filledAt, dir, chairs, broker.Port);
                }
            }

            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Feeds an engine what <see cref="Fill"/> stores, 10 min longer, and prints the managed heap it holds afterwards.</summary>
    private static void EngineMemory(int chairs, int minutes)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var engine = new Vitals.Core.Alarms.AlarmEngine(site: MqttIngestLoad.Site);
        var events = new List<AlarmEvent>();
        var start = TimeProvider.System.GetUtcNow();
        var second = 0;
        var steady = new Stopwatch(); // the last 10 min, once every span is full: what each reading costs from then on
        var steadyReadings = 0L;
        foreach (var batch in Frames(chairs, start, (minutes + 10) * 60))
        {
            if (second++ == minutes * 60)
            {
                steady.Start();
            }

            foreach (var o in batch)
            {
                engine.Observe(o, events);
            }

            steadyReadings += steady.IsRunning ? batch.Count : 0;
            events.Clear();
        }

        steady.Stop();
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(engine);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"engine: {chairs} chairs x {minutes} + 10 min fed, the last 10 min at {steady.Elapsed.TotalMilliseconds * 1000 / steadyReadings:F2} us a reading; managed heap held {held / (1 << 20)} MB, peak RSS {MqttIngestLoad.PeakRssMb(Environment.ProcessId)} MB; load {File.ReadAllText("/proc/loadavg").Trim()}"));
    }

    /// <summary>Writes <paramref name="span"/> of readings up to now for every chair; returns when the last was received.</summary>
    private static DateTimeOffset Fill(string path, int chairs, TimeSpan span)
    {
        var clock = Stopwatch.StartNew();
        var end = TimeProvider.System.GetUtcNow();
        var seconds = (int)span.TotalSeconds;
        long frames = 0;
        using (var store = new SqliteStore(path))
        {
            foreach (var batch in Frames(chairs, end - span, seconds))
            {
                frames += chairs;
                store.Append(batch);
            }
        }

        // Everything into the database file itself, which is what each run copies (the store's pooled connections keep a WAL).
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            connection.Open();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            checkpoint.ExecuteNonQuery();
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"filled: {chairs} chairs x {span.TotalMinutes:0} min = {frames:N0} frames in {clock.Elapsed.TotalSeconds:F1} s ({new FileInfo(path).Length / (1 << 20)} MB)"));
        return end;
    }

    /// <summary>
    /// A second of every chair's monitor at a time from <paramref name="start"/>: HR, pulse rate, SpO2 and RR, temperature
    /// each minute and NIBP each 5 min (chairs staggered). The list is reused: consume each before taking the next.
    /// </summary>
    private static IEnumerable<List<Observation>> Frames(int chairs, DateTimeOffset start, int seconds)
    {
        var batch = new List<Observation>(chairs * 8);
        for (var second = 0; second < seconds; second++)
        {
            var at = start + TimeSpan.FromSeconds(second + 1);
            batch.Clear();
            for (var c = 0; c < chairs; c++)
            {
                void Add(Sign sign, double value) =>
                    batch.Add(new Observation(MqttIngestLoad.Site, $"bed-{c}", $"mq-{c}", sign, value, at, at, SourceProtocol.Mqtt));
                Add(Sign.Hr, 70 + (second % 11));
                Add(Sign.Pr, 70 + (second % 11));
                Add(Sign.Spo2, 97);
                Add(Sign.Rr, 16);
                if ((second + c) % 60 == 0)
                {
                    Add(Sign.Temp, 36.8);
                }

                if ((second + c) % 300 == 0)
                {
                    Add(Sign.NibpSys, 125);
                    Add(Sign.NibpDia, 80);
                    Add(Sign.NibpMap, 95);
                }
            }

            yield return batch;
        }
    }

    private static async Task MeasureAsync(string vitals, string template, DateTimeOffset filledAt, string dir, int chairs, int brokerPort)
    {
        var run = Path.Combine(dir, $"run-{Guid.NewGuid():N}");
        try
        {
            var data = Path.Combine(run, "gwdata");
            Directory.CreateDirectory(data);
            var db = Path.Combine(data, "vitals.db");
            File.Copy(template, db);
            var moved = Stopwatch.StartNew();
            MoveForward(db, TimeProvider.System.GetUtcNow() - filledAt);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"history moved forward in {moved.Elapsed.TotalSeconds:F1} s (that much older at the start)"));
            var httpPort = MqttIngestLoad.FreePort();
            var config = Path.Combine(run, "gw.json");
            MqttIngestLoad.WriteConfig(config, chairs, httpPort, brokerPort, data);

            var clock = Stopwatch.StartNew();
            TimeSpan? restoredAfter = null;
            string? recalled = null;
            using var gateway = MqttIngestLoad.StartGateway(vitals, config, output: line =>
            {
                if (Restored().Match(line) is { Success: true } m)
                {
                    restoredAfter = clock.Elapsed;
                    recalled = m.Groups[1].Value;
                }
            });
            try
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
                await MqttIngestLoad.UntilAsync(gateway, async () => (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).IsSuccessStatusCode, "the gateway answering /healthz");
                var healthy = clock.Elapsed;
                var (cpu, peak) = (MqttIngestLoad.CpuSeconds(gateway.Id), MqttIngestLoad.PeakRssMb(gateway.Id));
                await MqttIngestLoad.UntilAsync(gateway, () => Task.FromResult(restoredAfter is not null), "the alarm engine's restored line");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{vitals}: engine restored after {restoredAfter!.Value.TotalSeconds:F2} s ({recalled} readings recalled), /healthz after {healthy.TotalSeconds:F2} s, CPU {cpu:F2} s, peak RSS {peak} MB; load {File.ReadAllText("/proc/loadavg").Trim()}"));
            }
            finally
            {
                gateway.Kill();
                await gateway.WaitForExitAsync();
            }
        }
        finally
        {
            Directory.Delete(run, recursive: true);
        }
    }

    /// <summary>
    /// Moves every reading's receive time (what the recall reads by) forward by <paramref name="by"/>; vitals rows have no
    /// append-only trigger (the event log has). Measured times stay: moving them rewrote their index, a minute under load.
    /// </summary>
    private static void MoveForward(string db, TimeSpan by)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE vitals SET received_ms = received_ms + $by;";
        command.Parameters.AddWithValue("$by", (long)by.TotalMilliseconds);
        command.ExecuteNonQuery();
    }

    [GeneratedRegex(@"Alarm engine restored: .*?(\d+) stored readings recalled")]
    private static partial Regex Restored();
}
