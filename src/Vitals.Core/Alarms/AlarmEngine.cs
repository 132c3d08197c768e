namespace Vitals.Core.Alarms;

/// <summary>
/// The alarm engine: absolute limits, change from a confirmed baseline, rate of change, and technical conditions,
/// with condition delays, clear hysteresis, latching, acknowledge and re-announce, escalation and audio pause.
/// Pure and deterministic: time comes only from observations' <see cref="Observation.ReceivedAt"/> and the
/// <c>now</c> arguments (one clock: the gateway's, since device clocks drift; a step of it comes in through
/// <see cref="ClockStepped"/>). Every transition is appended to the
/// caller's event list. Not thread-safe: call from one thread (the pipeline's alarm stage).
/// </summary>
/// <remarks>
/// A facade over one piece per concern, each in its own file: <see cref="AlarmBook"/> (alarm lifecycle),
/// <see cref="Conditions"/> (condition delay and clearing of physiological rules, fed by <see cref="RuleEvaluator"/>),
/// <see cref="SignalWatch"/> (feed and sign loss), <see cref="AudioPause"/>, <see cref="Sessions"/>,
/// <see cref="NursingChecks"/>, <see cref="Baselines"/> and <see cref="EngineSnapshots"/>. Chair state is keyed by
/// <see cref="ChairKey"/> (site and chair); commands that name only a chair mean a chair of this engine's site.
/// </remarks>
public sealed class AlarmEngine : IAlarmEngine
{
    /// <summary>Chair id of gateway-wide technical alarms (store or forwarder failure).</summary>
    public const string GatewayChair = "gateway";

    /// <summary>Chair id used in pause events that apply to every chair.</summary>
    public const string AllChairs = "*";

    /// <summary>Rule id of the feed-lost technical alarm.</summary>
    public const string FeedLostRule = "feed.lost";

    /// <summary>Suffix of the per-sign signal-lost technical alarms (<c>hr.lost</c>, <c>spo2.lost</c>).</summary>
    public const string SignalLostSuffix = ".lost";

    /// <summary>Rule id of the NIBP-overdue technical alarm.</summary>
    public const string NibpOverdueRule = "nibp.overdue";

    /// <summary>Rule id of the magnesium rate warning.</summary>
    public const string MagnesiumRateRule = "mg.rate";

    /// <summary>Rule id carried by audio pause and resume events.</summary>
    public const string PauseRule = "audio.pause";

    /// <summary>Prefix of nursing check prompt rule ids (<c>check.patellar_reflex</c>).</summary>
    public const string CheckRulePrefix = "check.";

    private readonly ChairRegistry chairs;

    // Reused by every Observe (the engine is driven by one caller at a time): no list per reading.
    private readonly VerdictBuffer verdicts = new();
    private readonly AlarmBook book;
    private readonly AudioPause pause;
    private readonly Conditions conditions;
    private readonly SignalWatch signals;
    private readonly Sessions sessions;
    private readonly NursingChecks checks;
    private readonly Baselines baselines;
    private HistoryNeeds needs;

    /// <summary>Creates an engine with <paramref name="configuration"/> (or the built-in profiles and default timing).</summary>
    /// <param name="configuration">Profiles, overrides and timing.</param>
    /// <param name="site">Site of this engine's chairs when a command names only a chair, and of gateway-wide alarms.</param>
    public AlarmEngine(AlarmConfiguration? configuration = null, string site = "default")
    {
        Configuration = configuration ?? new AlarmConfiguration();
        Site = site;
        AlarmTiming Timing() => Configuration.Timing;
        pause = new AudioPause(site, Timing);
        book = new AlarmBook(pause, Timing);
        chairs = new ChairRegistry(book.Of);
        conditions = new Conditions(book, Timing);
        signals = new SignalWatch(book, Timing);
        sessions = new Sessions(chairs, book, signals, Configuration);
        checks = new NursingChecks(chairs, book, Configuration);
        baselines = new Baselines(chairs, Timing);
        needs = new HistoryNeeds(Configuration);
    }

