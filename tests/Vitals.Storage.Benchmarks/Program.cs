// Sustained observations/s through the line-protocol writer + forwarder into a local influxd, measured
// beside a raw `curl --data-binary @file` POST of the same lines in the same run.
// Usage: dotnet run -c Release --project tests/Vitals.Storage.Benchmarks [observations] [batchSize]
// The audit view's query on a large event log: ... Vitals.Storage.Benchmarks -- audit [rows] (AuditQuery.cs).
// The store's appends alone: ... Vitals.Storage.Benchmarks -- append [frames] [rounds] [frames per commit] (AppendBench.cs).
// A chair's history read from a day of a ward: ... Vitals.Storage.Benchmarks -- history [chairs] [hours] (HistoryRead.cs).
using System.Diagnostics;
using System.Globalization;
using Vitals.Core;
using Vitals.Storage.Influx;
using Vitals.Storage.Tests.Influx;

if (args is ["append", ..])
{
    AppendBench.Run(
        args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000,
        args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3,
        args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 750);
    return;
}

if (args is ["history", ..])
{
    HistoryRead.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 24);
    return;
}

if (args is ["audit", ..])
{
    AuditQuery.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000);
    return;
}

var total = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_200_000;
var batchSize = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : InfluxForwarderOptions.DefaultBatchSize;
Sign[] signs = [Sign.Hr, Sign.Pr, Sign.Spo2, Sign.NibpSys, Sign.NibpDia, Sign.Rr];
const int Chairs = 40;
var t0 = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);

List<Observation> Make()
{
    var list = new List<Observation>(total);
    for (var frame = 0; list.Count < total; frame++)
    {
        for (var c = 0; c < Chairs && list.Count < total; c++)
        {
            var at = t0.AddSeconds(frame).AddMilliseconds(c);
            var chair = "chair-" + c.ToString("00", CultureInfo.InvariantCulture);
            foreach (var s in signs)
            {
                if (list.Count < total)
                {
                    list.Add(new Observation("north", chair, "mon-" + chair, s, 50 + ((frame + (int)s) % 60) + 0.5, at, at, SourceProtocol.Simulator));
                }
            }
        }
    }

    return list;
}

var observations = Make();
using var server = new InfluxdServer(unlimitedBody: true); // the raw POST is one body bigger than the 25 MB default
await server.CreateDatabaseAsync("raw");
await server.CreateDatabaseAsync("e2e");
Console.WriteLine($"influxd 1.6 on 127.0.0.1:{server.HttpPort}; {observations.Count:N0} observations, {signs.Length} signs per frame, {Chairs} chairs, batch {batchSize}");

// 1. Raw: the same lines, written once to a file, one curl POST.
var file = Path.Combine(server.Directory, "lines.txt");
int lineCount;
using (var writer = new LineProtocolWriter(64 * 1024 * 1024))
{
    lineCount = InfluxSchema.WriteObservations(writer, observations);
    await File.WriteAllBytesAsync(file, writer.Written.ToArray());
}

