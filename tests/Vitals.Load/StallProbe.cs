using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;

/// <summary>
/// Records what the runtime did while the load ran, to explain a slow burst instead of guessing: every execution-engine
/// suspension (a GC, or another stop-the-world) and every JIT compile over 2 ms with its tier, from the runtime's own
/// events; thread-pool adjustments; per second the JIT work done and lock contentions; and gaps in two watcher threads.
/// </summary>
internal sealed class StallProbe : EventListener
{
    // Runtime event ids and keywords (Microsoft-Windows-DotNETRuntime manifest).
    private const int GcStartId = 1;
    private const int GcRestartEeEndId = 3;
    private const int GcSuspendEeBeginId = 9;
    private const int ThreadPoolAdjustmentId = 55;
    private const long GcKeyword = 0x1;
    private const long ThreadingKeyword = 0x10000;
    private const long JitKeyword = 0x10;
    private const int MethodLoadVerboseId = 143;
    private const int MethodJittingStartedId = 145;

    private static readonly long StartTicks = Stopwatch.GetTimestamp();
    private static readonly DateTime StartUtc = TimeProvider.System.GetUtcNow().UtcDateTime;

    private static readonly List<Suspension> Suspensions = [];
    private static readonly List<(double AtMs, int Reason)> Adjustments = [];
    private static readonly List<Second> Seconds = [];
    private static readonly List<(double Ms, int Second, double StartMs)> Samples = [];
    private static readonly List<(double AtMs, double Ms, string What)> Gaps = [];
    private static (double AtMs, int Reason, int Gen)? open;
    private static volatile bool stopped;
    private static int nextGcGen = -1;
    private static string gcKind = "";
    private static readonly Dictionary<(long Thread, string Method), double> JitStarted = [];
    private static readonly List<(double StartMs, double EndMs, string Method, int Tier, long Thread)> Jits = [];

    /// <summary>
    /// Starts two watchers that tell a stalled process from a stalled thread pool: a dedicated thread that sleeps 1 ms
    /// at a time (a longer gap: the whole process was not running, or the runtime was suspended), and a work item
    /// queued to the thread pool every 2 ms (a longer queue wait: the pool had no free thread).
    /// </summary>
    public StallProbe()
    {
        new Thread(() => Watch("process not scheduled", () => Thread.Sleep(1))) { IsBackground = true, Name = "stall-probe" }.Start();
        new Thread(() => Watch("thread-pool queue wait", () =>
        {
            using var ran = new ManualResetEventSlim();
            Thread.Sleep(2);
            ThreadPool.UnsafeQueueUserWorkItem(r => r.Set(), ran, preferLocal: false);
            ran.Wait();
        })) { IsBackground = true, Name = "pool-probe" }.Start();
    }