    /// <summary>Profiles, overrides and timing; change them through its methods, which validate and audit.</summary>
    public AlarmConfiguration Configuration { get; }

    /// <summary>The site whose chairs commands naming only a chair refer to.</summary>
    public string Site { get; }

    /// <inheritdoc />
    public IReadOnlyList<AlarmEvent> Active => [.. book.Ordered().Select(a => a.ToEvent(a.State, a.ChangedAt, a.AcknowledgedBy))];

    /// <summary>Every uncleared alarm (active, latched or acknowledged), highest priority first, then longest-standing.</summary>
    public IReadOnlyList<ActiveAlarm> Alarms => book.Ordered();

    /// <summary>The key of <paramref name="chair"/> at this engine's site.</summary>
    public ChairKey KeyOf(string chair) => new(Site, chair);

    /// <summary>The running session at <paramref name="chair"/>, if any.</summary>
    public InfusionSession? SessionAt(string chair) => chairs.Find(KeyOf(chair))?.Session;

    /// <summary>The effective profile of <paramref name="chair"/> (profile, chair and session overrides applied).</summary>
    public AlarmProfile ProfileFor(string chair) => Configuration.Resolve(chair, SessionAt(chair));

    /// <inheritdoc />
    public void Observe(Observation observation, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(observation);
        ArgumentNullException.ThrowIfNull(events);
        var at = observation.ReceivedAt;
        var chair = chairs.Get(new ChairKey(observation.Site, observation.Chair));
        signals.Received(chair, at, events);

        // Sensor problems (invalid, impossible or probe-off values) are not patient states: never judged, and the sign's loss timer runs on.
        var problem = SensorPlausibility.Problem(observation.Sign, observation.Value, observation.Quality);
        signals.Reading(chair, observation.Sign, problem, at, events);
        if (problem is not null)
        {
            return;
        }

        if (JudgedAs(chair, observation.Sign, at) is not { } sign)
        {
            return;
        }

        if (sign.Info().Episodic)
        {
            sessions.NibpReceived(chair, at, events);
        }

        var rules = chair.Rules(Configuration).For(sign);
        var timing = rules.Timing;
        var verdicts = this.verdicts;
        verdicts.Reset();
        RuleEvaluator.Limits(rules, sign, observation.Value, timing.ClearMargin, verdicts);
        RuleEvaluator.BaselineChanges(rules, chair.Baseline, sign, observation.Value, timing.ClearMargin, verdicts);
        RuleEvaluator.RatesOfChange(rules, sign, observation.Value, at, chair.HistoryOf(sign), timing.ClearMargin, verdicts);
        Keep(chair, sign, new Reading(at, observation.Value));
        foreach (ref readonly var verdict in verdicts.AsSpan()) // by reference: a verdict is about 80 bytes
        {
            conditions.Judge(chair, verdict, timing, at, events);
        }
    }

    /// <summary>
    /// Since when <see cref="Recall"/> needs the stored readings of each sign, after <see cref="Restore"/> at
    /// <paramref name="now"/>: only the signs the rate-of-change rules of the configured profiles and the baseline
    /// proposal read, over their windows (default profiles: heart and pulse rate and respiration 5 min, NIBP 15 min;
    /// not SpO2 or temperature). A chair restored awaiting baseline confirmation reaches back to its pre-infusion window.
    /// </summary>
    public IReadOnlyDictionary<Sign, DateTimeOffset> RecallFrom(DateTimeOffset now) => Needs().RecallFrom(chairs.All, now);

    /// <summary>
    /// How many readings of <paramref name="sign"/> the history of <paramref name="chair"/> holds (pulse rate is kept as
    /// heart rate): those its rules read, and up to <see cref="ChairState.TrimBatch"/> - 1 older ones not yet dropped.
    /// </summary>
    public int ReadingsKept(string chair, Sign sign) => chairs.Find(KeyOf(chair))?.Kept(sign) ?? 0;

