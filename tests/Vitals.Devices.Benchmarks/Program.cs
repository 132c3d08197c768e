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

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point holder for BenchmarkSwitcher.</summary>
public partial class Program;
