using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Devices.Masimo;
using Vitals.Devices.Serial;

/// <summary>
/// Idle cost of serial feeds: opens --ports pty pairs, runs a <see cref="SerialFeed"/> (what the gateway runs per serial
/// device) on each slave with nothing arriving, and prints this process's CPU (utime+stime from /proc/self/stat) and
/// context switches (voluntary + involuntary, summed over /proc/self/task/*/status) over --seconds; then how fast a
/// pending read notices an unplug (pty master closed).
///   dotnet run -c Release --project tests/Vitals.Load -- --serial-idle [--ports 20] [--seconds 60]
/// </summary>
internal static class SerialIdle
{
    /// <summary>USER_HZ: the unit of utime/stime in /proc/[pid]/stat (proc(5)); 100 on every Linux x86_64 build.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>Reading every thread's status file costs CPU too; every second it doubled what an idle run measured.</summary>
    private const int SampleEverySeconds = 10;

    public static async Task RunAsync(string[] args)
    {
        int ports = Arg(args, "--ports", 20);
        int seconds = Arg(args, "--seconds", 60);
        var ptys = Enumerable.Range(0, ports).Select(_ => PseudoTerminal.Open()).ToList();
        var channel = Channel.CreateUnbounded<Observation>();
        using var cts = new CancellationTokenSource();
        var feeds = ptys.Select((pty, i) => new SerialFeed(
            new SerialFeedOptions { Port = new SerialPortSettings { Path = pty.SlavePath }, Site = "load", Chair = $"chair-{i + 1}", Device = $"oximeter-{i + 1}" },
            new LinuxSerialPortFactory(),
            new MasimoCodec(),
            channel.Writer,
            TimeProvider.System)).ToList();
        var runs = feeds.Select(feed => feed.RunAsync(cts.Token)).ToList();
        while (!feeds.All(feed => feed.Counters.Connected))
        {
            await Task.Delay(50);
        }

        await Task.Delay(TimeSpan.FromSeconds(2)); // let start-up work (JIT, pool growth) settle before the window opens
        double cpu0 = CpuSeconds();
        var switches = new ThreadSwitches();
        for (int left = seconds; left > 0; left -= SampleEverySeconds)
        {
            // Sampled along the way, so a thread that ends in the window still counts up to its last sample.
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(SampleEverySeconds, left)));
            switches.Sample();
        }

        double cpu1 = CpuSeconds();

        await cts.CancelAsync();
        await Task.WhenAll(runs);
        ptys.ForEach(pty => pty.Dispose());
        var unplug = await UnplugMillisecondsAsync(20);
        double cpuPercent = (cpu1 - cpu0) / seconds * 100;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"serial idle, {ports} open ports with no data, {seconds} s: CPU {cpuPercent:F2} % of one core ({(ports == 0 ? "runtime baseline" : $"{cpuPercent / ports:F3} % per port")}), {switches.Total / (double)seconds:F0} context switches/s, {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"unplug (pty master closed under a pending read) to SerialPortGoneException: median {unplug[unplug.Count / 2]:F2} ms, max {unplug[^1]:F2} ms over {unplug.Count}"));
    }

    /// <summary>How long a pending read takes to report the device gone after its pty master closes, sorted.</summary>
    private static async Task<List<double>> UnplugMillisecondsAsync(int times)
    {
        var result = new List<double>();
        for (int i = 0; i < times; i++)
        {
            var pty = PseudoTerminal.Open();
            await using var port = LinuxSerialPort.Open(new SerialPortSettings { Path = pty.SlavePath });
            var read = port.ReadAsync(new byte[16], CancellationToken.None).AsTask();
            await Task.Delay(50); // the read is waiting on the readiness thread
            long started = Stopwatch.GetTimestamp();
            pty.Dispose();
            try
            {
                await read;
            }
            catch (SerialPortGoneException)
            {
                result.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        result.Sort();
        return result;
    }

    /// <summary>CPU seconds the process has used, all threads (ended ones too).</summary>
    private static double CpuSeconds()
    {
        // /proc/self/stat: the comm field is in parentheses and may contain spaces; utime and stime are fields 14 and 15.
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>
    /// Context switches (voluntary + involuntary) since the first sample. /proc/[pid]/status counts only its own thread, so
    /// this sums /proc/self/task/*/status per thread; a thread first seen later counts from zero.
    /// </summary>
    private sealed class ThreadSwitches
    {
        private readonly Dictionary<string, (long First, long Last)> threads = [];

        public ThreadSwitches() => Sample(baseline: true);

        public long Total => threads.Values.Sum(t => t.Last - t.First);

        public void Sample(bool baseline = false)
        {
            foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                long count = 0;
                try
                {
                    foreach (string line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            count += long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
                        }
                    }
                }
                catch (IOException)
                {
                    continue; // the thread ended between listing and reading
                }

                threads[task] = threads.TryGetValue(task, out var seen) ? (seen.First, count) : (baseline ? count : 0, count);
            }
        }
    }
}