var curl = Stopwatch.StartNew();
var psi = new ProcessStartInfo("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "120", "--data-binary", "@" + file, $"http://127.0.0.1:{server.HttpPort}/write?db=raw&precision=ms"])
{
    RedirectStandardOutput = true,
};
using (var p = Process.Start(psi)!)
{
    var code = await p.StandardOutput.ReadToEndAsync();
    await p.WaitForExitAsync();
    curl.Stop();
    if (code != "204")
    {
        throw new InvalidOperationException($"curl got HTTP {code}");
    }
}

var rawRate = observations.Count / curl.Elapsed.TotalSeconds;
Console.WriteLine($"raw curl:   {lineCount:N0} lines in {curl.Elapsed.TotalSeconds:F2} s = {rawRate:N0} observations/s ({lineCount / curl.Elapsed.TotalSeconds:N0} lines/s)");

// 2. End to end: outbox -> mapping -> line protocol -> gzip -> HTTP -> influxd, in batches.
foreach (var gzip in new[] { true, false })
{
    var db = gzip ? "e2e" : "e2e_plain";
    await server.CreateDatabaseAsync(db);
    var outbox = new InMemoryOutbox();
    outbox.AddRange(observations);
    using var http = new HttpClient();
    var client = new InfluxWriteClient(InfluxEndpoint.Parse(server.Url(db), _ => null), http, gzip: gzip);
    using var forwarder = new InfluxForwarder(outbox, client, new InfluxForwarderOptions { BatchSize = batchSize, FlushInterval = TimeSpan.FromMilliseconds(5) });
    using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
    var sw = Stopwatch.StartNew();
    var run = forwarder.RunAsync(cts.Token);
    while (outbox.Cursor < outbox.Head)
    {
        await Task.Delay(2);
    }

    sw.Stop();
    await cts.CancelAsync();
    await run;
    var rate = observations.Count / sw.Elapsed.TotalSeconds;
    var stored = await server.ScalarAsync(db, "SELECT count(hr) FROM vitals");
    Console.WriteLine($"forwarder (gzip {(gzip ? "on " : "off")}): {forwarder.Health.LinesWritten:N0} lines in {sw.Elapsed.TotalSeconds:F2} s = {rate:N0} observations/s; {rate / rawRate:P0} of raw; stored points {stored:N0}; quarantined {forwarder.Health.QuarantinedLines}");
}

// 3. Sustained: a producer appends at a fixed offered rate while the forwarder runs (default options,
// gzip on); report the delivered rate and the worst lag seen.
const int OfferedPerSecond = 150_000;
const int TickMs = 10;
{
    await server.CreateDatabaseAsync("sustained");
    var outbox = new InMemoryOutbox();
    using var http = new HttpClient();
    var client = new InfluxWriteClient(InfluxEndpoint.Parse(server.Url("sustained"), _ => null), http);
    using var forwarder = new InfluxForwarder(outbox, client, new InfluxForwarderOptions { BatchSize = batchSize });
    using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
    var run = forwarder.RunAsync(cts.Token);
    var perTick = OfferedPerSecond * TickMs / 1000;
    var sw = Stopwatch.StartNew();
    long maxLag = 0;
    var offered = 0;
    while (offered < observations.Count)
    {
        // Offer what the clock says is due, so a slow tick does not lower the offered rate.
        var due = Math.Min(observations.Count, (int)(sw.Elapsed.TotalSeconds * OfferedPerSecond) + perTick);
        if (due > offered)
        {
            outbox.AddRange(observations.Skip(offered).Take(due - offered));
            offered = due;
        }

        maxLag = Math.Max(maxLag, outbox.Head - outbox.Cursor);
        await Task.Delay(TickMs);
    }

    var producedIn = sw.Elapsed;
    while (outbox.Cursor < outbox.Head)
    {
        maxLag = Math.Max(maxLag, outbox.Head - outbox.Cursor);
        await Task.Delay(2);
    }

    sw.Stop();
    await cts.CancelAsync();
    await run;
    Console.WriteLine($"sustained: offered {observations.Count / producedIn.TotalSeconds:N0} observations/s for {producedIn.TotalSeconds:F1} s; all delivered {(sw.Elapsed - producedIn).TotalMilliseconds:N0} ms after the last was produced; max lag {maxLag:N0} rows; delivered {observations.Count / sw.Elapsed.TotalSeconds:N0} observations/s");
}

// 4. Through the embedded store, as the gateway runs: a writer appends to SQLite in batches (as StoreWriter
// does) while the forwarder reads the SQLite outbox and writes to influxd; the clock stops when the last
// observation is in influxd's hands.
{
    await server.CreateDatabaseAsync("store");
    var dbPath = Path.Combine(server.Directory, "bench-store.db");
    using var store = new Vitals.Storage.Sqlite.SqliteStore(dbPath);
    var outbox = Vitals.Storage.Sqlite.SqliteOutbox.ForObservations(store);
    using var http = new HttpClient();
    var client = new InfluxWriteClient(InfluxEndpoint.Parse(server.Url("store"), _ => null), http);
    using var forwarder = new InfluxForwarder(outbox, client, new InfluxForwarderOptions { BatchSize = batchSize, FlushInterval = TimeSpan.FromMilliseconds(5) });
    using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
    var sw = Stopwatch.StartNew();
    var run = forwarder.RunAsync(cts.Token);
    long last = 0;
    var appendTime = Stopwatch.StartNew();
    foreach (var chunk in observations.Chunk(5000))
    {
        last = store.Append(chunk);
    }

    appendTime.Stop();
    while (await outbox.GetCursorAsync(CancellationToken.None) < last)
    {
        await Task.Delay(2);
    }

    sw.Stop();
    await cts.CancelAsync();
    await run;
    var rate = observations.Count / sw.Elapsed.TotalSeconds;
    Console.WriteLine($"through SQLite store: appended at {observations.Count / appendTime.Elapsed.TotalSeconds:N0} observations/s; end to end {rate:N0} observations/s ({rate / rawRate:P0} of raw) in {sw.Elapsed.TotalSeconds:F2} s; stored points {await server.ScalarAsync("store", "SELECT count(hr) FROM vitals"):N0}");
}
