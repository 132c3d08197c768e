using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Vitals.Core;
using Vitals.Web;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;

/// <summary>
/// <c>central</c> load mode: N chairs of emulated gateways publish through site mosquittos bridged to a central mosquitto
/// (the bridged deployment of the README) to a real <c>vitals central</c> process, whose CPU and memory are measured
/// with the alarm latency up to its dashboard stream (<c>/api/stream</c>, the <c>alarms</c> event).
/// An emulated gateway is one MQTT connection with the gateway's last will, its retained <c>online</c> status, each
/// chair's retained <c>state</c> once a second (values that change every second, as live monitors make them) and QoS 1
/// <c>alarm</c> events, with the gateway's own topic names and payload records. Alarm latency runs from just before the
/// emulated site's publish to the alarm's arrival at the central side. With <c>--subscriber</c> a plain MQTT subscriber on
/// the central broker stands in for central (the topology's own cost). With <c>--real-gateways N</c>, N of the gateways
/// are real <c>vitals demo</c> child processes (simulated chairs, their own engine and MQTT publisher) among the emulated
/// ones: their chairs count towards the total, and their chair events at central are counted apart (their alarms come
/// from the demo scenarios, so only the emulated ones are timed).
///   dotnet run -c Release --project tests/Vitals.Load -- central [--chairs 100,1000,5000] [--seconds 30] [--warmup 5]
///       [--chairs-per-site 20] [--site-brokers 2] [--alarm-every 120] [--alarm-seconds 10] [--subscriber]
///       [--real-gateways 0]
/// </summary>
internal static class CentralLoad
{
    private const string Prefix = "vitals";

