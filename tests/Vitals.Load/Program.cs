using System.Diagnostics;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vitals.Core;
using Vitals.Gateway;
using Vitals.Gateway.Pipeline;

// (`mqtt-ingest` as the first argument measures the MQTT ingest cost instead: MqttIngestLoad.cs; `recall` the start-up
// with a full history to recall: RecallLoad.cs.)
// Alarm signal generation delay (IEC 60601-1-8): from a reading entering the gateway's pipeline to its alarm
// event leaving on the dashboard stream (measured at an SSE client) and on MQTT (measured at an MQTT client
// subscribed through a mosquitto this command starts on loopback), with every chair also sending HR, PR, SpO2
// and RR once a second as background load.
// Alarms raised in the first --warmup seconds (default 10) meet cold code and are reported on a line of their own, so
// the steady-state figures are not start-up: the runtime compiles and recompiles (tier 1) about 9,000 methods in the
// first 10 s (350-1,000 in some seconds, 6-8 s of JIT CPU in all on this 2-core machine), which delayed bursts in
// seconds 3-5 by 68-117 ms; in the 20 s after that it compiles about 400 (the usage line shows both).
//   dotnet run -c Release --project tests/Vitals.Load -- [--chairs 100] [--seconds 30] [--warmup 10]
// With --hl7-rate N, HL7 monitors send ORU^R01 (4 OBX) over MLLP at N messages/s in all, spread over --hl7-senders
// connections, during the same run: it prints the ACK latency (send to AA received; AA means committed to the store)
// next to the alarm delay. --hl7-rate -1 sends as fast as the ACKs come back: the HL7 ingest ceiling.
//   dotnet run -c Release --project tests/Vitals.Load -- --hl7-rate 1000 [--hl7-senders 16]
// Every run also prints what the measured seconds cost the process (CPU per reading, peak RSS, GC pause total and
// count; see Usage.cs). --explain N lists, for the N slowest bursts, what the runtime did meanwhile (GC suspensions,
// JIT and on-stack-replacement compiles, scheduling and thread-pool gaps; StallProbe.cs). --curve 10,100,1000 runs the
// scale curve, one process per chair count (ScaleCurve.cs). The process runs with the gateway's runtime settings
// (src/Vitals.Gateway/Runtime.props).
if (args.FirstOrDefault() == "central")
{
    return await CentralLoad.RunAsync(args[1..]); // many sites' gateways -> bridged brokers -> central (CentralLoad.cs)
}

if (args is ["mqtt-ingest", .. var ingestArgs])
{
    return await MqttIngestLoad.RunAsync(ingestArgs); // the Node-RED harness's stream through mosquitto (MqttIngestLoad.cs)
}

if (args is ["recall", .. var recallArgs])
{
    return await RecallLoad.RunAsync(recallArgs); // start-up with a full history to recall (RecallLoad.cs)
}

if (args.Contains("--serial-idle"))
{
    await SerialIdle.RunAsync(args); // idle cost of serial ports, see SerialIdle.cs
    return 0;
}

var chairs = Arg("--chairs", 100);
var seconds = Arg("--seconds", 30);
var warmup = Arg("--warmup", 10);
var hl7Rate = Arg("--hl7-rate", 0);
var hl7Senders = Math.Min(Arg("--hl7-senders", 16), chairs);
if (Array.IndexOf(args, "--curve") is var curve and >= 0)
{
    return await ScaleCurve.RunAsync(args, args[curve + 1], seconds, warmup);
}

using var probe = args.Contains("--explain") ? new StallProbe() : null;
var options = GatewayApp.DemoOptions(chairs, 1);
options.Urls = "http://127.0.0.1:0";
options.Data = Directory.CreateTempSubdirectory("vitals-load-").FullName;
using var broker = Mosquitto.Start(options.Data);
options.Mqtt = new Vitals.Web.MqttOptions { Url = $"mqtt://127.0.0.1:{broker.Port}" };
if (hl7Rate != 0)
{
    options.Hl7 = new Vitals.Gateway.Config.Hl7Options { Listen = "127.0.0.1:0", ChairRule = "pv1Bed", TimeZone = "UTC" };
    for (var c = 1; c <= hl7Senders; c++)
    {
        options.Chairs[c - 1].Devices.Add(new Vitals.Gateway.Config.DeviceOptions { Id = $"hl7-{c}", Kind = "hl7", Match = $"BED{c}" });
    }
}

// The demo's simulated monitors stay silent (one step an hour): this command is the only source of readings.
await using var app = GatewayApp.Build(options, TimeSpan.FromHours(1), logging => logging.SetMinimumLevel(LogLevel.Warning));
await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
var pipeline = app.Services.GetRequiredService<ObservationPipeline>();
var time = TimeProvider.System;

