using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Vitals.Mqtt.Packets;

/// <summary>
/// <c>mqtt-ingest</c>: the gateway's cost per MQTT reading, measured as the shared Node-RED harness
/// (shared/bench/nodered/run.sh) measures it. It starts a mosquitto on a free loopback port and <c>vitals run</c> as a
/// process of its own (this build's gateway next to this program), configured as the harness configures it: 50 chairs
/// <c>bed-0..49</c>, each with an <c>mqtt</c> device and a field mapping for hr, spo2 and ts. Then it publishes the
/// harness's stream at QoS 0, as fast as the broker takes it: flat JSON <c>{"bed","hr","spo2","seq","ts"}</c> to
/// <c>vitals/clinic/bed-N/obs</c>, chairs in turn, every 10th with hr 130. It prints the gateway process's CPU from
/// the first published message to the last row stored, its peak RSS, the rate achieved, whether every message became
/// a row, and the backlog (published, not yet stored) when the publisher finished.
///   dotnet run -c Release --project tests/Vitals.Load -- mqtt-ingest [--messages 200000] [--chairs 50] [--alert-every 10] [--rounds 1] [--gateway PATH]
/// --gateway runs another build of vitals, a published one for example (dotnet publish src/Vitals.Gateway -c Release -o DIR).
/// With --rounds 2 or more the same gateway process takes the stream again: the later rounds show the cost once the
/// JIT has finished (tiered compilation of the hot path is a large part of a cold 10-second run).
/// Extra environment for the gateway process (GC settings, for example) is passed through as given.
/// --alloc also prints what the gateway allocated per message in each round, by type (sampled in the gateway process by
/// AllocationSampler.cs, loaded there as a startup hook).
/// </summary>
internal static class MqttIngestLoad
{
    internal const string Site = "clinic";
    private const string Password = "load-password-123456";

