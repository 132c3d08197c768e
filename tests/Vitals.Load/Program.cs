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

// Alarm signal generation delay (IEC 60601-1-8): from a reading entering the gateway's pipeline to its alarm
// event leaving on the dashboard stream, measured at an SSE client on loopback, with every chair also sending
// HR, PR, SpO2 and RR once a second as background load.
//   dotnet run -c Release --project tests/Vitals.Load -- [--chairs 100] [--seconds 30]
var chairs = Arg("--chairs", 100);
var seconds = Arg("--seconds", 30);

var options = GatewayApp.DemoOptions(chairs, 1);
options.Urls = "http://127.0.0.1:0";
options.Data = Directory.CreateTempSubdirectory("vitals-load-").FullName;

// The demo's simulated monitors stay silent (one step an hour): this command is the only source of readings.
await using var app = GatewayApp.Build(options, TimeSpan.FromHours(1), logging => logging.SetMinimumLevel(LogLevel.Warning));
await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
var pipeline = app.Services.GetRequiredService<ObservationPipeline>();
var time = TimeProvider.System;

using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };
using var cts = new CancellationTokenSource();
var sent = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
var latencies = new List<double>();
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
            lock (latencies)
            {
                latencies.Add(Stopwatch.GetElapsedTime(start, at).TotalMilliseconds);
            }
        }
    }
});

var rng = new Random(1);
var clock = Stopwatch.StartNew();
for (var second = 0; second < seconds; second++)
{
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
            sent[chair] = Stopwatch.GetTimestamp();
        }

        await pipeline.Writer.WriteAsync(new Observation(options.Site, chair, $"sim-{c}", Sign.NibpSys, low ? 80 : 125, now, now, SourceProtocol.Simulator));
    }

    var next = TimeSpan.FromSeconds(second + 1) - clock.Elapsed;
    if (next > TimeSpan.Zero)
    {
        await Task.Delay(next);
    }
}

await Task.Delay(1000);
await cts.CancelAsync();
try
{
    await reader;
}
catch (OperationCanceledException)
{
}

await app.StopAsync();
latencies.Sort();
double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
var rate = chairs * 5.0;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"alarm signal generation delay (pipeline in -> SSE out), {chairs} chairs, {rate:N0} readings/s, {seconds} s: n={latencies.Count} p50={P(0.50):F2} ms p99={P(0.99):F2} ms max={P(1.0):F2} ms"));
return latencies.Count > 0 ? 0 : 1;

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
