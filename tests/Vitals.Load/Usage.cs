using System.Diagnostics;
using System.Globalization;
using Vitals.Gateway.Pipeline;

/// <summary>
/// What the measured seconds cost the whole process (gateway plus this command's own reading source, dashboard stream
/// client and MQTT subscriber): CPU-seconds per reading, peak resident memory, and the garbage collector's pauses.
/// </summary>
internal static class Usage
{
    private static TimeSpan cpuAtStart;
    private static TimeSpan cpu;
    private static TimeSpan pauseAtStart;
    private static TimeSpan pause;
    private static long processedAtStart;
    private static long processed;
    private static int[] collectionsAtStart = [];
    private static int[] collections = [];
    private static long startedAt;
    private static TimeSpan elapsed;
    private static string loadAtStart = "";
    private static long jitMethodsAtStart;
    private static long jitMethods;
    private static TimeSpan jitTimeAtStart;
    private static TimeSpan jitTime;

    /// <summary>The machine's 1, 5 and 15 minute load averages now.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Starts the measured window.</summary>
    public static void Start(ObservationPipeline pipeline)
    {
        loadAtStart = LoadAverage();
        startedAt = Stopwatch.GetTimestamp();
        processedAtStart = pipeline.Processed;
        cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        pauseAtStart = GC.GetTotalPauseDuration();
        collectionsAtStart = Collections();
        jitMethodsAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
        jitTimeAtStart = System.Runtime.JitInfo.GetCompilationTime();
    }

    /// <summary>Ends the measured window (before the final drain, which is not load).</summary>
    public static void Stop(ObservationPipeline pipeline)
    {
        elapsed = Stopwatch.GetElapsedTime(startedAt);
        processed = pipeline.Processed - processedAtStart;
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart;
        pause = GC.GetTotalPauseDuration() - pauseAtStart;
        collections = [.. Collections().Zip(collectionsAtStart, (now, before) => now - before)];
        jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethodsAtStart;
        jitTime = System.Runtime.JitInfo.GetCompilationTime() - jitTimeAtStart;
    }

    /// <summary>Prints the window's figures on one line (<see cref="ScaleCurve"/> reads it back).</summary>
    public static void Print()
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"usage over the measured {elapsed.TotalSeconds:F1} s: readings={processed} cpu={cpu.TotalSeconds:F2} s ({cpu.TotalMicroseconds / Math.Max(1, processed):F1} us/reading, {cpu / elapsed * 100:F0} % of one core) peak_rss={PeakRssMb():F0} MB gc_pause={pause.TotalMilliseconds:F1} ms gc_count={string.Join('/', collections)} (gen0/1/2) jit={jitMethods} methods {jitTime.TotalMilliseconds:F0} ms (before: {jitMethodsAtStart} methods {jitTimeAtStart.TotalMilliseconds:F0} ms) load={loadAtStart} -> {LoadAverage()}"));
    }

    private static int[] Collections() => [GC.CollectionCount(0) - GC.CollectionCount(1), GC.CollectionCount(1) - GC.CollectionCount(2), GC.CollectionCount(2)];

    private static double PeakRssMb()
    {
        // VmHWM: the resident set's high-water mark since the process started.
        foreach (var line in File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status") : [])
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return double.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
    }
}
