using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using Vitals.Core;
using Vitals.Core.Benchmarks;

// Run: dotnet run -c Release --project tests/Vitals.Core.Benchmarks -- --filter '*' --inProcess
// --inProcess because BenchmarkDotNet 0.14 predates the net10.0 moniker and cannot build a separate host for it.
// On a shared, loaded machine wall-clock figures overstate the cost; `-- --cpu-time` reports CPU time of the process
// per reading (not inflated by other processes) and the number of transitions, which must not change with an optimisation.
if (args is ["--cpu-time", ..])
{
    var stream = AlarmEngineBenchmark.BuildStream();
    var events = new List<AlarmEvent>();
    for (var round = 0; round < 3; round++)
    {
        AlarmEngineBenchmark.Run(stream, events); // warm-up: tiered JIT
    }

    const int rounds = 10;
    var allocated = GC.GetAllocatedBytesForCurrentThread();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    var transitions = 0;
    for (var round = 0; round < rounds; round++)
    {
        transitions = AlarmEngineBenchmark.Run(stream, events);
    }

    wall.Stop();
    var n = (double)stream.Length * rounds;
    var cpuNs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalNanoseconds;
    var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"alarm engine, harness stream: {cpuNs / n:F0} ns CPU per reading, {wall.Elapsed.TotalNanoseconds / n:F0} ns wall, {bytes / n:F1} B per reading, {transitions} transitions per run of {stream.Length:N0} readings"));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point holder for BenchmarkSwitcher.</summary>
public partial class Program;