using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };
using var cts = new CancellationTokenSource();
var sent = new System.Collections.Concurrent.ConcurrentDictionary<string, (long At, int Second)>();
var sentMqtt = new System.Collections.Concurrent.ConcurrentDictionary<string, (long At, int Second)>();
var latencies = new List<(double Ms, int Second)>();
var mqttLatencies = new List<(double Ms, int Second)>();
await using var subscriber = new Vitals.Mqtt.MqttClient(Vitals.Mqtt.MqttUrl.Parse($"mqtt://127.0.0.1:{broker.Port}") with { ClientId = "vitals-load" });
await subscriber.ConnectAsync();
await subscriber.SubscribeAsync($"vitals/{options.Site}/+/alarm");
var mqttReader = Task.Run(async () =>
{
    await foreach (var message in subscriber.Messages.ReadAllAsync(cts.Token))
    {
        var at = Stopwatch.GetTimestamp();
        using var doc = JsonDocument.Parse(message.Payload);
        var e = doc.RootElement;
        if (e.GetProperty("rule").GetString() == "nibp_sys.low" && e.GetProperty("state").GetString() == "raised"
            && sentMqtt.TryRemove(e.GetProperty("chair").GetString()!, out var start))
        {
            lock (mqttLatencies)
            {
                mqttLatencies.Add((Stopwatch.GetElapsedTime(start.At, at).TotalMilliseconds, start.Second));
            }
        }
    }
});
var stream = await http.GetStreamAsync(new Uri("/api/stream", UriKind.Relative), cts.Token);
var reader = Task.Run(async () =>
{
    await foreach (var item in SseParser.Create(stream).EnumerateAsync(cts.Token))
    {
        if (item.EventType != "alarm")
        {
            continue;
        }

        var at = Stopwatch.GetTimestamp();
        using var doc = JsonDocument.Parse(item.Data);
        var e = doc.RootElement;
        if (e.GetProperty("rule").GetString() == "nibp_sys.low" && e.GetProperty("state").GetString() == "raised"
            && sent.TryRemove(e.GetProperty("chair").GetString()!, out var start))
        {
            StallProbe.Sample(start.At, at, start.Second);
            lock (latencies)
            {
                latencies.Add((Stopwatch.GetElapsedTime(start.At, at).TotalMilliseconds, start.Second));
            }
        }
    }
});

var ackLatencies = new List<(double Ms, int Second)>();
var hl7Errors = 0L;
var clock = Stopwatch.StartNew();
Task[] hl7Tasks = hl7Rate == 0 ? [] : Enumerable.Range(1, hl7Senders).Select(c => Task.Run(() => Hl7SenderAsync(c))).ToArray();
var rng = new Random(1);
for (var second = 0; second < seconds; second++)
{
    StallProbe.BurstStarts(second);
    if (second == warmup)
    {
        Usage.Start(pipeline);
    }

    var now = time.GetUtcNow();
    for (var c = 1; c <= chairs; c++)
    {
        var chair = $"chair-{c}";
        foreach (var (sign, value) in new[] { (Sign.Hr, 72.0), (Sign.Pr, 72.0), (Sign.Spo2, 97.0), (Sign.Rr, 15.0) })
        {
            await pipeline.Writer.WriteAsync(new Observation(options.Site, chair, $"sim-{c}", sign, value + rng.Next(-2, 3), now, now, SourceProtocol.Simulator));
        }

        // Every chair alternates a low cuff reading (raises nibp_sys.low at once: NIBP has no condition delay)
        // with a normal one (clears it), so each chair produces one measured alarm every other second.
        var low = (second + c) % 2 == 0;
        if (low)
        {
            var t = (Stopwatch.GetTimestamp(), second);
            sent[chair] = t;
            sentMqtt[chair] = t;
        }

        await pipeline.Writer.WriteAsync(new Observation(options.Site, chair, $"sim-{c}", Sign.NibpSys, low ? 80 : 125, now, now, SourceProtocol.Simulator));
    }

    var next = TimeSpan.FromSeconds(second + 1) - clock.Elapsed;
    if (next > TimeSpan.Zero)
    {
        await Task.Delay(next);
    }
}

Usage.Stop(pipeline);
await Task.Delay(1000);
await cts.CancelAsync();
foreach (var task in new[] { reader, mqttReader }.Concat(hl7Tasks))
{
    try
    {
        await task;
    }
    catch (OperationCanceledException)
    {
    }
}

await app.StopAsync();
var rate = chairs * 5.0;
Report("SSE", latencies);
Report("MQTT", mqttLatencies);
if (probe is not null)
{
    StallProbe.Report(Arg("--explain", 3), warmup);
}

