namespace Vitals.Core.Alarms;

/// <summary>What the engine knows about one chair: its feed, session, baseline, condition timers and recent readings.</summary>
internal sealed class ChairState(ChairKey key, Dictionary<string, ActiveAlarm> alarms)
{
    /// <summary>
    /// A reading less than this after the last one kept for its sign is judged but not kept in the history. Monitors
    /// report numerics once a second or slower, so none of theirs is skipped; a feed sending hundreds a second (the MQTT
    /// load test sends 320 per chair) would otherwise keep 30 minutes of every one, in memory and in each engine snapshot
    /// (measured: 14 % of the gateway's CPU on snapshot serialisation and RSS growing 100 MB per 200,000 messages).
    /// Rate and baseline rules look at levels over minutes; their reference reading moves by at most this much.
    /// </summary>
    public static readonly TimeSpan MinSpacing = TimeSpan.FromMilliseconds(500);

    /// <summary>Fewest readings older than needed that <see cref="Record"/> drops at once (so at most this many less one stay).</summary>
    public const int TrimBatch = 64;

    // Shared and never added to: HistoryOf a sign with no readings yet.
    private static readonly List<Reading> NoReadings = [];

    private static readonly int SignCount = Enum.GetValues<Sign>().Length;

    // Readings kept per sign, and the continuous signs' signals, indexed by sign: every reading reads both, and a
    // Dictionary<Sign, ...> or SortedDictionary lookup (comparer calls through an interface in the AOT build) per reading
    // was about 7 % of AlarmEngine.Observe's samples in a perf profile of the AOT gateway on the harness.
    private readonly List<Reading>?[] history = new List<Reading>?[SignCount];
    private readonly SignSignal?[] signalsBySign = new SignSignal?[SignCount];
    private readonly SortedDictionary<Sign, SignSignal> signals = [];

    private readonly SortedDictionary<string, ConditionTrack> tracks = new(StringComparer.Ordinal);

    // The same tracks by rule slot: every verdict of every reading finds its track by index, not by hashing its rule id
    // (with AlarmOf and verdicts read by reference: 316-366 -> 250-300 ns CPU per reading, tests/Vitals.Core.Benchmarks --cpu-time).
    private readonly ConditionTrack?[] tracksBySlot = new ConditionTrack?[RuleEvaluator.SlotCount];

    private ProfileRules? rules;
    private long rulesVersion;
    private InfusionSession? rulesSession;

    public ChairKey Key { get; } = key;

    /// <summary>This chair's uncleared alarms by rule: the <see cref="AlarmBook"/>'s map, read without a lookup per reading.</summary>
    public IReadOnlyDictionary<string, ActiveAlarm> Alarms => alarms;

    public string Site => Key.Site;

    public string Chair => Key.Chair;

    /// <summary>Last observation of any sign, valid or not: the feed is alive.</summary>
    public DateTimeOffset? LastReceived { get; set; }

    public bool WatchFeed { get; set; }

    public DateTimeOffset? LastHrAt { get; set; }

    public DateTimeOffset? LastNibpAt { get; set; }

    public InfusionSession? Session { get; set; }

    public Baseline? Baseline { get; set; }

    public IReadOnlyList<string> MagnesiumWarnings { get; set; } = [];

    public SortedDictionary<string, DateTimeOffset> ChecksDue { get; } = new(StringComparer.Ordinal);

    /// <summary>Condition timing by rule, in rule order (the order the clock visits them).</summary>
    public IReadOnlyDictionary<string, ConditionTrack> Tracks => tracks;

    /// <summary>Continuous signs this chair's monitor sends, with when each last gave a judgeable reading, in sign order.</summary>
    public IReadOnlyDictionary<Sign, SignSignal> Signals => signals;

