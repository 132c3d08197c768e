using Vitals.Core;
using Vitals.Core.Alarms;

namespace Vitals.Gateway.Pipeline;

/// <summary>Latest values and active alarms per chair, fed by the pipeline and read by the API and dashboard.</summary>
public sealed class LiveState
{
    private readonly Dictionary<string, ChairEntry> chairs;

    // In front of chairs for the pipeline's readings: a string-keyed lookup per reading was ~1.8 % of the harness window.
    private readonly ChairIdentityTable<ChairEntry> byIdentity = new();
    private readonly ChairEntry gateway = new(AlarmEngine.GatewayChair, "Gateway");
    private readonly FeedRegistry feeds;
    private readonly StalePolicy stale;
    private readonly TimeProvider time;

    /// <summary>Creates the state for the configured chairs.</summary>
    public LiveState(IEnumerable<(string Id, string Name)> chairList, FeedRegistry feeds, StalePolicy? stale = null, TimeProvider? time = null)
    {
        this.feeds = feeds;
        this.stale = stale ?? new StalePolicy();
        this.time = time ?? TimeProvider.System;
        chairs = chairList.ToDictionary(c => c.Id, c => new ChairEntry(c.Id, c.Name), StringComparer.Ordinal);
    }

    /// <summary>When a sign counts as stale; the dashboard takes these limits from the stream's snapshot.</summary>
    public StalePolicy Stale => stale;

    /// <summary>Configured chair ids in order.</summary>
    public IReadOnlyCollection<string> ChairIds => chairs.Keys;

    /// <summary>
    /// Records an observation as its chair's latest value of that sign: the most recently received one, whatever its
    /// device time (a device dated in the future once froze the tile; the pipeline re-stamps such readings, see
    /// <see cref="DeviceClocks"/>). Called by the pipeline, one step at a time.
    /// </summary>
    public void Apply(Observation o)
    {
        if (!byIdentity.TryGet(o.Site, o.Chair, out var chair))
        {
            if (!chairs.TryGetValue(o.Chair, out chair))
            {
                return;
            }

            byIdentity.Remember(o.Site, o.Chair, chair);
        }

        lock (chair)
        {
            // The reading itself is kept, and its display value made only when someone looks (a snapshot): two fewer
            // objects per MQTT message on the ingest path (112 of ~730 bytes allocated per message, mqtt-ingest --alloc).
            // Staleness is judged on arrival time: device clocks can be wrong, the gateway's is the reference.
            chair.Set(o);
        }
    }

    /// <summary>
    /// The gateway's wall clock was stepped: receive times taken on the old clock move with it, so a sign goes stale after
    /// its real timeout (after a step back it would not for the length of the step). Times already on the new clock
    /// (readings applied since the step, before the alarm service noticed it) stay.
    /// </summary>
    public void ClockStepped(WallClockStep step)
    {
        foreach (var chair in chairs.Values)
        {
            lock (chair)
            {
                foreach (var sign in chair.Signs)
                {
                    ref var at = ref chair.ReceivedAt(sign);
                    at += step.IsBefore(at) ? step.By : TimeSpan.Zero;
                }
            }
        }
    }

    /// <summary>Stale signs of one chair now (empty for an unknown chair).</summary>
    public IReadOnlyList<Sign> StaleSigns(string chairId)
    {
        if (!chairs.TryGetValue(chairId, out var chair))
        {
            return [];
        }

        lock (chair)
        {
            return stale.Evaluate(chair.Received(), time.GetUtcNow());
        }
    }

    /// <summary>Records an alarm transition: active ones are kept, cleared ones removed.</summary>
    public void Apply(AlarmEvent e)
    {
        // Audio pause events describe the pause, not an alarm condition; the dashboard shows them as a countdown.
        // Store and forwarder faults belong to no chair: they are kept apart and shown on every screen.
        var chair = e.Chair == gateway.Id ? gateway : chairs.GetValueOrDefault(e.Chair);
        if (e.Rule == AlarmEngine.PauseRule || chair is null)
        {
            return;
        }

        lock (chair)
        {
            chair.Alarms.RemoveAll(a => a.Rule == e.Rule);
            if (e.State != AlarmState.Cleared)
            {
                chair.Alarms.Add(e);
            }
        }
    }

    /// <summary>A copy of every chair for display.</summary>
    public List<ChairView> Snapshot()
    {
        var feedList = feeds.Snapshot();
        return [.. chairs.Values.Select(c => View(c, feedList))];
    }

    /// <summary>Active technical alarms of the gateway itself (store, forwarding).</summary>
    public List<AlarmEvent> GatewayAlarms()
    {
        lock (gateway)
        {
            return [.. gateway.Alarms];
        }
    }

    /// <summary>A copy of one chair, or null when there is no such chair.</summary>
    public ChairView? Snapshot(string chairId) =>
        chairs.TryGetValue(chairId, out var chair) ? View(chair, feeds.Snapshot(chairId)) : null;

    private ChairView View(ChairEntry c, List<FeedSnapshot> feedList)
    {
        lock (c)
        {
            return new ChairView(
                c.Id,
                c.Name,
                [.. feedList.Where(f => f.Chair == c.Id)],
                c.Signs.ToDictionary(s => s, c.Display),
                [.. c.Alarms.OrderByDescending(a => a.Priority).ThenBy(a => a.At)],
                stale.Evaluate(c.Received(), time.GetUtcNow()));
        }
    }

    private sealed class ChairEntry(string id, string name)
    {
        private static readonly int SignCount = Enum.GetValues<Sign>().Length;

        // By sign, replaced in place per reading: two Dictionary<Sign, ...> inserts per reading were ~0.75 % of the
        // harness window (AOT perf). A sign's slots are set together, from its first reading on.
        private readonly Observation?[] latest = new Observation?[SignCount];
        private readonly DateTimeOffset[] received = new DateTimeOffset[SignCount];
        private readonly List<Sign> signs = [];

        public string Id { get; } = id;

        public string Name { get; } = name;

        public List<AlarmEvent> Alarms { get; } = [];

        /// <summary>Signs received so far, in the order they first came (as snapshots list them).</summary>
        public List<Sign> Signs => signs;

        public void Set(Observation o)
        {
            if (latest[(int)o.Sign] is null)
            {
                signs.Add(o.Sign);
            }

            latest[(int)o.Sign] = o;
            received[(int)o.Sign] = o.ReceivedAt;
        }

        /// <summary>What a snapshot shows of the latest reading of a sign in <see cref="Signs"/>.</summary>
        public LatestValue Display(Sign sign)
        {
            var o = latest[(int)sign]!;
            return new LatestValue(o.Value, o.Unit, o.MeasuredAt, o.Quality);
        }

        /// <summary>When the latest reading of a sign in <see cref="Signs"/> arrived (moved with steps of the wall clock).</summary>
        public ref DateTimeOffset ReceivedAt(Sign sign) => ref received[(int)sign];

        /// <summary>Arrival times by sign, for the stale policy.</summary>
        public Dictionary<Sign, DateTimeOffset> Received() => signs.ToDictionary(s => s, s => received[(int)s]);
    }
}