    /// <summary>
    /// Puts readings back into the history that rate-of-change and baseline rules compare with, after <see cref="Restore"/>:
    /// the store already holds every reading durably, so the engine state saved for restarts leaves them out. Give the
    /// stored readings <see cref="RecallFrom"/> asks for, oldest first. They are kept exactly as <see cref="Observe"/>
    /// keeps them (sensor problems skipped, pulse rate standing in for heart rate, signs no rule reads left out) but not
    /// judged: their alarms are in the restored state.
    /// </summary>
    /// <returns>How many readings were given.</returns>
    public int Recall(IEnumerable<Observation> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var count = 0;
        foreach (var o in stored)
        {
            count++;
            var chair = chairs.Get(new ChairKey(o.Site, o.Chair));
            if (SensorPlausibility.Problem(o.Sign, o.Value, o.Quality) is null && JudgedAs(chair, o.Sign, o.ReceivedAt) is { } sign)
            {
                Keep(chair, sign, new Reading(o.ReceivedAt, o.Value));
            }
        }

        return count;
    }

    /// <inheritdoc />
    public void Tick(DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var chair in chairs.All.ToList())
        {
            conditions.Tick(chair, now, events);
            signals.Tick(chair, now, events);
            sessions.Tick(chair, now, events);
            checks.Tick(chair, now, events);
        }

