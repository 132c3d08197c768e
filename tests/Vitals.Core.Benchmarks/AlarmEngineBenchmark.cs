using BenchmarkDotNet.Attributes;
using Vitals.Core.Alarms;

namespace Vitals.Core.Benchmarks;

/// <summary>
/// The alarm engine judging the Node-RED harness's stream (../shared/bench/nodered/pub2.js): 200,000 messages
/// round-robin over 50 chairs, each an hr and an spo2 reading, hr 130 on every 10th message (so the same 5 chairs
/// are always above the hr.high limit), received at 10,000 messages/s of gateway time: 20 s, so those chairs' hr.high
/// conditions pend for the 10 s delay and are raised halfway (the harness's 60,000/s would end before any alarm); plus one chair with a running session and a confirmed baseline sending NIBP sys/dia/map,
/// respiration and heart rate once per round. The engine clock ticks once per second of gateway time, as the pipeline's.
/// Each invocation is a fresh engine over the whole stream; figures are per reading.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 7, invocationCount: 1)]
public class AlarmEngineBenchmark
{
    /// <summary>Messages in the stream, as the harness publishes.</summary>
    public const int Messages = 200_000;

    private const int Chairs = 50;

    /// <summary>Readings in the stream: two per message, and five per round at the NIBP chair.</summary>
    public const int Readings = (Messages * 2) + (Messages / Chairs * 5);

    private const string Site = "clinic";
    private const string NibpChair = "nibp-1";
    private static readonly TimeSpan MessageSpacing = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / 10_000);
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 8, 0, 0, TimeSpan.Zero);

    private Observation[] stream = [];
    private readonly List<AlarmEvent> events = [];

    [GlobalSetup]
    public void Setup() => stream = BuildStream();

    /// <summary>Builds the stream; public so the CPU-time mode can use it without BenchmarkDotNet.</summary>
    public static Observation[] BuildStream()
    {
        var chairs = Enumerable.Range(0, Chairs).Select(i => "bed-" + i).ToArray();
        var list = new List<Observation>(Readings);
        for (var i = 0; i < Messages; i++)
        {
            var at = Start + (MessageSpacing * i);
            var chair = chairs[i % Chairs];
            list.Add(new Observation(Site, chair, chair, Sign.Hr, i % 10 == 0 ? 130 : 80, at, at, SourceProtocol.Mqtt));
            list.Add(new Observation(Site, chair, chair, Sign.Spo2, 97, at, at, SourceProtocol.Mqtt));
            if (i % Chairs == Chairs - 1)
            {
                // The NIBP/respiration chair: values near its baseline, inside the limits.
                var k = i / Chairs;
                list.Add(new Observation(Site, NibpChair, "mon", Sign.NibpSys, 120 + (k % 5), at, at, SourceProtocol.Hl7Mllp));
                list.Add(new Observation(Site, NibpChair, "mon", Sign.NibpDia, 75, at, at, SourceProtocol.Hl7Mllp));
                list.Add(new Observation(Site, NibpChair, "mon", Sign.NibpMap, 90, at, at, SourceProtocol.Hl7Mllp));
                list.Add(new Observation(Site, NibpChair, "mon", Sign.Rr, 16, at, at, SourceProtocol.Hl7Mllp));
                list.Add(new Observation(Site, NibpChair, "mon", Sign.Hr, 72 + (k % 3), at, at, SourceProtocol.Hl7Mllp));
            }
        }

        return [.. list];
    }

    /// <summary>A fresh engine with the NIBP chair's session running and its baseline confirmed.</summary>
    public static AlarmEngine NewEngine(List<AlarmEvent> events)
    {
        var engine = new AlarmEngine(site: Site);
        engine.StartSession(new InfusionSession("s-1", NibpChair, "P-1", "iron sucrose", 1, null, Start), Start, events);
        engine.ConfirmBaseline(NibpChair, "nurse", Start, new Baseline(122, 75, 90, 72, 16, 0));
        events.Clear();
        return engine;
    }

    /// <summary>Judges the whole stream with a fresh engine, ticking once per second of gateway time.</summary>
    [Benchmark(OperationsPerInvoke = Readings)]
    public int Judge() => Run(stream, events);

    /// <summary>Judges <paramref name="readings"/> with a fresh engine; returns the transitions (so nothing is optimised away).</summary>
    public static int Run(Observation[] readings, List<AlarmEvent> events)
    {
        var engine = NewEngine(events);
        var transitions = 0;
        var nextTick = Start + TimeSpan.FromSeconds(1);
        foreach (var o in readings)
        {
            if (o.ReceivedAt >= nextTick)
            {
                engine.Tick(nextTick, events);
                nextTick += TimeSpan.FromSeconds(1);
            }

            engine.Observe(o, events);
            transitions += events.Count;
            events.Clear();
        }

        return transitions;
    }
}
