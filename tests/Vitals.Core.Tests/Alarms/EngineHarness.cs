using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>A hand-written manual clock: time moves only when a test says so.</summary>
internal sealed class ManualClock
{
    public DateTimeOffset Now { get; private set; } = new(2026, 11, 22, 8, 0, 0, TimeSpan.Zero);

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>An engine, a manual clock and the events it produced, with helpers that feed a chair at 1 Hz.</summary>
internal sealed class EngineHarness
{
    public const string Chair = "c1";
    public const string Site = "site1";
    public const string Nurse = "nurse.a";

    public EngineHarness(AlarmConfiguration? configuration = null) => Engine = new AlarmEngine(configuration, Site);

    public ManualClock Clock { get; } = new();

    public AlarmEngine Engine { get; private set; }

    public List<AlarmEvent> Events { get; } = [];

    public DateTimeOffset Now => Clock.Now;

    /// <summary>Every observation fed, in order: what the gateway's store would hold.</summary>
    public List<Observation> Stored { get; } = [];

    public void Observe(Sign sign, double value, string chair = Chair, ObservationQuality quality = ObservationQuality.Ok)
    {
        var observation = new Observation(Site, chair, "dev-" + chair, sign, value, Now, Now, SourceProtocol.Simulator, quality);
        Stored.Add(observation);
        Engine.Observe(observation, Events);
    }

    public void Tick() => Engine.Tick(Now, Events);

    /// <summary>
    /// Simulates a gateway restart: the snapshot goes through JSON into a fresh engine, which recalls the stored readings
    /// it asks for (<see cref="AlarmEngine.RecallFrom"/>) as the gateway reads them back from its store.
    /// </summary>
    public void Restart()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(Engine.Snapshot());
        var engine = new AlarmEngine(Engine.Configuration, Site);
        engine.Restore(System.Text.Json.JsonSerializer.Deserialize<AlarmEngineSnapshot>(json)!, Now);
        var from = engine.RecallFrom(Now);
        engine.Recall(Stored.Where(o => from.TryGetValue(o.Sign, out var since) && o.ReceivedAt >= since));
        Engine = engine;
    }

    /// <summary>Advances <paramref name="seconds"/> steps of <paramref name="step"/> s, observing the value and ticking after each.</summary>
    public void Hold(Sign sign, double value, int seconds, int step = 1, string chair = Chair)
    {
        for (var elapsed = 0; elapsed < seconds; elapsed += step)
        {
            Clock.Advance(TimeSpan.FromSeconds(step));
            Observe(sign, value, chair);
            Tick();
        }
    }

    /// <summary>Advances time and ticks with no data.</summary>
    public void Wait(TimeSpan by)
    {
        Clock.Advance(by);
        Tick();
    }

    public List<AlarmEvent> EventsFor(string rule, string chair = Chair) => [.. Events.Where(e => e.Rule == rule && e.Chair == chair)];

    public AlarmState[] StatesOf(string rule, string chair = Chair) => [.. EventsFor(rule, chair).Select(e => e.State)];

    public ActiveAlarm? Alarm(string rule, string chair = Chair) => Engine.Alarms.FirstOrDefault(a => a.Rule == rule && a.Chair == chair);

    public bool Acknowledge(string rule, string chair = Chair) => Engine.Acknowledge(chair, rule, Nurse, Now, Events);

    public InfusionSession StartSession(string drug = "iron sucrose", double? rate = null, TimeSpan? nibpCycle = null, string chair = Chair)
    {
        var session = new InfusionSession("s-" + chair, chair, "P-1042", drug, 1, rate, Now, NibpCycle: nibpCycle);
        Engine.StartSession(session, Now, Events);
        return session;
    }

    /// <summary>Starts a session and confirms a hand-entered baseline.</summary>
    public void StartWithBaseline(double sys = 150, double dia = 80, double map = 100, double hr = 80, double rr = 20)
    {
        StartSession();
        var status = Engine.ConfirmBaseline(Chair, Nurse, Now, new Baseline(sys, dia, map, hr, rr, 0));
        Assert.Equal(BaselineState.Confirmed, status.State);
    }
}