        pause.Tick(now, events);
        book.Tick(now, events);
    }

    /// <summary>
    /// The gateway's wall clock was stepped by <paramref name="by"/> (NTP after boot, an admin setting the time): every
    /// time the engine keeps (condition onsets and samples, feed and sign last-seen, audio pauses, escalation and
    /// re-announce timers, sessions, checks, baselines, the readings rate rules compare with) moves with it, so each
    /// delay, timeout and pause keeps its real length on the new clock. The caller notices the step from a monotonic
    /// clock (<see cref="WallClockSteps"/>) and calls this before giving the engine anything read from the new clock.
    /// </summary>
    public void ClockStepped(TimeSpan by)
    {
        foreach (var chair in chairs.All)
        {
            chair.Shift(by);
        }

        book.Shift(by);
        pause.Shift(by);
    }

    /// <summary>Acknowledges one alarm: silences this occurrence; a latched alarm is cleared. False when there is nothing to acknowledge.</summary>
    public bool Acknowledge(string chair, string rule, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        return book.Acknowledge(KeyOf(chair), rule, user, now, events);
    }

    /// <summary>Acknowledges every unacknowledged alarm at <paramref name="chair"/>; returns how many.</summary>
    public int AcknowledgeChair(string chair, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        var key = KeyOf(chair);
        return book.At(key).Where(a => !a.Acknowledged).Count(a => book.Acknowledge(key, a.Rule, user, now, events));
    }

    /// <summary>
    /// Pauses audio at <paramref name="chair"/> (null or <see cref="AllChairs"/>: every chair) for at most
    /// <see cref="AlarmTiming.MaxPause"/>; longer requests are capped. Returns the pause granted. Alarms keep their states.
    /// </summary>
    public TimeSpan Pause(string? chair, string user, DateTimeOffset now, TimeSpan duration, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        ChairKey? key = chair is null or AllChairs ? null : KeyOf(chair);
        if (key is { } k)
        {
            chairs.Get(k); // a chair paused before its first reading is still a chair the snapshot must keep the pause of
        }

        return pause.Pause(key, user, now, duration, events);
    }

    /// <summary>Ends an audio pause early (null or <see cref="AllChairs"/>: the all-chairs pause).</summary>
    public void ResumeAudio(string? chair, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        pause.Resume(chair is null or AllChairs ? null : KeyOf(chair), user, now, events);
    }

    /// <summary>How long audio stays paused at <paramref name="chair"/> (zero when not paused), for the countdown.</summary>
    public TimeSpan PauseRemaining(string chair, DateTimeOffset now) => pause.Remaining(KeyOf(chair), now);

    /// <summary>
    /// Reports a technical condition: a device sensor exception at a chair (code such as <c>sensor_off</c>, rule
    /// <c>device.&lt;code&gt;</c>) or, with chair <see cref="GatewayChair"/>, a gateway fault such as a store or
    /// forwarder failure. Raised at once while <paramref name="active"/>, cleared when it is reported inactive.
    /// </summary>
    public void ReportTechnical(
        string chair, string code, string text, bool active, DateTimeOffset now, List<AlarmEvent> events, AlarmPriority priority = AlarmPriority.Medium)
    {
        ArgumentNullException.ThrowIfNull(events);
        var prefix = chair == GatewayChair ? "gateway." : "device.";
        var key = KeyOf(chair);
        chairs.Get(key);
        book.SetTechnical(key, prefix + code, active ? priority : null, active ? text : $"{text} (resolved)", now, events);
    }

    /// <summary>
    /// Reports a store or forwarder failure (rule <c>gateway.&lt;code&gt;</c>, for example <c>gateway.store</c>). Reported
    /// again with a higher <paramref name="priority"/> while active, the alarm escalates.
    /// </summary>
    public void ReportGatewayFault(
        string code, string text, bool active, DateTimeOffset now, List<AlarmEvent> events, AlarmPriority priority = AlarmPriority.Medium) =>
        ReportTechnical(GatewayChair, code, text, active, now, events, priority);

    /// <summary>
    /// Starts an infusion session at its chair: a new baseline is needed, nursing checks are scheduled if the
    /// profile has them, and magnesium rates are checked. Returns the magnesium warnings (also raised as <c>mg.rate</c>).
    /// Throws <see cref="ArgumentException"/> naming the field when the session is invalid.
    /// </summary>
    public IReadOnlyList<string> StartSession(InfusionSession session, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(events);
        return sessions.Start(KeyOf(session.Chair), session, now, events);
    }

    /// <summary>Replaces the running session's details (rate, dose, ...) and re-checks magnesium rates; returns the warnings.</summary>
    public IReadOnlyList<string> UpdateSession(InfusionSession session, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(session);
        return sessions.Update(KeyOf(session.Chair), session, now, events);
    }

    /// <summary>
    /// Stops the session at <paramref name="chair"/>: baseline, checks and session alarms end, and the chair's feed is no
    /// longer watched until it sends again. Latched alarms stay until acknowledged. Returns the stopped session.
    /// </summary>
    public InfusionSession? StopSession(string chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        return sessions.Stop(KeyOf(chair), now, events);
    }

    /// <summary>Stops watching a chair's feed (monitor unplugged on purpose); watching resumes with its next observation.</summary>
    public void ReleaseChair(string chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (chairs.Find(KeyOf(chair)) is { } state)
        {
            signals.Release(state, "Chair released: feed no longer watched", now, events);
        }
    }

    /// <summary>Sets (or with null removes) a per-session override on the running session at <paramref name="chair"/>.</summary>
    public ConfigResult SetSessionOverride(string chair, string key, double? value, string user, DateTimeOffset now) =>
        sessions.SetOverride(KeyOf(chair), key, value, user, now);

    /// <summary>Where the baseline of <paramref name="chair"/> stands, with the reason baseline rules are inactive.</summary>
    public BaselineStatus GetBaselineStatus(string chair, DateTimeOffset now) => baselines.Status(KeyOf(chair), now);

    /// <summary>
    /// Confirms the chair's baseline: the proposal from pre-infusion readings, or <paramref name="entered"/> when a nurse
    /// enters values by hand. Baseline rules become active. Returns the resulting status (still collecting when there is
    /// nothing to confirm). The host logs the confirmation.
    /// </summary>
    public BaselineStatus ConfirmBaseline(string chair, string user, DateTimeOffset now, Baseline? entered = null) =>
        baselines.Confirm(KeyOf(chair), user, now, entered);

    /// <summary>
    /// Confirms a nursing check (patellar reflex, urine output, consciousness): clears its prompt and schedules the next,
    /// every 15 min during loading and hourly after. False when the chair has no such check.
    /// </summary>
    public bool ConfirmCheck(string chair, string checkId, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        return checks.Confirm(KeyOf(chair), checkId, user, now, events);
    }

    /// <summary>When each nursing check at <paramref name="chair"/> is next due.</summary>
    public IReadOnlyList<CheckDue> ChecksDue(string chair) => checks.Due(KeyOf(chair));

    /// <summary>Everything the dashboard shows about one chair's alarms at <paramref name="now"/>.</summary>
    public ChairAlarmStatus StatusOf(string chair, DateTimeOffset now) => new(
        chair,
        book.At(KeyOf(chair)),
        PauseRemaining(chair, now),
        GetBaselineStatus(chair, now),
        ChecksDue(chair),
        SessionAt(chair),
        chairs.Find(KeyOf(chair))?.MagnesiumWarnings ?? []);

    /// <summary>
    /// The engine state to persist for restart recovery: alarms, sessions, baselines, pauses and checks, small and
    /// changing only with them. Readings are not in it (the store has them; see <see cref="Recall"/>). Plain records;
    /// serialize with System.Text.Json.
    /// </summary>
    public AlarmEngineSnapshot Snapshot() => EngineSnapshots.Take(chairs, book, pause);

    /// <summary>
    /// Replaces the engine state with <paramref name="snapshot"/> after a restart. Alarms come back as they were
    /// (latched and acknowledged included); chairs with a session or an alarm are watched again, with their feed timers
    /// starting at <paramref name="now"/>. Condition timers start afresh from the next readings. The readings rate and
    /// baseline rules compare with come back through <see cref="Recall"/>, called next.
    /// </summary>
    public void Restore(AlarmEngineSnapshot snapshot, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);

        // A snapshot with transitions after now was saved on a clock ahead of this one (a box without a real-time clock
        // restarted on an older time): restored as of its own latest time, then stepped back to now, so its timers keep
        // their lengths here and move forward with the NTP step that follows instead of standing still until then.
        var asOf = EngineSnapshots.Latest(snapshot) is { } latest && latest > now ? latest : now;
        EngineSnapshots.Restore(snapshot, asOf, chairs, book, pause);
        if (asOf > now)
        {
            ClockStepped(now - asOf);
        }
    }

    /// <summary>Keeps a judged reading in the chair's history if a rule reads its sign, over the span the rules need.</summary>
    private void Keep(ChairState chair, Sign sign, Reading reading)
    {
        var needs = Needs();
        if (needs.Span(sign) == TimeSpan.Zero)
        {
            chair.Forget(sign);
        }
        else if (chair.Spaced(sign, reading.At)) // most readings of a fast feed are not kept: their span is not worked out
        {
            chair.Record(sign, reading, needs.KeepFrom(chair, sign, reading.At)!.Value);
        }
    }

    /// <summary>What the history must hold, worked out again when the configuration changed (a profile added at runtime).</summary>
    private HistoryNeeds Needs() => needs.Version == Configuration.Version ? needs : needs = new HistoryNeeds(Configuration);

    /// <summary>The sign a reading counts as (null: not judged), noting when heart rate last came.</summary>
    private Sign? JudgedAs(ChairState chair, Sign sign, DateTimeOffset at)
    {
        if (sign == Sign.Hr)
        {
            chair.LastHrAt = at;
        }
        else if (sign == Sign.Pr)
        {
            // Pulse rate stands in for heart rate only when no ECG rate is coming, so one heart gives one alarm.
            if (chair.LastHrAt is { } hrAt && at - hrAt < Configuration.Timing.PulseRateFallbackAfter)
            {
                return null;
            }

            return Sign.Hr;
        }

        return sign;
    }
}
