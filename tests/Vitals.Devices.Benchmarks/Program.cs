using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using Vitals.Devices.Benchmarks;

// Run: dotnet run -c Release --project tests/Vitals.Devices.Benchmarks -- --filter '*' --inProcess [--job short]
// --inProcess because BenchmarkDotNet 0.14 predates the net10.0 moniker and cannot build a separate host for it.
// On a shared, loaded machine wall-clock figures overstate the cost; `-- --cpu-time` reports messages per CPU-second
// of this thread (thread CPU time is not inflated by other processes).
if (args is ["--cpu-time", ..])
{
    var bench = new Hl7DecodeBenchmark();
    bench.Setup();
    for (var i = 0; i < 200_000; i++)
    {
        bench.Decode();
    }

    const int n = 1_000_000;
    var allocated = GC.GetAllocatedBytesForCurrentThread();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    for (var i = 0; i < n; i++)
    {
        bench.Decode();
    }

    wall.Stop();
    var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
    var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"HL7 8-OBX decode: {n / cpuSeconds:N0} msg/s per CPU-second, {n / wall.Elapsed.TotalSeconds:N0} msg/s wall, {(double)bytes / n:N1} B/msg, {(double)bytes / n / 8:N1} B/observation"));
    return;
}

// `-- --json-mapped`: CPU and allocation per message of the shared Node-RED harness's flat JSON with its field mapping
// (hr, spo2, ts in Unix ms), read with the plain-object scan (the default), the Utf8JsonReader alone and the JsonDocument.
if (args is ["--json-mapped", ..])
{
    var mapping = new Vitals.Devices.Json.JsonMapping
    {
        Fields = [new() { Field = "hr", Sign = "hr" }, new() { Field = "spo2", Sign = "spo2" }],
        TimeField = "ts",
        TimeFormat = "unix-ms",
    };
    var payload = """{"bed":"bed-17","hr":130,"spo2":97,"seq":123456,"ts":1795341600000}"""u8.ToArray();
    var context = new Vitals.Devices.DecodeContext("clinic", "bed-17", "mq-17", DateTimeOffset.UnixEpoch, TimeZoneInfo.Utc);
    var output = new List<Vitals.Core.Observation>(2);
    for (var round = 0; round < 2; round++)
    {
        foreach (var path in new[] { "plain scan    ", "Utf8JsonReader", "JsonDocument  " })
        {
            var codec = new Vitals.Devices.Json.JsonObservationCodec(mapping) { ScanPlainObjects = path[0] == 'p', ReadFlatObjects = path[0] != 'J' };
            const int n = 2_000_000;
            for (var i = 0; i < n / 10; i++)
            {
                output.Clear();
                codec.Decode(payload, context, output);
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (var i = 0; i < n; i++)
            {
                output.Clear();
                codec.Decode(payload, context, output);
            }

            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"mapped flat JSON, {path}: {cpuSeconds / n * 1e6:F2} us CPU/msg, {(double)bytes / n:N0} B/msg (2 observations = 192 B)"));
        }
    }

    return;
}

// `-- --deframe`: CPU to deframe one 1 MiB MLLP frame arriving 16 bytes per read through a Pipe (issue 12.6: the
// framer used to search the whole pending frame again on every read, about 1.5 s of CPU for this).
if (args is ["--deframe", ..])
{
    var framed = Vitals.Devices.Mllp.MllpEncoder.Frame([.. "MSH|"u8, .. Enumerable.Repeat((byte)'X', (1024 * 1024) - 4)]);
    for (var round = 0; round < 3; round++)
    {
        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 0));
        var framer = new Vitals.Devices.Mllp.MllpFrameReader();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var frames = 0;
        for (var at = 0; at < framed.Length; at += 16)
        {
            await pipe.Writer.WriteAsync(framed.AsMemory(at, Math.Min(16, framed.Length - at)));
            var read = await pipe.Reader.ReadAsync();
            var buffer = read.Buffer;
            while (framer.TryReadFrame(ref buffer, out _))
            {
                frames++;
            }

            pipe.Reader.AdvanceTo(buffer.Start, read.Buffer.End);
        }

        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"deframe 1 MiB in 16-byte reads: {used.TotalMilliseconds:F0} ms CPU, {frames} frame, {framer.ScannedBytes:N0} bytes searched"));
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point holder for BenchmarkSwitcher.</summary>
public partial class Program;