    /// <summary>
    /// The rules of this chair's effective profile, resolved again only when <paramref name="configuration"/> changed
    /// (every accepted change bumps its version) or the session did (started, stopped, its overrides set: sessions are
    /// immutable records, so a new session is a new object). Resolving per reading cost three dictionary lookups, and a
    /// new profile per reading for a chair with overrides; the gain, with the sorted rules, is in <see cref="ProfileRules"/>.
    /// </summary>
    public ProfileRules Rules(AlarmConfiguration configuration)
    {
        if (rules is null || rulesVersion != configuration.Version || !ReferenceEquals(rulesSession, Session))
        {
            rulesVersion = configuration.Version;
            rulesSession = Session;
            rules = new ProfileRules(configuration.Resolve(Chair, Session));
        }

        return rules;
    }

    /// <summary>
    /// The uncleared alarm of <paramref name="rule"/> at this chair, if any. Most chairs have none, and then no rule id is
    /// hashed: every reading asks this for each of its rules.
    /// </summary>
    public ActiveAlarm? AlarmOf(string rule) => alarms.Count == 0 ? null : alarms.GetValueOrDefault(rule);

    /// <summary>The condition track of the verdict's rule, made on first use.</summary>
    public ConditionTrack Track(in Verdict verdict)
    {
        if (tracksBySlot[verdict.Slot] is not { } track)
        {
            tracksBySlot[verdict.Slot] = tracks[verdict.Rule] = track = new ConditionTrack();
        }

        return track;
    }

    public void RemoveTrack(string rule)
    {
        if (tracks.Remove(rule, out var track))
        {
            tracksBySlot[Array.IndexOf(tracksBySlot, track)] = null;
        }
    }

    /// <summary>The signal of continuous <paramref name="sign"/>, expected from <paramref name="firstSeen"/> when it is new.</summary>
    public SignSignal Signal(Sign sign, DateTimeOffset firstSeen)
    {
        if (signalsBySign[(int)sign] is not { } signal)
        {
            signalsBySign[(int)sign] = signals[sign] = signal = new SignSignal(firstSeen);
        }

        return signal;
    }

    /// <summary>Forgets every sign's signal (the chair was released).</summary>
    public void ClearSignals()
    {
        signals.Clear();
        Array.Clear(signalsBySign);
    }

    public List<Reading> HistoryOf(Sign sign) => history[(int)sign] ?? NoReadings;

    public IReadOnlyDictionary<Sign, IReadOnlyList<Reading>> History()
    {
        var all = new Dictionary<Sign, IReadOnlyList<Reading>>();
        for (var i = 0; i < SignCount; i++)
        {
            if (history[i] is { } list)
            {
                all[(Sign)i] = list;
            }
        }

        return all;
    }

    /// <summary>Number of readings of <paramref name="sign"/> kept (with up to <see cref="TrimBatch"/> - 1 older ones not yet dropped).</summary>
    public int Kept(Sign sign) => history[(int)sign]?.Count ?? 0;

    /// <summary>Drops the readings of a sign no rule reads any more.</summary>
    public void Forget(Sign sign) => history[(int)sign] = null;

    /// <summary>False for a reading of <paramref name="sign"/> less than <see cref="MinSpacing"/> after the last one kept: <see cref="Record"/> skips it.</summary>
    public bool Spaced(Sign sign, DateTimeOffset at) =>
        history[(int)sign] is not { Count: > 0 } list || at < list[^1].At || at - list[^1].At >= MinSpacing;

    /// <summary>Keeps <paramref name="reading"/> in time order and drops those of the sign older than <paramref name="keepFrom"/>, in batches.</summary>
    public void Record(Sign sign, Reading reading, DateTimeOffset keepFrom)
    {
        if (!Spaced(sign, reading.At))
        {
            return;
        }

        if (history[(int)sign] is not { } list)
        {
            history[(int)sign] = list = [];
        }

        if (list.Count > 0 && reading.At < list[^1].At)
        {
            // Older than the last kept (feeds racing into one batch, a clock step back): inserted in time order, which the
            // rate rules' binary search relies on. Rare, so the linear search costs nothing in practice.
            var after = list.Count;
            while (after > 0 && list[after - 1].At > reading.At)
            {
                after--;
            }

            list.Insert(after, reading);
        }
        else
        {
            list.Add(reading);
        }

        // Readings older than keepFrom are dropped TrimBatch at a time: dropping one per new reading moved the whole list
        // each time (300 readings, 7 KB, per heart-rate reading at a 5 min span; 43 KB at 30 min), which made feeding
        // 1,000 chairs 2-3x slower in tests/Vitals.Load recall --engine. The rules find their window's start by time, so the
        // few older readings left in front are never read.
        if (list.Count < TrimBatch || list[TrimBatch - 1].At >= keepFrom)
        {
            return;
        }

        var stale = TrimBatch;
        while (stale < list.Count && list[stale].At < keepFrom)
        {
            stale++;
        }

        list.RemoveRange(0, stale);
    }

