using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Vitals.Core;
using Vitals.Web;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;

/// <summary>
/// <c>central</c> load mode: N chairs of emulated gateways publish through site mosquittos bridged to a central mosquitto
/// (the bridged deployment of the README), and the central side's CPU, memory and alarm latency are measured.
/// An emulated gateway is one MQTT connection with the gateway's last will, its retained <c>online</c> status, each
/// chair's retained <c>state</c> once a second (values that change every second, as live monitors make them) and QoS 1
/// <c>alarm</c> events, with the gateway's own topic names and payload records. Alarm latency runs from just before the
/// emulated site's publish to the alarm's arrival at the central side.
///   dotnet run -c Release --project tests/Vitals.Load -- central [--chairs 100,1000,5000] [--seconds 30] [--warmup 5]
///       [--chairs-per-site 20] [--site-brokers 2] [--alarm-every 20]
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
        var alarmEvery = int.Parse(Arg(args, "--alarm-every", "20"), CultureInfo.InvariantCulture);

        Console.WriteLine($"central load: {siteBrokers} site mosquittos bridged to a central mosquitto, {perSite} chairs per emulated gateway, state at 1 Hz per chair, one alarm raised per chair every {alarmEvery} s (cleared after half of that); {warmup} s warm-up, {seconds} s measured");
        var ok = true;
        foreach (var chairs in sizes)
        {
            ok &= await RunOnceAsync(chairs, perSite, siteBrokers, alarmEvery, warmup, seconds);
        }

        return ok ? 0 : 1;
    }

    private static async Task<bool> RunOnceAsync(int chairs, int perSite, int siteBrokerCount, int alarmEvery, int warmup, int seconds)
    {
        await using var brokers = await BridgedBrokers.StartAsync(siteBrokerCount, Prefix);
        await using var central = await SubscriberCentral.StartAsync(brokers.Central.Port);
        var sent = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        central.AlarmArrived = key => sent.TryRemove(key, out var at) ? Stopwatch.GetElapsedTime(at).TotalMilliseconds : null;

        using var stop = new CancellationTokenSource();
        var gateways = new List<EmulatedGateway>();
        for (var first = 0; first < chairs; first += perSite)
        {
            var index = gateways.Count;
            var site = $"site-{index + 1:D4}";
            gateways.Add(new EmulatedGateway(site, Math.Min(perSite, chairs - first), brokers.Sites[index % brokers.Sites.Count].Port, alarmEvery, sent));
        }

        await Task.WhenAll(gateways.Select(g => g.ConnectAsync()));
        var clock = Stopwatch.StartNew();
        var runs = gateways.Select((g, i) => g.RunAsync(TimeSpan.FromMilliseconds(1000.0 * i / gateways.Count), stop.Token)).ToList();

        await Task.Delay(TimeSpan.FromSeconds(warmup));
        central.Measuring = true;
        var watched = new Dictionary<string, int>
        {
            ["central subscriber (in this process)"] = Environment.ProcessId,
            ["central mosquitto"] = brokers.Central.ProcessId!.Value,
        };
        for (var i = 0; i < brokers.Sites.Count; i++)
        {
            watched[$"site mosquitto {i + 1}"] = brokers.Sites[i].ProcessId!.Value;
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

        var states = central.StatesReceived / elapsed;
        var latencies = central.Latencies();
        double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{chairs,5} chairs ({gateways.Count} gateways): central received {states:N0} state/s (offered {chairs}/s), alarm publish -> central p50={P(0.50):F1} ms p99={P(0.99):F1} ms max={P(1.0):F1} ms (n={latencies.Count}), {gateways.Sum(g => g.DroppedQos0)} state messages dropped by emulators"));
        foreach (var (name, share) in cpu)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      {name}: CPU {share * 100:F1} % of one core, peak RSS {peakRss[name] / 1048576.0:F0} MiB"));
        }

        foreach (var g in gateways)
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
    private readonly int alarmEvery;
    private readonly ConcurrentDictionary<string, long> sent;
    private readonly MqttTopics topics;
    private readonly MqttClient client;
    private readonly Random random;

    public EmulatedGateway(string site, int chairs, int port, int alarmEvery, ConcurrentDictionary<string, long> sent)
    {
        this.site = site;
        this.chairs = chairs;
        this.alarmEvery = alarmEvery;
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
                    var phaseOfChair = (second + (c * alarmEvery / chairs)) % alarmEvery;
                    if (phaseOfChair == 0)
                    {
                        active[c] = new MqttActiveAlarm("nibp_sys.low", Sign.NibpSys, AlarmPriority.Medium, AlarmKind.Physiological, AlarmState.Raised, 85, 90, now, "NIBP sys low");
                        await PublishAlarmAsync(chair, active[c]!, AlarmState.Raised, ct);
                    }
                    else if (phaseOfChair == alarmEvery / 2 && active[c] is { } raised)
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

/// <summary>A plain subscriber on the central broker with central's three subscriptions; it parses what arrives.</summary>
internal sealed class SubscriberCentral : IAsyncDisposable
{
    private readonly MqttClient client;
    private readonly Task reader;
    private readonly CancellationTokenSource stop = new();
    private readonly List<double> latencies = [];
    private long states;

    private SubscriberCentral(MqttClient client)
    {
        this.client = client;
        reader = Task.Run(ReadAsync);
    }

    /// <summary>Given <c>site/chair</c> of an arrived raised alarm, the milliseconds since its publish (null when unknown).</summary>
    public Func<string, double?> AlarmArrived { get; set; } = _ => null;

    /// <summary>Latencies and state counts are kept only while this is set.</summary>
    public bool Measuring { get; set; }

    public long StatesReceived => Interlocked.Read(ref states);

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

    /// <summary>The latencies measured, sorted.</summary>
    public List<double> Latencies()
    {
        lock (latencies)
        {
            return [.. latencies.Order()];
        }
    }

    public async ValueTask DisposeAsync()
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
            var e = doc.RootElement;
            if (message.Topic.EndsWith("/state", StringComparison.Ordinal))
            {
                if (Measuring)
                {
                    Interlocked.Increment(ref states);
                }
            }
            else if (message.Topic.EndsWith("/alarm", StringComparison.Ordinal) && e.GetProperty("state").GetString() == "raised"
                && AlarmArrived($"{e.GetProperty("site").GetString()}/{e.GetProperty("chair").GetString()}") is { } ms && Measuring)
            {
                lock (latencies)
                {
                    latencies.Add(ms);
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