    public static async Task<int> RunAsync(string[] args)
    {
        var messages = Arg(args, "--messages", 200_000);
        var chairs = Arg(args, "--chairs", 50);
        var alertEvery = Arg(args, "--alert-every", 10);
        var dir = Directory.CreateTempSubdirectory("vitals-mqtt-ingest-").FullName;
        try
        {
            using var broker = Mosquitto.Start(dir, maxQueued: 1_000_000);
            var httpPort = FreePort();
            var config = Path.Combine(dir, "gw.json");
            WriteConfig(config, chairs, httpPort, broker.Port, Path.Combine(dir, "gwdata"));
            var samples = args.Contains("--alloc") ? Directory.CreateDirectory(Path.Combine(dir, "alloc")).FullName : null;
            using var gateway = StartGateway(ArgText(args, "--gateway") ?? Path.Combine(AppContext.BaseDirectory, "vitals"), config, samples);
            try
            {
                var sampler = samples is null ? null : new AllocationSamples(samples, gateway);
                return await MeasureAsync(gateway, broker.Port, httpPort, Path.Combine(dir, "gwdata", "vitals.db"), messages, chairs, alertEvery, Arg(args, "--rounds", 1), sampler);
            }
            finally
            {
                if (!gateway.HasExited)
                {
                    gateway.Kill();
                    await gateway.WaitForExitAsync();
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<int> MeasureAsync(Process gateway, int brokerPort, int httpPort, string db, int messages, int chairs, int alertEvery, int rounds, AllocationSamples? sampler)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        await UntilAsync(gateway, async () => (await http.GetAsync(new Uri("/healthz", UriKind.Relative))).IsSuccessStatusCode, "the gateway answering /healthz");

        using var publisher = await RawPublisher.ConnectAsync(brokerPort);

        // One reading first, waited for as a row: the gateway is subscribed and its store writes. Its row is not measured.
        await publisher.PublishAsync(Topic(0), Payload(0, 80, -1), flush: true);
        await UntilAsync(gateway, () => Task.FromResult(Rows(db) >= 1), "the first reading stored (gateway subscribed)");
        Console.Error.WriteLine($"gateway pid {gateway.Id}: publishing");
        var ok = true;
        for (var round = 1; round <= rounds; round++)
        {
            var before = sampler is null ? null : await sampler.TakeAsync($"start-{round}");
            ok &= await RoundAsync(gateway, publisher, db, messages, chairs, alertEvery, rounds == 1 ? "" : round == 1 ? " (round 1: cold, as the harness measures)" : $" (round {round}: same process, warm)");
            if (sampler is not null)
            {
                AllocationSamples.Print(before!, await sampler.TakeAsync($"end-{round}"), messages);
            }
        }

        return ok ? 0 : 1;
    }

    private static async Task<bool> RoundAsync(Process gateway, RawPublisher publisher, string db, int messages, int chairs, int alertEvery, string round)
    {
        var stored0 = Rows(db);
        var readings0 = CountReadings(db);

        var cpu0 = CpuSeconds(gateway.Id);
        var clock = Stopwatch.StartNew();
        var maxBacklog = 0L;
        for (var i = 0; i < messages; i++)
        {
            await publisher.PublishAsync(Topic(i % chairs), Payload(i % chairs, i % alertEvery == 0 ? 130 : 80, i), flush: (i & 1023) == 1023);
            if ((i & 16383) == 16383)
            {
                maxBacklog = Math.Max(maxBacklog, i + 1 - (Rows(db) - stored0));
            }
        }

        await publisher.FlushAsync();
        var publishSeconds = clock.Elapsed.TotalSeconds;
        var backlogAtEnd = messages - (Rows(db) - stored0);
        maxBacklog = Math.Max(maxBacklog, backlogAtEnd);

        // Drained when every reading is a row, or when nothing more arrives for 10 s (then some were lost).
        var last = -1L;
        var still = Stopwatch.StartNew();
        long stored;
        while (((stored = Rows(db) - stored0) < messages || CountReadings(db) - readings0 < 2 * messages) && still.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (stored != last)
            {
                last = stored;
                still.Restart();
            }

            await Task.Delay(50);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = CpuSeconds(gateway.Id) - cpu0;
        var peakMb = PeakRssMb(gateway.Id);
        var readings = CountReadings(db) - readings0;
        var perMessageUs = cpu / messages * 1e6;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            vitals mqtt-ingest{round}: {messages:N0} messages over {chairs} chairs (every {alertEvery}th hr 130), QoS 0, one loopback mosquitto
              publisher: {publishSeconds:F2} s, {messages / publishSeconds:N0} msg/s offered
              gateway:   {cpu:F2} CPU-s = {cpu / messages * 100_000:F2} CPU-s per 100k messages = {perMessageUs:F1} us/message
                         {messages / seconds:N0} msg/s stored end to end ({seconds:F2} s from first publish to last row)
                         peak RSS {peakMb} MB
              stored:    {readings:N0} of {2 * messages:N0} readings (hr, spo2){(readings == 2 * messages ? ", every message" : $": {(2 * messages) - readings:N0} MISSING")}
              backlog:   {backlogAtEnd:N0} messages not yet stored when the publisher finished (largest seen {maxBacklog:N0}); drained {seconds - publishSeconds:F2} s later
              load:      {File.ReadAllText("/proc/loadavg").Trim()}
            """));
        return readings == 2 * messages;
    }

    private static string Topic(int chair) => $"vitals/{Site}/bed-{chair}/obs";

    // The harness publisher's JSON.stringify({ bed, hr, spo2, seq, ts }), byte for byte.
    private static byte[] Payload(int chair, int hr, long seq) => Encoding.UTF8.GetBytes(string.Create(
        CultureInfo.InvariantCulture,
        $"{{\"bed\":\"bed-{chair}\",\"hr\":{hr},\"spo2\":97,\"seq\":{seq},\"ts\":{TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds()}}}"));

    /// <summary>The harness's gateway config (run.sh): a field mapping for hr and spo2, time from ts in unix ms.</summary>
    internal static void WriteConfig(string path, int chairs, int httpPort, int brokerPort, string data)
    {
        var mapping = new
        {
            fields = new[] { new { field = "hr", sign = "hr" }, new { field = "spo2", sign = "spo2" } },
            timeField = "ts",
            timeFormat = "unix-ms",
        };
        var config = new
        {
            site = Site,
            urls = $"http://127.0.0.1:{httpPort}",
            data,
            chairs = Enumerable.Range(0, chairs).Select(i => new { id = $"bed-{i}", devices = new[] { new { id = $"mq-{i}", kind = "mqtt", mapping } } }),
            mqtt = new { url = $"mqtt://127.0.0.1:{brokerPort}" },
        };
        File.WriteAllText(path, JsonSerializer.Serialize(config));
    }

    /// <summary>Starts <c>vitals run</c> as its own process: this build's (copied next to this program) or <c>--gateway</c>'s.</summary>
    internal static Process StartGateway(string vitals, string config, string? allocSamples = null, Action<string>? output = null)
    {
        var info = new ProcessStartInfo(vitals, ["run", "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["VITALS_ADMIN_PASSWORD"] = Password;
        if (allocSamples is not null)
        {
            info.Environment["DOTNET_STARTUP_HOOKS"] = typeof(StartupHook).Assembly.Location;
            info.Environment[StartupHook.DirectoryVariable] = allocSamples;
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output?.Invoke(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"gateway: {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The gateway's allocation sums by type (see <see cref="StartupHook"/>), asked for by name.</summary>
    private sealed class AllocationSamples(string dir, Process gateway)
    {
        public async Task<Dictionary<string, long>> TakeAsync(string name)
        {
            var answer = Path.Combine(dir, name + ".tsv");
            File.WriteAllText(Path.Combine(dir, "request"), name);
            await UntilAsync(gateway, () => Task.FromResult(File.Exists(answer)), $"the allocation sampler's {name}");
            return File.ReadAllLines(answer)
                .Select(l => l.Split('\t'))
                .ToDictionary(f => f[0], f => long.Parse(f[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        }

        /// <summary>Bytes per message in the round, in all (exact) and by type (sampled, scaled to the exact total).</summary>
        public static void Print(Dictionary<string, long> before, Dictionary<string, long> after, int messages)
        {
            const string Total = "#total";
            var total = after[Total] - before[Total];
            var byType = after.Where(a => a.Key != Total)
                .Select(a => (Type: a.Key, Bytes: a.Value - before.GetValueOrDefault(a.Key)))
                .Where(t => t.Bytes > 0)
                .OrderByDescending(t => t.Bytes)
                .ToList();
            var sampled = Math.Max(1, byType.Sum(t => t.Bytes));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  allocated: {total / (double)messages:F0} B per message ({total / 1e6:F0} MB); by type, sampled every ~100 KB:"));
            foreach (var (type, bytes) in byType.Take(30))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {bytes * (double)total / sampled / messages,8:F1} B  {100.0 * bytes / sampled,5:F1} %  {type}"));
            }
        }
    }

    internal static async Task UntilAsync(Process gateway, Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (gateway.HasExited)
            {
                throw new InvalidOperationException($"the gateway exited with code {gateway.ExitCode} while waiting for {what}");
            }

            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or SqliteException)
            {
                // Not up yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"waited 60 s for {what}");
    }

    /// <summary>
    /// Frames stored so far: the newest frame's id (the store is append-only here), cheap enough to poll. A message is a
    /// frame, or two when its readings fall into two store batches, so this only paces the wait; the count is by reading.
    /// </summary>
    private static long Rows(string db) =>
        File.Exists(db) ? Scalar(db, "SELECT coalesce((SELECT last_id FROM vitals_blocks ORDER BY first_id DESC LIMIT 1), 0);") : 0;

    private static long CountReadings(string db) => Scalar(db, "SELECT coalesce(sum(readings), 0) FROM vitals_blocks;");

    private static long Scalar(string db, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>User + system CPU of a process, from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s).</summary>
    internal static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    internal static long PeakRssMb(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static int Arg(string[] args, string name, int fallback) =>
        ArgText(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    internal static string? ArgText(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>
    /// A QoS 0 publisher on a bare socket: packets are encoded into one buffer and written in blocks, so the publisher
    /// costs little of the shared CPU and TCP flow control from the broker paces it.
    /// </summary>
    private sealed class RawPublisher : IDisposable
    {
        private readonly Socket socket;
        private readonly ArrayBufferWriter<byte> pending = new(1 << 20);

        private RawPublisher(Socket socket) => this.socket = socket;

        public static async Task<RawPublisher> ConnectAsync(int port)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, port);
            var publisher = new RawPublisher(socket);
            MqttPacketWriter.Write(new ConnectPacket { ClientId = $"load-pub-{Environment.ProcessId}", KeepAliveSeconds = 0 }, publisher.pending);
            await publisher.FlushAsync();
            var connack = new byte[4];
            var read = 0;
            while (read < connack.Length)
            {
                var n = await socket.ReceiveAsync(connack.AsMemory(read));
                read += n > 0 ? n : throw new IOException("mosquitto closed the connection before CONNACK");
            }

            return connack[0] == 0x20 && connack[3] == 0 ? publisher : throw new IOException($"CONNACK refused: {Convert.ToHexString(connack)}");
        }

        public ValueTask PublishAsync(string topic, byte[] payload, bool flush)
        {
            MqttPacketWriter.Write(new PublishPacket(topic, payload), pending);
            return flush ? FlushAsync() : ValueTask.CompletedTask;
        }

        public async ValueTask FlushAsync()
        {
            var data = pending.WrittenMemory;
            while (data.Length > 0)
            {
                var sent = await socket.SendAsync(data);
                data = data[sent..];
            }

            pending.ResetWrittenCount();
        }

        public void Dispose()
        {
            try
            {
                socket.Send([0xE0, 0x00]); // DISCONNECT
            }
            catch (SocketException)
            {
            }

            socket.Dispose();
        }
    }
}