    /// <summary>Moves every time the chair keeps by a wall-clock step (see <see cref="AlarmEngine.ClockStepped"/>).</summary>
    public void Shift(TimeSpan by)
    {
        LastReceived += by;
        LastHrAt += by;
        LastNibpAt += by;
        if (Session is { } session)
        {
            Session = session with { StartedAt = session.StartedAt + by, StoppedAt = session.StoppedAt + by };
        }

        if (Baseline is { ConfirmedAt: { } confirmed } baseline)
        {
            Baseline = baseline with { ConfirmedAt = confirmed + by };
        }

        foreach (var check in ChecksDue.Keys.ToList())
        {
            ChecksDue[check] += by;
        }

        foreach (var signal in signals.Values)
        {
            signal.Shift(by);
        }

        foreach (var track in tracks.Values)
        {
            track.Shift(by);
        }

        foreach (var list in history.OfType<List<Reading>>())
        {
            for (var i = 0; i < list.Count; i++)
            {
                list[i] = list[i] with { At = list[i].At + by };
            }
        }
    }
}

/// <summary>One continuous sign at one chair: since when it is expected and when it last gave a reading the rules could judge.</summary>
internal sealed class SignSignal(DateTimeOffset firstSeen)
{
    public DateTimeOffset FirstSeen { get; private set; } = firstSeen;

    public DateTimeOffset? LastValid { get; set; }

    /// <summary>Why the latest reading could not be judged (null when it could).</summary>
    public string? Problem { get; set; }

    public DateTimeOffset LostSince => LastValid ?? FirstSeen;

    public void Shift(TimeSpan by)
    {
        FirstSeen += by;
        LastValid += by;
    }
}

/// <summary>Every chair the engine has seen, in site-then-chair order.</summary>
/// <param name="alarmsOf">The alarm book's map of a chair's alarms, given to the chair when it is first seen.</param>
internal sealed class ChairRegistry(Func<ChairKey, Dictionary<string, ActiveAlarm>> alarmsOf)
{
    private readonly SortedDictionary<ChairKey, ChairState> chairs = new(ChairKey.Order);

    // Every reading looks its chair up: hashed, not a walk down the sorted tree with string comparisons.
    private readonly Dictionary<ChairKey, ChairState> byKey = [];

    // In front of byKey: a ChairKey's hash is two randomized (Marvin) string hashes, and the lookup was ~0.8 % of the AOT
    // gateway's harness window in perf before this table answered it by the strings' identity.
    private readonly ChairIdentityTable<ChairState> byIdentity = new();

    public IEnumerable<ChairState> All => chairs.Values;

    public ChairState Get(ChairKey key)
    {
        if (byIdentity.TryGet(key.Site, key.Chair, out var seen))
        {
            return seen;
        }

        if (!byKey.TryGetValue(key, out var state))
        {
            byKey[key] = chairs[key] = state = new ChairState(key, alarmsOf(key));
        }

        // By this reading's instances (the chair may have been made from equal strings of a command or a restored snapshot).
        byIdentity.Remember(key.Site, key.Chair, state);
        return state;
    }

    public ChairState? Find(ChairKey key) => byKey.GetValueOrDefault(key);

    public void Clear()
    {
        chairs.Clear();
        byKey.Clear();
        byIdentity.Clear();
    }
}