    private static void Watch(string what, Action step)
    {
        while (!stopped)
        {
            var before = Stopwatch.GetTimestamp();
            step();
            var took = Stopwatch.GetElapsedTime(before).TotalMilliseconds;
            if (took > 8)
            {
                lock (Seconds)
                {
                    Gaps.Add((Ms(before), took, what));
                }
            }
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        stopped = true;
        base.Dispose();
    }

    /// <summary>Milliseconds since the probe started of a <see cref="Stopwatch"/> timestamp.</summary>
    public static double Ms(long timestamp) => Stopwatch.GetElapsedTime(StartTicks, timestamp).TotalMilliseconds;

    /// <summary>Called at the start of each load second (burst): what the runtime did in the second before it.</summary>
    public static void BurstStarts(int second)
    {
        lock (Seconds)
        {
            Seconds.Add(new Second(
                second,
                Ms(Stopwatch.GetTimestamp()),
                System.Runtime.JitInfo.GetCompiledMethodCount(),
                System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds,
                Monitor.LockContentionCount));
        }
    }

    /// <summary>Records one measured alarm delay: the reading went in at <paramref name="from"/>, its alarm came out at <paramref name="to"/>.</summary>
    public static void Sample(long from, long to, int second)
    {
        lock (Seconds)
        {
            Samples.Add((Stopwatch.GetElapsedTime(from, to).TotalMilliseconds, second, Ms(from)));
        }
    }

    /// <summary>Prints, for the <paramref name="worst"/> slowest bursts, the suspensions and adjustments that overlap them.</summary>
    public static void Report(int worst, int warmup)
    {
        var bursts = Samples.Where(s => s.Second >= warmup).GroupBy(s => s.Second)
            .Select(g => (Second: g.Key, Max: g.Max(s => s.Ms), From: g.Min(s => s.StartMs), To: g.Max(s => s.StartMs + s.Ms)))
            .OrderByDescending(b => b.Max).Take(worst).ToList();
        lock (Seconds)
        {
            foreach (var b in bursts)
            {
                var s = Seconds.FirstOrDefault(x => x.Index == b.Second);
                var next = Seconds.FirstOrDefault(x => x.Index == b.Second + 1);
                var jit = next is null || s is null ? "" : string.Create(CultureInfo.InvariantCulture,
                    $", JIT in that second: {next.JitMethods - s.JitMethods} methods {next.JitMs - s.JitMs:F1} ms, lock contentions {next.Contentions - s.Contentions}");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  burst {b.Second}: worst {b.Max:F1} ms, first reading at {b.From:F0} ms, last alarm out at {b.To:F0} ms{jit}"));
                var inBurst = Samples.Where(x => x.Second == b.Second).OrderBy(x => x.StartMs).ToList();
                Console.WriteLine("    sent +ms -> out +ms: " + string.Join(" ", inBurst.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.StartMs - b.From:F0}->{x.StartMs + x.Ms - b.From:F0}"))));
                foreach (var p in Suspensions.Where(p => p.EndMs >= b.From - 5 && p.StartMs <= b.To))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"    runtime suspended {p.StartMs - b.From:+0.0;-0.0} ms from burst start for {p.EndMs - p.StartMs:F2} ms, reason {SuspendReason(p.Reason)}{(p.Gen >= 0 ? $", GC gen{p.Gen}{p.Kind}" : "")}"));
                }

                foreach (var j in Jits.Where(j => j.EndMs >= b.From - 2 && j.StartMs <= b.To))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"    JIT {j.Method} {Tier(j.Tier)} on thread {j.Thread}: {j.EndMs - j.StartMs:F1} ms from {j.StartMs - b.From:+0.0;-0.0} ms"));
                }

                foreach (var g in Gaps.Where(g => g.AtMs + g.Ms >= b.From && g.AtMs <= b.To))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"    {g.What}: {g.Ms:F1} ms from {g.AtMs - b.From:+0.0;-0.0} ms"));
                }

                foreach (var a in Adjustments.Where(a => a.AtMs >= b.From - 1000 && a.AtMs <= b.To))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"    thread pool adjusted {a.AtMs - b.From:+0;-0} ms from burst start, reason {a.Reason}"));
                }
            }

            Console.WriteLine("  on-stack-replacement compiles (synchronous, on the thread running the loop): " + string.Join(", ", Jits.Where(j => j.Tier == 5)
                .Select(j => string.Create(CultureInfo.InvariantCulture, $"{j.Method} {j.EndMs - j.StartMs:F0} ms at {j.StartMs / 1000:F1} s"))));
            var longest = Suspensions.OrderByDescending(p => p.EndMs - p.StartMs).Take(5)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.EndMs - p.StartMs:F1} ms ({SuspendReason(p.Reason)}{(p.Gen >= 0 ? $" gen{p.Gen}{p.Kind}" : "")} at {p.StartMs / 1000:F1} s)"));
            Console.WriteLine($"  longest runtime suspensions: {string.Join(", ", longest)}; thread-pool starvation adjustments: {Adjustments.Count(a => a.Reason == 6)}; gaps > 8 ms: {string.Join(", ", Gaps.GroupBy(g => g.What).Select(g => $"{g.Key} {g.Count()}x, max {g.Max(x => x.Ms):F0} ms"))}");
        }
    }

    /// <inheritdoc />
    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)(GcKeyword | ThreadingKeyword | JitKeyword));
        }
    }

    /// <inheritdoc />
    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        var at = (e.TimeStamp.ToUniversalTime() - StartUtc).TotalMilliseconds;
        lock (Seconds)
        {
            switch (e.EventId)
            {
                case GcSuspendEeBeginId:
                    open = (at, Convert.ToInt32(e.Payload![0], CultureInfo.InvariantCulture), -1);
                    break;
                case GcStartId:
                    nextGcGen = Convert.ToInt32(e.Payload![1], CultureInfo.InvariantCulture);
                    gcKind = $" reason {e.Payload[2]} type {e.Payload[3]}";
                    break;
                case GcRestartEeEndId when open is { } o:
                    Suspensions.Add(new Suspension(o.AtMs, at, o.Reason, nextGcGen, gcKind));
                    gcKind = "";
                    open = null;
                    nextGcGen = -1;
                    break;
                case MethodJittingStartedId:
                    JitStarted[(e.OSThreadId, $"{e.Payload![4]}.{e.Payload[5]}")] = at;
                    break;
                case MethodLoadVerboseId:
                    var method = $"{e.Payload![6]}.{e.Payload[7]}";
                    if (JitStarted.Remove((e.OSThreadId, method), out var began) && at - began > 2)
                    {
                        Jits.Add((began, at, method, (int)((Convert.ToUInt32(e.Payload[5], CultureInfo.InvariantCulture) >> 7) & 0x7), e.OSThreadId));
                    }

                    break;
                case ThreadPoolAdjustmentId:
                    Adjustments.Add((at, Convert.ToInt32(e.Payload![2], CultureInfo.InvariantCulture)));
                    break;
            }
        }
    }

    // MethodLoadVerbose MethodFlags bits 7-9: the code's optimization tier.
    private static string Tier(int tier) => tier switch
    {
        1 => "min-opts",
        2 => "optimized",
        3 => "tier 0",
        4 => "tier 1",
        5 => "tier 1 OSR",
        6 => "tier 0 instrumented",
        7 => "tier 1 instrumented",
        _ => "tier unknown",
    };

    private static string SuspendReason(int reason) => reason switch
    {
        1 => "GC",
        6 => "GC prep",
        0 => "other",
        _ => reason.ToString(CultureInfo.InvariantCulture),
    };

    private sealed record Suspension(double StartMs, double EndMs, int Reason, int Gen, string Kind);

    private sealed record Second(int Index, double AtMs, long JitMethods, double JitMs, long Contentions);
}