    public static async Task<int> RunAsync(string[] args)
    {
        var sizes = Arg(args, "--chairs", "100,1000,5000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var seconds = int.Parse(Arg(args, "--seconds", "30"), CultureInfo.InvariantCulture);
        var warmup = int.Parse(Arg(args, "--warmup", "5"), CultureInfo.InvariantCulture);
        var perSite = int.Parse(Arg(args, "--chairs-per-site", "20"), CultureInfo.InvariantCulture);
        var siteBrokers = int.Parse(Arg(args, "--site-brokers", "2"), CultureInfo.InvariantCulture);
        var alarmEvery = int.Parse(Arg(args, "--alarm-every", "120"), CultureInfo.InvariantCulture);
        var alarmSeconds = int.Parse(Arg(args, "--alarm-seconds", "10"), CultureInfo.InvariantCulture);
        var subscriber = args.Contains("--subscriber");
        var real = int.Parse(Arg(args, "--real-gateways", "0"), CultureInfo.InvariantCulture);

        Console.WriteLine($"central load: {siteBrokers} site mosquittos bridged to a central mosquitto, {(subscriber ? "a plain MQTT subscriber" : "vitals central (own process)")} on it; {perSite} chairs per emulated gateway, state at 1 Hz per chair, one alarm raised per chair every {alarmEvery} s, active for {alarmSeconds} s; {warmup} s warm-up, {seconds} s measured");
        var ok = true;
        foreach (var chairs in sizes)
        {
            ok &= await RunOnceAsync(chairs, perSite, siteBrokers, (alarmEvery, alarmSeconds), subscriber, real, warmup, seconds);
        }

        return ok ? 0 : 1;
    }

    private static async Task<bool> RunOnceAsync(int chairs, int perSite, int siteBrokerCount, (int Every, int Seconds) alarms, bool subscriber, int real, int warmup, int seconds)
    {
        if (real * perSite > chairs || real > 8)
        {
            throw new ArgumentException($"--real-gateways: {real} real gateways of {perSite} chairs do not fit in {chairs} chairs (at most 8 real ones).");
        }

        await using var brokers = await BridgedBrokers.StartAsync(siteBrokerCount, Prefix);
        await using CentralSide central = subscriber
            ? await SubscriberCentral.StartAsync(brokers.Central.Port)
            : await ProcessCentral.StartAsync(brokers.Central.Port);
        var sent = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        central.AlarmArrived = key => sent.TryRemove(key, out var at) ? Stopwatch.GetElapsedTime(at).TotalMilliseconds : null;

        using var stop = new CancellationTokenSource();
        var realGateways = new List<RealGateway>();
        for (var i = 0; i < real; i++)
        {
            realGateways.Add(RealGateway.Start($"{RealGateway.SitePrefix}{i + 1}", perSite, brokers.Sites[i % brokers.Sites.Count].Port));
        }

        await Eventually.TrueAsync(() => central.RealSites.Count >= real, $"{real} real gateways' chairs to reach {central.Name}", TimeSpan.FromMinutes(3));
        var gateways = new List<EmulatedGateway>();
        for (var first = real * perSite; first < chairs; first += perSite)
        {
            var index = gateways.Count;
            var site = $"site-{index + 1:D4}";
            gateways.Add(new EmulatedGateway(site, Math.Min(perSite, chairs - first), brokers.Sites[index % brokers.Sites.Count].Port, alarms, sent));
        }

        await Task.WhenAll(gateways.Select(g => g.ConnectAsync()));
        var clock = Stopwatch.StartNew();
        var runs = gateways.Select((g, i) => g.RunAsync(TimeSpan.FromMilliseconds(1000.0 * i / gateways.Count), stop.Token)).ToList();

        await Task.Delay(TimeSpan.FromSeconds(warmup));
        central.Measuring = true;
        var watched = new Dictionary<string, int>
        {
            [central.Name] = central.ProcessId,
            ["central mosquitto"] = brokers.Central.ProcessId!.Value,
        };
        for (var i = 0; i < brokers.Sites.Count; i++)
        {
            watched[$"site mosquitto {i + 1}"] = brokers.Sites[i].ProcessId!.Value;
        }

        // The emulators share the machine: when they fall behind, alarms leave late and the latency says so.
        foreach (var g in realGateways)
        {
            watched[$"real gateway {g.Site}"] = g.ProcessId;
        }

        if (central.ProcessId != Environment.ProcessId)
        {
            watched["emulated gateways and stream reader (this process)"] = Environment.ProcessId;
        }

        var cpuBefore = watched.ToDictionary(w => w.Key, w => ProcFigures.CpuSeconds(w.Value));
        var window = Stopwatch.StartNew();
        var peakRss = watched.ToDictionary(w => w.Key, _ => 0L);
        while (window.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            await Task.Delay(1000);
            foreach (var (name, pid) in watched)
            {
                peakRss[name] = Math.Max(peakRss[name], ProcFigures.RssBytes(pid));
            }
        }

        var elapsed = window.Elapsed.TotalSeconds;
        var cpu = watched.ToDictionary(w => w.Key, w => (ProcFigures.CpuSeconds(w.Value) - cpuBefore[w.Key]) / elapsed);
        central.Measuring = false;
        await stop.CancelAsync();
        foreach (var run in runs)
        {
            await run;
        }

        var updates = central.Updates / elapsed;
        var realUpdates = central.RealUpdates / elapsed;
        var latencies = central.Latencies();
        double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{chairs,5} chairs ({gateways.Count} emulated gateways{(real > 0 ? $" + {real} real ones, whose chairs gave {realUpdates:N0} of the events/s" : "")}): {updates:N0} {central.UpdateName}/s (chair states offered: {chairs}/s), alarm publish -> {central.Arrival} p50={P(0.50):F1} ms p99={P(0.99):F1} ms max={P(1.0):F1} ms (n={latencies.Count}), {gateways.Sum(g => g.DroppedQos0)} state messages dropped by emulators; alarm-list events: {central.AlarmEvents / elapsed:N0}/s, {central.AlarmChars / elapsed / 1024:N0} KiB/s"));
        foreach (var (name, share) in cpu)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      {name}: CPU {share * 100:F1} % of one core, peak RSS {peakRss[name] / 1048576.0:F0} MiB"));
        }

        foreach (var g in gateways)
        {
            await g.DisposeAsync();
        }

        foreach (var g in realGateways)
        {
            await g.DisposeAsync();
        }

        return latencies.Count > 0;
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}

/// <summary>One site's gateway as the central side sees it: its exact topics and payloads, without its engine.</summary>
internal sealed class EmulatedGateway : IAsyncDisposable
{
    private static readonly Sign[] Continuous = [Sign.Hr, Sign.Pr, Sign.Spo2, Sign.Rr];
    private static readonly double[] Baseline = [72, 72, 97, 15];

    private readonly string site;
    private readonly int chairs;
    private readonly (int Every, int Seconds) alarms;
    private readonly ConcurrentDictionary<string, long> sent;
    private readonly MqttTopics topics;
    private readonly MqttClient client;
    private readonly Random random;