Usage.Print();
if (hl7Rate != 0)
{
    var steady = ackLatencies.Where(m => m.Second >= warmup && m.Second < seconds).Select(m => m.Ms).Order().ToList();
    double P(double q) => steady.Count == 0 ? double.NaN : steady[Math.Min(steady.Count - 1, (int)(q * steady.Count))];
    var offered = hl7Rate < 0 ? "as fast as ACKs return" : $"{hl7Rate} msg/s offered";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"HL7 ACK latency (send -> AA, AA = committed), {offered} over {hl7Senders} connections: {steady.Count / (double)(seconds - warmup):N0} msg/s acknowledged, n={steady.Count} p50={P(0.50):F2} ms p99={P(0.99):F2} ms max={P(1.0):F2} ms, {hl7Errors} not AA"));
}

return latencies.Count > 0 && mqttLatencies.Count > 0 ? 0 : 1;

async Task Hl7SenderAsync(int c)
{
    var port = app.Services.GetRequiredService<Vitals.Gateway.Feeds.Hl7FeedService>().LocalEndPoint!.Port;
    await using var client = await Vitals.Devices.Mllp.MllpClient.ConnectAsync("127.0.0.1", port, TimeSpan.FromSeconds(10));
    var interval = hl7Rate > 0 ? TimeSpan.FromSeconds((double)hl7Senders / hl7Rate) : TimeSpan.Zero;
    var next = clock.Elapsed + TimeSpan.FromMilliseconds(c * 7 % 100); // spread the senders' phases
    try
    {
        for (var n = 0; !cts.IsCancellationRequested; n++)
        {
            if (interval > TimeSpan.Zero)
            {
                var wait = next - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cts.Token);
                }

                next += interval;
            }

            var at = time.GetUtcNow().ToString("yyyyMMddHHmmss.fff", CultureInfo.InvariantCulture) + "+0000";
            var message = System.Text.Encoding.ASCII.GetBytes(
                $"MSH|^~\\&|MON{c}|F|||{at}||ORU^R01|L{c}-{n}|P|2.6\rPV1||O|INF^R1^BED{c}\r" +
                $"OBX|1|NM|147842^^MDC|1.1.1.1|72|/min|||||R|||{at}\rOBX|2|NM|150456^^MDC|1.2.1.1|97|%|||||R|||{at}\r" +
                $"OBX|3|NM|149530^^MDC|1.2.1.2|72|/min|||||R|||{at}\rOBX|4|NM|151562^^MDC|1.4.1.1|15|/min|||||R|||{at}\r");
            var second = (int)clock.Elapsed.TotalSeconds;
            var sentAt = Stopwatch.GetTimestamp();
            var reply = await client.SendAsync(message, TimeSpan.FromSeconds(30), cts.Token);
            var ms = Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds;
            if (Vitals.Devices.Hl7.Hl7Ack.TryParse(reply, out var ack) && ack!.Code == Vitals.Devices.Hl7.Hl7AckCode.Accept)
            {
                lock (ackLatencies)
                {
                    ackLatencies.Add((ms, second));
                }
            }
            else
            {
                Interlocked.Increment(ref hl7Errors);
            }
        }
    }
    catch (OperationCanceledException)
    {
    }
}

void Report(string path, List<(double Ms, int Second)> measured)
{
    var steady = measured.Where(m => m.Second >= warmup).Select(m => m.Ms).Order().ToList();
    var cold = measured.Where(m => m.Second < warmup).Select(m => m.Ms).ToList();
    double P(double q) => steady.Count == 0 ? double.NaN : steady[Math.Min(steady.Count - 1, (int)(q * steady.Count))];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"alarm signal generation delay (pipeline in -> {path} out), {chairs} chairs, {rate:N0} readings/s, {seconds - warmup} s after a {warmup} s warm-up: n={steady.Count} p50={P(0.50):F2} ms p99={P(0.99):F2} ms max={P(1.0):F2} ms; warm-up: n={cold.Count} max={(cold.Count > 0 ? cold.Max() : double.NaN):F2} ms"));
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>A throwaway mosquitto on a free loopback port, for the MQTT half of the measurement.</summary>
internal sealed class Mosquitto : IDisposable
{
    private readonly Process process;

    private Mosquitto(Process process, int port)
    {
        this.process = process;
        Port = port;
    }

    public int Port { get; }

    public static Mosquitto Start(string dir, int maxQueued = 100_000)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var conf = Path.Combine(dir, "mosquitto.conf");
        File.WriteAllText(conf, $"user root\nlistener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages {maxQueued}\n");
        var process = Process.Start(new ProcessStartInfo("mosquitto", ["-c", conf]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect(System.Net.IPAddress.Loopback, port);
                return new Mosquitto(process, port);
            }
            catch (System.Net.Sockets.SocketException)
            {
                Thread.Sleep(50);
            }
        }

        process.Kill();
        throw new InvalidOperationException("mosquitto did not start; install it with apt-get install mosquitto");
    }

    public void Dispose()
    {
        process.Kill();
        process.WaitForExit();
        process.Dispose();
    }
}
