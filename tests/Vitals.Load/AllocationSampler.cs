using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;

/// <summary>
/// <c>mqtt-ingest --alloc</c>: what the gateway process allocates, by type. This assembly is loaded into the gateway as
/// a .NET startup hook (<c>DOTNET_STARTUP_HOOKS</c>, so the gateway itself carries no measuring code); there an
/// <see cref="EventListener"/> takes the runtime's GC AllocationTick events (one per ~100 KB allocated, naming the type
/// of the object that crossed the mark and the bytes since the last mark) and sums them by type. The load command
/// asks for the sums before and after a round by writing a request file into the directory named by
/// <see cref="DirectoryVariable"/>; the difference, scaled to the exact bytes allocated in the round, is bytes per
/// message by type. Sampling: a type allocating less than ~1 % of the total shows up only roughly.
/// </summary>
#pragma warning disable CA1050 // The runtime finds a startup hook only as a type named StartupHook outside any namespace.
public static class StartupHook
#pragma warning restore CA1050
{
    /// <summary>Environment variable naming the directory of requests and answers.</summary>
    public const string DirectoryVariable = "VITALS_ALLOC_SAMPLES";

    private static AllocationListener? listener;

    /// <summary>Called by the runtime before the gateway's Main.</summary>
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is not { Length: > 0 } dir)
        {
            return;
        }

        listener = new AllocationListener();
        new Thread(() => Serve(dir, listener)) { IsBackground = true, Name = "alloc-sampler" }.Start();
    }

    /// <summary>Answers each <c>request</c> file (its text names the answer) with the sums so far: <c>NAME.tsv</c>.</summary>
    private static void Serve(string dir, AllocationListener sampler)
    {
        var request = Path.Combine(dir, "request");
        while (true)
        {
            Thread.Sleep(50);
            if (!File.Exists(request))
            {
                continue;
            }

            var name = File.ReadAllText(request).Trim();
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"#total\t{GC.GetTotalAllocatedBytes(precise: true)}\n");
            foreach (var (type, bytes) in sampler.Sums)
            {
                text.Append(CultureInfo.InvariantCulture, $"{type}\t{bytes}\n");
            }

            var answer = Path.Combine(dir, name + ".tsv");
            File.WriteAllText(answer + ".tmp", text.ToString());
            File.Move(answer + ".tmp", answer, overwrite: true);
            File.Delete(request);
        }
    }

    private sealed class AllocationListener : EventListener
    {
        private const EventKeywords GcKeyword = (EventKeywords)0x1;

        public ConcurrentDictionary<string, long> Sums { get; } = new(StringComparer.Ordinal);

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                // AllocationTick is the GC keyword at verbose level.
                EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null || e.PayloadNames is null)
            {
                return;
            }

            var type = "?";
            long bytes = 0;
            for (var i = 0; i < e.PayloadNames.Count; i++)
            {
                switch (e.PayloadNames[i])
                {
                    case "TypeName":
                        type = e.Payload[i] as string ?? "?";
                        break;
                    case "AllocationAmount64":
                        bytes = Convert.ToInt64(e.Payload[i], CultureInfo.InvariantCulture);
                        break;
                }
            }

            Sums.AddOrUpdate(type, bytes, (_, sum) => sum + bytes);
        }
    }
}