    public EmulatedGateway(string site, int chairs, int port, (int Every, int Seconds) alarms, ConcurrentDictionary<string, long> sent)
    {
        this.site = site;
        this.chairs = chairs;
        this.alarms = alarms;
        this.sent = sent;
        topics = new MqttTopics("vitals", site);
        random = new Random(site.GetHashCode(StringComparison.Ordinal));
        var offline = JsonSerializer.SerializeToUtf8Bytes(new MqttGatewayStatus("offline", site, "load", null), Json.Options);
        client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1",
            Port = port,
            ClientId = $"vitals-{site}-load",
            Will = new MqttWill(topics.Status, offline, MqttQualityOfService.AtLeastOnce, Retain: true),
            MaxQueuedQos0 = 10_000,
        });
    }

    public long DroppedQos0 => client.DroppedQos0Count;

    public async Task ConnectAsync()
    {
        await client.ConnectAsync();
        var online = new MqttGatewayStatus("online", site, "load", TimeProvider.System.GetUtcNow());
        await client.PublishAsync(topics.Status, JsonSerializer.SerializeToUtf8Bytes(online, Json.Options), MqttQualityOfService.AtLeastOnce, retain: true);
    }

    /// <summary>Publishes every chair's state once a second (after <paramref name="phase"/>), with alarm transitions between.</summary>
    public async Task RunAsync(TimeSpan phase, CancellationToken ct)
    {
        try
        {
            await Task.Delay(phase, ct);
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            var active = new MqttActiveAlarm?[chairs];
            for (var second = 0; await timer.WaitForNextTickAsync(ct); second++)
            {
                var now = TimeProvider.System.GetUtcNow();
                for (var c = 0; c < chairs; c++)
                {
                    var chair = $"chair-{c + 1}";

                    // Chairs take turns, so alarms are spread evenly over the period.
                    var phaseOfChair = (second + (c * alarms.Every / chairs) + site.Length) % alarms.Every;
                    if (phaseOfChair == 0)
                    {
                        active[c] = new MqttActiveAlarm("nibp_sys.low", Sign.NibpSys, AlarmPriority.Medium, AlarmKind.Physiological, AlarmState.Raised, 85, 90, now, "NIBP sys low");
                        await PublishAlarmAsync(chair, active[c]!, AlarmState.Raised, ct);
                    }
                    else if (phaseOfChair == alarms.Seconds && active[c] is { } raised)
                    {
                        active[c] = null;
                        await PublishAlarmAsync(chair, raised with { Time = now }, AlarmState.Cleared, ct);
                    }

                    var values = new Dictionary<string, MqttValue>(StringComparer.Ordinal);
                    for (var s = 0; s < Continuous.Length; s++)
                    {
                        values[Continuous[s].ShortName()] = new MqttValue(Baseline[s] + random.Next(-2, 3), Continuous[s].Info().Unit, now, null);
                    }

                    var state = new MqttChairState(site, chair, $"Chair {c + 1}", values, active[c] is { } a ? [a] : []);
                    await client.PublishAsync(topics.State(chair), JsonSerializer.SerializeToUtf8Bytes(state, Json.Options), MqttQualityOfService.AtMostOnce, retain: true, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync() => await client.DisposeAsync();

    private async Task PublishAlarmAsync(string chair, MqttActiveAlarm alarm, AlarmState state, CancellationToken ct)
    {
        var message = new MqttAlarmMessage(site, chair, alarm.Rule, alarm.Sign, alarm.Priority, alarm.Kind, state, alarm.Value, alarm.Limit, alarm.Time, alarm.Message, null);
        if (state == AlarmState.Raised)
        {
            sent[$"{site}/{chair}"] = Stopwatch.GetTimestamp();
        }

        await client.PublishAsync(topics.Alarm(chair), JsonSerializer.SerializeToUtf8Bytes(message, Json.Options), MqttQualityOfService.AtLeastOnce, retain: false, ct);
    }
}

/// <summary>What receives the sites' messages: it times raised alarms and counts updates while measuring.</summary>
internal abstract class CentralSide : IAsyncDisposable
{
    private readonly List<double> latencies = [];
    private long updates;
    private long alarmChars;
    private long alarmEvents;
    private long realUpdates;

    /// <summary>Given <c>site/chair</c> of an arrived raised alarm, the milliseconds since its publish (null when not pending).</summary>
    public Func<string, double?> AlarmArrived { get; set; } = _ => null;

    /// <summary>Latencies and updates are kept only while this is set.</summary>
    public bool Measuring { get; set; }

    /// <summary>The process whose CPU and memory are measured, and its name in the report.</summary>
    public abstract int ProcessId { get; }

    public abstract string Name { get; }

    /// <summary>What <see cref="Updates"/> counts, and where alarm latency ends.</summary>
    public abstract string UpdateName { get; }

    public abstract string Arrival { get; }

    public long Updates => Interlocked.Read(ref updates);

    /// <summary>Characters of alarm-list events received while measuring (what every dashboard has to parse).</summary>
    public long AlarmChars => Interlocked.Read(ref alarmChars);

    /// <summary>Updates of the real gateways' chairs while measuring.</summary>
    public long RealUpdates => Interlocked.Read(ref realUpdates);

    /// <summary>Real gateways' sites heard from so far (measuring or not).</summary>
    public ConcurrentDictionary<string, bool> RealSites { get; } = new(StringComparer.Ordinal);

    /// <summary>Alarm-list events received while measuring.</summary>
    public long AlarmEvents => Interlocked.Read(ref alarmEvents);

    /// <summary>The latencies measured, sorted.</summary>
    public List<double> Latencies()
    {
        lock (latencies)
        {
            return [.. latencies.Order()];
        }
    }

    public abstract ValueTask DisposeAsync();

    protected void AlarmListReceived(int chars)
    {
        if (Measuring)
        {
            Interlocked.Add(ref alarmChars, chars);
            Interlocked.Increment(ref alarmEvents);
        }
    }

    protected void Updated(string site)
    {
        var real = site.StartsWith(RealGateway.SitePrefix, StringComparison.Ordinal);
        if (real)
        {
            RealSites.TryAdd(site, true);
        }

        if (Measuring)
        {
            Interlocked.Increment(ref updates);
            if (real)
            {
                Interlocked.Increment(ref realUpdates);
            }
        }
    }

    /// <summary>Times an arrived alarm when it is a pending raised one.</summary>
    protected void Alarm(JsonElement alarm)
    {
        if (alarm.GetProperty("state").GetString() == "raised"
            && AlarmArrived($"{alarm.GetProperty("site").GetString()}/{alarm.GetProperty("chair").GetString()}") is { } ms && Measuring)
        {
            lock (latencies)
            {
                latencies.Add(ms);
            }
        }
    }
}

/// <summary>A plain subscriber on the central broker with central's three subscriptions, in this process.</summary>
internal sealed class SubscriberCentral : CentralSide
{
    private readonly MqttClient client;
    private readonly Task reader;
    private readonly CancellationTokenSource stop = new();

    private SubscriberCentral(MqttClient client)
    {
        this.client = client;
        reader = Task.Run(ReadAsync);
    }

    public override int ProcessId => Environment.ProcessId;

    public override string Name => "subscriber and emulators (this process)";

    public override string UpdateName => "state messages received";

    public override string Arrival => "subscriber";

    public static async Task<SubscriberCentral> StartAsync(int port)
    {
        var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = port, ClientId = "vitals-central-load", ReceiveCapacity = 100_000 });
        await client.ConnectAsync();
        foreach (var filter in new[] { "vitals/+/+/state", "vitals/+/+/alarm", "vitals/+/gateway/status" })
        {
            await client.SubscribeAsync(filter, MqttQualityOfService.AtLeastOnce);
        }

        return new SubscriberCentral(client);
    }

    public override async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await reader;
        }
        catch (OperationCanceledException)
        {
        }

        await client.DisposeAsync();
        stop.Dispose();
    }

    private async Task ReadAsync()
    {
        await foreach (var message in client.Messages.ReadAllAsync(stop.Token))
        {
            using var doc = JsonDocument.Parse(message.Payload);
            if (message.Topic.EndsWith("/state", StringComparison.Ordinal))
            {
                Updated(message.Topic.Split('/')[1]);
            }
            else if (message.Topic.EndsWith("/alarm", StringComparison.Ordinal))
            {
                Alarm(doc.RootElement);
            }
        }
    }
}

/// <summary><c>vitals central</c> as its own process on the central broker; its dashboard stream is read here, signed in as admin.</summary>
internal sealed class ProcessCentral : CentralSide
{
    private const string Password = "load-admin-password";

    private readonly Process process;
    private readonly HttpClient http;
    private readonly string data;
    private readonly CancellationTokenSource stop = new();
    private Task reader = Task.CompletedTask;

    private ProcessCentral(Process process, HttpClient http, string data)
    {
        this.process = process;
        this.http = http;
        this.data = data;
    }

    public override int ProcessId => process.Id;

    public override string Name => "vitals central";

    public override string UpdateName => "chair events on central's dashboard stream";

    public override string Arrival => "central's dashboard stream";

    public static async Task<ProcessCentral> StartAsync(int brokerPort)
    {
        var port = MosquittoBroker.FreePort();
        var data = Directory.CreateTempSubdirectory("vitals-central-load-").FullName;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "vitals.dll"), "central", "--mqtt", $"mqtt://127.0.0.1:{brokerPort}", "--urls", $"http://127.0.0.1:{port}", "--data", data])
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["VITALS_ADMIN_PASSWORD"] = Password;
        var process = Process.Start(info) ?? throw new InvalidOperationException("Cannot start vitals central.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { Console.Error.WriteLine($"central: {line}"); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer() })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var central = new ProcessCentral(process, http, data);
        await Eventually.TrueAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"vitals central exited with {process.ExitCode}");
                }

                try
                {
                    using var health = await http.GetAsync(new Uri("healthz", UriKind.Relative));
                    return health.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            "vitals central to answer",
            TimeSpan.FromSeconds(60));
        using (var csrf = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/auth/csrf", UriKind.Relative))))
        using (var login = new HttpRequestMessage(HttpMethod.Post, new Uri("api/auth/login", UriKind.Relative)))
        {
            login.Headers.Add("X-CSRF-TOKEN", csrf.RootElement.GetProperty("token").GetString());
            login.Content = System.Net.Http.Json.JsonContent.Create(new { name = "admin", password = Password });
            using var answer = await http.SendAsync(login);
            answer.EnsureSuccessStatusCode();
        }

        var stream = await http.GetStreamAsync(new Uri("api/stream", UriKind.Relative));
        central.reader = Task.Run(() => central.ReadAsync(stream));
        return central;
    }

    public override async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await reader;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
        }

        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        http.Dispose();
        stop.Dispose();
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The site of a chair event, which leads it: reading just it keeps this reader light at 5,000 events/s.</summary>
    private static string SiteOf(string chairEvent)
    {
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(chairEvent));
        return reader.Read() && reader.Read() && reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString()! : "";
    }

    private async Task ReadAsync(Stream stream)
    {
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(stop.Token))
        {
            if (item.EventType == "chair")
            {
                Updated(SiteOf(item.Data));
            }
            else if (item.EventType == "site-alarms")
            {
                AlarmListReceived(item.Data.Length);
                using var doc = JsonDocument.Parse(item.Data);
                foreach (var alarm in doc.RootElement.GetProperty("alarms").EnumerateArray())
                {
                    Alarm(alarm);
                }
            }
        }
    }
}

/// <summary>CPU time and resident memory of a process, from /proc.</summary>
internal static class ProcFigures
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux x86_64

    /// <summary>User plus system CPU seconds the process has used.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");

        // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>Resident set size in bytes.</summary>
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}

/// <summary>A real gateway for the load: <c>vitals demo</c> as a child process with simulated chairs, publishing to a site broker.</summary>
internal sealed class RealGateway : IAsyncDisposable
{
    /// <summary>Site names of real gateways start so, which tells their chairs apart at central.</summary>
    public const string SitePrefix = "real-";

    private readonly Process process;
    private readonly string data;

    private RealGateway(string site, Process process, string data)
    {
        Site = site;
        this.process = process;
        this.data = data;
    }

    public string Site { get; }

    public int ProcessId => process.Id;

    public static RealGateway Start(string site, int chairs, int brokerPort)
    {
        var data = Directory.CreateTempSubdirectory("vitals-central-load-gateway-").FullName;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "vitals.dll"), "demo", "--chairs", chairs.ToString(CultureInfo.InvariantCulture),
            "--site", site, "--mqtt", $"mqtt://127.0.0.1:{brokerPort}", "--urls", "http://127.0.0.1:0", "--data", data])
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["VITALS_ADMIN_PASSWORD"] = "load-admin-password";
        var process = Process.Start(info) ?? throw new InvalidOperationException("Cannot start vitals demo.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { Console.Error.WriteLine($"{site}: {line}"); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new RealGateway(site, process, data);
    }

    public async ValueTask DisposeAsync()
    {
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
