using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>
/// The alarm engine: absolute limits, change from a confirmed baseline, rate of change, and technical conditions,
/// with condition delays, clear hysteresis, latching, acknowledge and re-announce, escalation and audio pause.
/// Pure and deterministic: time comes only from observations' <see cref="Observation.ReceivedAt"/> and the
/// <c>now</c> arguments (one clock: the gateway's, since device clocks drift). Every transition is appended to the
/// caller's event list. Not thread-safe: call from one thread (the pipeline's alarm stage).
/// </summary>
public sealed class AlarmEngine : IAlarmEngine
{
    /// <summary>Chair id of gateway-wide technical alarms (store or forwarder failure).</summary>
    public const string GatewayChair = "gateway";

    /// <summary>Chair id used in pause events that apply to every chair.</summary>
    public const string AllChairs = "*";

    /// <summary>Rule id of the feed-lost technical alarm.</summary>
    public const string FeedLostRule = "feed.lost";

    /// <summary>Rule id of the NIBP-overdue technical alarm.</summary>
    public const string NibpOverdueRule = "nibp.overdue";

    /// <summary>Rule id of the magnesium rate warning.</summary>
    public const string MagnesiumRateRule = "mg.rate";

    /// <summary>Rule id carried by audio pause and resume events.</summary>
    public const string PauseRule = "audio.pause";

    /// <summary>Prefix of nursing check prompt rule ids (<c>check.patellar_reflex</c>).</summary>
    public const string CheckRulePrefix = "check.";

    private static readonly TimeSpan HistoryKept = TimeSpan.FromMinutes(30);

    private readonly string site;
    private readonly SortedDictionary<string, ChairState> chairs = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Chair, string Rule), ActiveAlarm> alarms = [];
    private DateTimeOffset? allPausedUntil;

    /// <summary>Creates an engine with <paramref name="configuration"/> (or the built-in profiles and default timing).</summary>
    /// <param name="configuration">Profiles, overrides and timing.</param>
    /// <param name="site">Site used for events of chairs that have not sent data yet and for gateway-wide alarms.</param>
    public AlarmEngine(AlarmConfiguration? configuration = null, string site = "default")
    {
        Configuration = configuration ?? new AlarmConfiguration();
        this.site = site;
    }

    /// <summary>Profiles, overrides and timing; change them through its methods, which validate and audit.</summary>
    public AlarmConfiguration Configuration { get; }

    private AlarmTiming Timing => Configuration.Timing;

    /// <inheritdoc />
    public IReadOnlyList<AlarmEvent> Active => [.. Ordered().Select(a => a.ToEvent(a.State, a.ChangedAt, a.AcknowledgedBy))];

    /// <summary>Every uncleared alarm (active, latched or acknowledged), ordered by chair and rule.</summary>
    public IReadOnlyList<ActiveAlarm> Alarms => [.. Ordered()];

    /// <summary>The running session at <paramref name="chair"/>, if any.</summary>
    public InfusionSession? SessionAt(string chair) => chairs.GetValueOrDefault(chair)?.Session;

    /// <summary>The effective profile of <paramref name="chair"/> (profile, chair and session overrides applied).</summary>
    public AlarmProfile ProfileFor(string chair) => Configuration.Resolve(chair, SessionAt(chair));

    /// <inheritdoc />
    public void Observe(Observation observation, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(observation);
        ArgumentNullException.ThrowIfNull(events);
        var at = observation.ReceivedAt;
        var chair = GetChair(observation.Site, observation.Chair);
        chair.Site = observation.Site;
        chair.LastReceived = at;
        chair.WatchFeed = true;
        SetTechnical(chair, FeedLostRule, null, "Monitor data flowing again", at, events);
        // Invalid or physiologically impossible values are device errors, not patient states: not judged.
        var info = observation.Sign.Info();
        if (observation.Quality.HasFlag(ObservationQuality.Invalid) || !double.IsFinite(observation.Value)
            || observation.Value < info.HardMin || observation.Value > info.HardMax)
        {
            return;
        }

        var sign = observation.Sign;
        if (sign == Sign.Hr)
        {
            chair.LastHrAt = at;
        }
        else if (sign == Sign.Pr)
        {
            // Pulse rate stands in for heart rate only when no ECG rate is coming, so one heart gives one alarm.
            if (chair.LastHrAt is { } hrAt && at - hrAt < Timing.PulseRateFallbackAfter)
            {
                return;
            }

            sign = Sign.Hr;
        }

        if (sign.Info().Episodic)
        {
            chair.LastNibpAt = at;
            SetTechnical(chair, NibpOverdueRule, null, "NIBP reading received", at, events);
        }

        var profile = ProfileFor(chair.Chair);
        var timing = profile.TimingFor(sign);
        var history = chair.HistoryOf(sign);
        var verdicts = RuleEvaluator.Limits(profile, sign, observation.Value, timing.ClearMargin)
            .Concat(RuleEvaluator.BaselineChanges(profile, chair.Baseline, sign, observation.Value, timing.ClearMargin))
            .Concat(RuleEvaluator.RatesOfChange(profile, sign, observation.Value, at, history, timing.ClearMargin))
            .ToList();
        chair.Record(sign, new Reading(at, observation.Value), HistoryKept);
        foreach (var verdict in verdicts)
        {
            Judge(chair, verdict, timing, at, events);
        }
    }

    /// <inheritdoc />
    public void Tick(DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var chair in chairs.Values.ToList())
        {
            TickConditions(chair, now, events);
            TickFeed(chair, now, events);
            TickSession(chair, now, events);
            if (chair.PausedUntil is { } until && now >= until)
            {
                chair.PausedUntil = null;
                events.Add(PauseEvent(chair.Site, chair.Chair, AlarmState.Resumed, null, "Audio pause ended", now, null));
            }
        }

        if (allPausedUntil is { } all && now >= all)
        {
            EndAllPause();
            events.Add(PauseEvent(site, AllChairs, AlarmState.Resumed, null, "Audio pause ended (all chairs)", now, null));
        }

        foreach (var alarm in Ordered())
        {
            if (alarm is { Acknowledged: true, ConditionActive: true, AcknowledgedAt: { } ackAt } && now - ackAt >= Timing.Reannounce)
            {
                // Acknowledge silences one occurrence only: while the condition persists it comes back.
                var again = alarm with { State = AlarmState.Reannounced, Acknowledged = false, AnnouncedAt = now, ChangedAt = now };
                Store(again);
                events.Add(again.ToEvent(AlarmState.Reannounced, now));
            }
            else if (alarm is { Acknowledged: false, Priority: AlarmPriority.Medium } && now - alarm.AnnouncedAt >= Timing.EscalateAfter)
            {
                var minutes = Timing.EscalateAfter.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture);
                Escalate(alarm, AlarmPriority.High, $"{alarm.Message} (unacknowledged for {minutes} min)", now, events);
            }
        }
    }

    /// <summary>Acknowledges one alarm: silences this occurrence; a latched alarm is cleared. False when there is nothing to acknowledge.</summary>
    public bool Acknowledge(string chair, string rule, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (!alarms.TryGetValue((chair, rule), out var alarm) || alarm.Acknowledged)
        {
            return false;
        }

        var acked = alarm with { State = AlarmState.Acknowledged, Acknowledged = true, AcknowledgedAt = now, AcknowledgedBy = user, ChangedAt = now };
        events.Add(acked.ToEvent(AlarmState.Acknowledged, now, user));
        if (alarm.ConditionActive)
        {
            Store(acked);
        }
        else
        {
            alarms.Remove((chair, rule));
            events.Add(acked.ToEvent(AlarmState.Cleared, now, user, $"{alarm.Message} (acknowledged after the condition ended)"));
        }

        return true;
    }

    /// <summary>Acknowledges every unacknowledged alarm at <paramref name="chair"/>; returns how many.</summary>
    public int AcknowledgeChair(string chair, string user, DateTimeOffset now, List<AlarmEvent> events) =>
        Ordered().Where(a => a.Chair == chair && !a.Acknowledged).ToList().Count(a => Acknowledge(a.Chair, a.Rule, user, now, events));

    /// <summary>
    /// Pauses audio at <paramref name="chair"/> (null or <see cref="AllChairs"/>: every chair) for at most
    /// <see cref="AlarmTiming.MaxPause"/>; longer requests are capped. Returns the pause granted. Alarms keep their states.
    /// </summary>
    public TimeSpan Pause(string? chair, string user, DateTimeOffset now, TimeSpan duration, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "An audio pause must last longer than zero.");
        }

        var granted = duration > Timing.MaxPause ? Timing.MaxPause : duration;
        var text = string.Format(CultureInfo.InvariantCulture, "Audio paused for {0:0} s", granted.TotalSeconds);
        if (chair is null or AllChairs)
        {
            EndAllPause();
            allPausedUntil = now + granted;
            events.Add(PauseEvent(site, AllChairs, AlarmState.Paused, granted, text + " (all chairs)", now, user));
        }
        else
        {
            var state = GetChair(site, chair);
            state.PausedUntil = now + granted;
            events.Add(PauseEvent(state.Site, chair, AlarmState.Paused, granted, text, now, user));
        }

        return granted;
    }

    /// <summary>Ends an audio pause early (null or <see cref="AllChairs"/>: the all-chairs pause).</summary>
    public void ResumeAudio(string? chair, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (chair is null or AllChairs)
        {
            if (allPausedUntil is { } until && until > now)
            {
                EndAllPause();
                events.Add(PauseEvent(site, AllChairs, AlarmState.Resumed, null, "Audio resumed (all chairs)", now, user));
            }
        }
        else if (chairs.TryGetValue(chair, out var state) && state.PausedUntil is { } until && until > now)
        {
            state.PausedUntil = null;
            events.Add(PauseEvent(state.Site, chair, AlarmState.Resumed, null, "Audio resumed", now, user));
        }
    }

    /// <summary>How long audio stays paused at <paramref name="chair"/> (zero when not paused), for the countdown.</summary>
    public TimeSpan PauseRemaining(string chair, DateTimeOffset now)
    {
        var state = chairs.GetValueOrDefault(chair);
        var remaining = TimeSpan.Zero;
        if (state?.PausedUntil is { } until && until > now)
        {
            remaining = until - now;
        }

        if (allPausedUntil is { } all && all > now && state is not { BrokeThroughAllPause: true } && all - now > remaining)
        {
            remaining = all - now;
        }

        return remaining;
    }

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
        SetTechnical(GetChair(site, chair), prefix + code, active ? priority : null, active ? text : $"{text} (resolved)", now, events);
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
        var errors = session.Validate().Concat(Configuration.ValidateSession(session.Chair, session)).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(session));
        }

        var chair = GetChair(site, session.Chair);
        if (chair.Session is { } running && running.Id != session.Id)
        {
            throw new InvalidOperationException($"Chair {session.Chair} already has session {running.Id}; stop it first.");
        }

        chair.Session = session;
        chair.Baseline = null;
        chair.WatchFeed = true;
        chair.LastReceived ??= now;
        chair.ChecksDue.Clear();
        foreach (var check in ProfileFor(chair.Chair).Checks)
        {
            chair.ChecksDue[check.Id] = session.StartedAt + Timing.CheckLoadingInterval;
        }

        return CheckMagnesium(chair, now, events);
    }

    /// <summary>Replaces the running session's details (rate, dose, ...) and re-checks magnesium rates; returns the warnings.</summary>
    public IReadOnlyList<string> UpdateSession(InfusionSession session, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(session);
        var chair = chairs.GetValueOrDefault(session.Chair);
        if (chair?.Session?.Id != session.Id)
        {
            throw new InvalidOperationException($"Session {session.Id} is not running at chair {session.Chair}.");
        }

        var errors = session.Validate().Concat(Configuration.ValidateSession(session.Chair, session)).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(session));
        }

        chair.Session = session;
        return CheckMagnesium(chair, now, events);
    }

    /// <summary>
    /// Stops the session at <paramref name="chair"/>: baseline, checks and session alarms end, and the chair's feed is no
    /// longer watched until it sends again. Latched alarms stay until acknowledged. Returns the stopped session.
    /// </summary>
    public InfusionSession? StopSession(string chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (chairs.GetValueOrDefault(chair) is not { Session: { } session } state)
        {
            return null;
        }

        state.Session = null;
        state.Baseline = null;
        state.ChecksDue.Clear();
        state.MagnesiumWarnings = [];
        foreach (var alarm in Ordered().Where(a => a.Chair == chair && a.ConditionActive && IsSessionRule(a.Rule)).ToList())
        {
            EndCondition(alarm, $"{alarm.Message} (infusion session stopped)", alarm.Value, now, events);
        }

        foreach (var rule in state.Tracks.Keys.Where(IsSessionRule).ToList())
        {
            state.Tracks.Remove(rule);
        }

        ReleaseChair(chair, now, events);
        return session with { StoppedAt = now };
    }

    /// <summary>Stops watching a chair's feed (monitor unplugged on purpose); watching resumes with its next observation.</summary>
    public void ReleaseChair(string chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (chairs.GetValueOrDefault(chair) is { } state)
        {
            state.WatchFeed = false;
            SetTechnical(state, FeedLostRule, null, "Chair released: feed no longer watched", now, events);
        }
    }

    /// <summary>Sets (or with null removes) a per-session override on the running session at <paramref name="chair"/>.</summary>
    public ConfigResult SetSessionOverride(string chair, string key, double? value, string user, DateTimeOffset now)
    {
        if (chairs.GetValueOrDefault(chair) is not { Session: { } session } state)
        {
            return ConfigResult.Fail($"session: no running session at chair {chair}");
        }

        var overrides = new SortedDictionary<string, double>(session.Overrides?.ToDictionary() ?? [], StringComparer.Ordinal);
        var old = overrides.TryGetValue(key, out var o) ? AlarmConfiguration.Format(o) : AlarmConfiguration.Read(Configuration.Resolve(chair, session), key);
        if (value is { } v)
        {
            overrides[key] = v;
        }
        else
        {
            overrides.Remove(key);
        }

        var candidate = session with { Overrides = overrides };
        var errors = Configuration.ValidateSession(chair, candidate);
        if (errors.Count > 0)
        {
            return new ConfigResult(errors, null);
        }

        state.Session = candidate;
        return Configuration.Accepted(user, now, ConfigScope.Session, session.Id, key, old, AlarmConfiguration.Format(value));
    }

    /// <summary>Where the baseline of <paramref name="chair"/> stands, with the reason baseline rules are inactive.</summary>
    public BaselineStatus GetBaselineStatus(string chair, DateTimeOffset now)
    {
        if (chairs.GetValueOrDefault(chair) is not { Session: { } } state)
        {
            return new BaselineStatus(BaselineState.NoSession, null, "No infusion session: change-from-baseline alarms inactive");
        }

        if (state.Baseline is { } confirmed)
        {
            return new BaselineStatus(BaselineState.Confirmed, confirmed,
                string.Format(CultureInfo.InvariantCulture, "Baseline confirmed by {0} at {1:HH:mm}", confirmed.ConfirmedBy, confirmed.ConfirmedAt));
        }

        var proposal = Propose(state, now, out var reason);
        return proposal is null
            ? new BaselineStatus(BaselineState.Collecting, null, $"Baseline not confirmed: {reason}; change-from-baseline alarms inactive")
            : new BaselineStatus(BaselineState.Proposed, proposal, "Baseline not confirmed: a proposal awaits a nurse; change-from-baseline alarms inactive");
    }

    /// <summary>
    /// Confirms the chair's baseline: the proposal from pre-infusion readings, or <paramref name="entered"/> when a nurse
    /// enters values by hand. Baseline rules become active. Returns the resulting status (still collecting when there is
    /// nothing to confirm). The host logs the confirmation.
    /// </summary>
    public BaselineStatus ConfirmBaseline(string chair, string user, DateTimeOffset now, Baseline? entered = null)
    {
        if (chairs.GetValueOrDefault(chair) is not { Session: { } } state)
        {
            return GetBaselineStatus(chair, now);
        }

        if (entered is not null)
        {
            var bad = entered.OutOfBounds().Select(s => s.ShortName()).ToList();
            if (bad.Count > 0)
            {
                throw new ArgumentException($"baseline: {string.Join(", ", bad)} outside the physiological bounds", nameof(entered));
            }
        }

        var baseline = entered ?? Propose(state, now, out _);
        if (baseline is null)
        {
            return GetBaselineStatus(chair, now);
        }

        state.Baseline = baseline with { ConfirmedBy = user, ConfirmedAt = now };
        return GetBaselineStatus(chair, now);
    }

    /// <summary>
    /// Confirms a nursing check (patellar reflex, urine output, consciousness): clears its prompt and schedules the next,
    /// every 15 min during loading and hourly after. False when the chair has no such check.
    /// </summary>
    public bool ConfirmCheck(string chair, string checkId, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (chairs.GetValueOrDefault(chair) is not { Session: { } session } state || !state.ChecksDue.ContainsKey(checkId))
        {
            return false;
        }

        var loadingEnds = session.StartedAt + (session.LoadingDuration ?? Timing.DefaultLoadingDuration);
        state.ChecksDue[checkId] = now + (now < loadingEnds ? Timing.CheckLoadingInterval : Timing.CheckMaintenanceInterval);
        if (alarms.TryGetValue((chair, CheckRulePrefix + checkId), out var prompt))
        {
            var confirmed = prompt with { State = AlarmState.Acknowledged, Acknowledged = true, AcknowledgedAt = now, AcknowledgedBy = user, ChangedAt = now };
            alarms.Remove((chair, prompt.Rule));
            events.Add(confirmed.ToEvent(AlarmState.Acknowledged, now, user, $"{prompt.Message}: confirmed"));
            events.Add(confirmed.ToEvent(AlarmState.Cleared, now, user, $"{prompt.Message}: confirmed"));
        }

        return true;
    }

    /// <summary>When each nursing check at <paramref name="chair"/> is next due.</summary>
    public IReadOnlyList<CheckDue> ChecksDue(string chair) =>
        chairs.GetValueOrDefault(chair) is { } state ? [.. state.ChecksDue.Select(p => new CheckDue(p.Key, p.Value))] : [];

    /// <summary>Everything the dashboard shows about one chair's alarms at <paramref name="now"/>.</summary>
    public ChairAlarmStatus StatusOf(string chair, DateTimeOffset now) => new(
        chair,
        [.. Ordered().Where(a => a.Chair == chair)],
        PauseRemaining(chair, now),
        GetBaselineStatus(chair, now),
        ChecksDue(chair),
        SessionAt(chair),
        chairs.GetValueOrDefault(chair)?.MagnesiumWarnings ?? []);

    /// <summary>The engine state to persist for restart recovery. Plain records; serialize with System.Text.Json.</summary>
    public AlarmEngineSnapshot Snapshot() => new(
        [.. Ordered()],
        [.. chairs.Values
            .Where(c => c.Session is not null || c.Baseline is not null || c.PausedUntil is not null)
            .Select(c => new ChairSnapshot(c.Site, c.Chair, c.Session, c.Baseline, c.PausedUntil,
                [.. c.ChecksDue.Select(p => new CheckDue(p.Key, p.Value))], c.LastNibpAt, c.MagnesiumWarnings))],
        allPausedUntil);

    /// <summary>
    /// Replaces the engine state with <paramref name="snapshot"/> after a restart. Alarms come back as they were
    /// (latched and acknowledged included); chairs with a session or an alarm are watched again, with their feed
    /// timers starting at <paramref name="now"/>. Condition timers start afresh from the next readings.
    /// </summary>
    public void Restore(AlarmEngineSnapshot snapshot, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.FormatVersion != AlarmEngineSnapshot.CurrentFormat)
        {
            throw new NotSupportedException($"Alarm snapshot format {snapshot.FormatVersion} is not supported (expected {AlarmEngineSnapshot.CurrentFormat}).");
        }

        chairs.Clear();
        alarms.Clear();
        allPausedUntil = snapshot.AllPausedUntil;
        foreach (var c in snapshot.Chairs)
        {
            var state = GetChair(c.Site, c.Chair);
            state.Session = c.Session;
            state.Baseline = c.Baseline;
            state.PausedUntil = c.PausedUntil;
            state.LastNibpAt = c.LastNibpAt;
            state.MagnesiumWarnings = c.MagnesiumWarnings;
            foreach (var check in c.ChecksDue)
            {
                state.ChecksDue[check.CheckId] = check.DueAt;
            }
        }

        foreach (var alarm in snapshot.Alarms)
        {
            alarms[(alarm.Chair, alarm.Rule)] = alarm;
            GetChair(alarm.Site, alarm.Chair);
        }

        foreach (var state in chairs.Values.Where(c => c.Chair != GatewayChair && (c.Session is not null || alarms.Keys.Any(k => k.Chair == c.Chair))))
        {
            state.WatchFeed = true;
            state.LastReceived = now;
        }
    }

    private static bool IsSessionRule(string rule) =>
        rule is NibpOverdueRule or MagnesiumRateRule || rule.StartsWith(CheckRulePrefix, StringComparison.Ordinal)
        || rule.EndsWith(".drop", StringComparison.Ordinal) || rule.EndsWith(".rise", StringComparison.Ordinal);

    private void Judge(ChairState chair, Verdict verdict, SignTiming timing, DateTimeOffset at, List<AlarmEvent> events)
    {
        var track = chair.Track(verdict.Rule);
        track.Last = verdict;
        track.LastAt = at;
        track.Delay = timing.ConditionDelay;
        track.ClearTime = timing.ClearTime;
        alarms.TryGetValue((chair.Chair, verdict.Rule), out var alarm);
        if (verdict.Priority is { } priority)
        {
            track.ClearSince = null;
            track.PendingSince ??= at;
            if (alarm is { ConditionActive: true })
            {
                var updated = alarm with { Value = verdict.Value, Limit = verdict.Limit, Message = verdict.Message };
                if (priority > alarm.Priority)
                {
                    Escalate(updated, priority, verdict.Message, at, events);
                }
                else
                {
                    Store(updated);
                }
            }
            else if (at - track.PendingSince.Value >= track.Delay)
            {
                Raise(chair, verdict.Rule, verdict.Sign, AlarmKind.Physiological, priority, verdict.Value, verdict.Limit, verdict.Message, at, events);
            }

            return;
        }

        // Not violated: the condition delay starts over; clearing needs a value inside by the margin, for the clear time.
        track.PendingSince = null;
        if (alarm is not { ConditionActive: true } || !verdict.Clear)
        {
            track.ClearSince = null;
            return;
        }

        track.ClearSince ??= at;
        if (at - track.ClearSince.Value >= track.ClearTime)
        {
            track.ClearSince = null;
            EndCondition(alarm, verdict.Message, verdict.Value, at, events);
        }
    }

    private void TickConditions(ChairState chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        foreach (var (rule, track) in chair.Tracks)
        {
            // Stale data neither raises nor clears: a lost feed is its own alarm.
            if (now - track.LastAt > Timing.FeedLostMedium)
            {
                continue;
            }

            alarms.TryGetValue((chair.Chair, rule), out var alarm);
            if (track.Last.Priority is { } priority && track.PendingSince is { } since && alarm is not { ConditionActive: true } && now - since >= track.Delay)
            {
                var v = track.Last;
                Raise(chair, rule, v.Sign, AlarmKind.Physiological, priority, v.Value, v.Limit, v.Message, now, events);
            }
            else if (track.ClearSince is { } clearSince && alarm is { ConditionActive: true } && now - clearSince >= track.ClearTime)
            {
                track.ClearSince = null;
                EndCondition(alarm, track.Last.Message, track.Last.Value, now, events);
            }
        }
    }

    private void TickFeed(ChairState chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (!chair.WatchFeed || chair.LastReceived is not { } last)
        {
            return;
        }

        var gap = now - last;
        var priority = gap >= Timing.FeedLostHigh ? AlarmPriority.High : gap >= Timing.FeedLostMedium ? AlarmPriority.Medium : (AlarmPriority?)null;
        if (priority is { } p && (!alarms.TryGetValue((chair.Chair, FeedLostRule), out var current) || current.Priority < p))
        {
            var threshold = p == AlarmPriority.High ? Timing.FeedLostHigh : Timing.FeedLostMedium;
            var text = string.Format(CultureInfo.InvariantCulture, "No data from the monitor for {0:0} s", threshold.TotalSeconds);
            SetTechnical(chair, FeedLostRule, p, text, now, events, gap.TotalSeconds, threshold.TotalSeconds);
        }
    }

    private void TickSession(ChairState chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (chair.Session is not { } session || !session.IsRunningAt(now))
        {
            return;
        }

        var cycle = session.NibpCycle ?? Timing.DefaultNibpCycle;
        var since = chair.LastNibpAt is { } nibpAt && nibpAt > session.StartedAt ? nibpAt : session.StartedAt;
        if (now - since >= cycle + Timing.NibpOverdueGrace && !alarms.ContainsKey((chair.Chair, NibpOverdueRule)))
        {
            var text = string.Format(CultureInfo.InvariantCulture, "NIBP overdue: no cuff reading for {0:0} min (cycle {1:0} min + {2:0} min)",
                (now - since).TotalMinutes, cycle.TotalMinutes, Timing.NibpOverdueGrace.TotalMinutes);
            SetTechnical(chair, NibpOverdueRule, AlarmPriority.Medium, text, now, events, (now - since).TotalMinutes, (cycle + Timing.NibpOverdueGrace).TotalMinutes);
        }

        var checks = ProfileFor(chair.Chair).Checks;
        foreach (var (id, due) in chair.ChecksDue)
        {
            var rule = CheckRulePrefix + id;
            if (now >= due && !alarms.ContainsKey((chair.Chair, rule)))
            {
                var label = checks.FirstOrDefault(c => c.Id == id)?.Label ?? id;
                Raise(chair, rule, null, AlarmKind.Physiological, AlarmPriority.Low, null, null, $"{label} and confirm", now, events);
            }
        }
    }

    private IReadOnlyList<string> CheckMagnesium(ChairState chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        var session = chair.Session!;
        var warnings = MagnesiumChecks.Check(session, Timing.Magnesium);
        chair.MagnesiumWarnings = warnings;
        SetTechnical(chair, MagnesiumRateRule, warnings.Count > 0 ? AlarmPriority.Medium : null,
            warnings.Count > 0 ? string.Join("; ", warnings) : "Magnesium rate within the configured limits", now, events,
            session.RateGramsPerHour, Timing.Magnesium.MaxRateGramsPerHour);
        return warnings;
    }

    private void SetTechnical(
        ChairState chair, string rule, AlarmPriority? priority, string message, DateTimeOffset at, List<AlarmEvent> events,
        double? value = null, double? limit = null)
    {
        alarms.TryGetValue((chair.Chair, rule), out var alarm);
        if (priority is not { } p)
        {
            if (alarm is not null)
            {
                EndCondition(alarm, message, value, at, events);
            }

            return;
        }

        if (alarm is null)
        {
            Raise(chair, rule, null, AlarmKind.Technical, p, value, limit, message, at, events);
        }
        else if (p > alarm.Priority)
        {
            Escalate(alarm with { Value = value, Limit = limit, Message = message }, p, message, at, events);
        }
        else if (alarm.Message != message)
        {
            Store(alarm with { Value = value, Limit = limit, Message = message });
        }
    }

    private void Raise(
        ChairState chair, string rule, Sign? sign, AlarmKind kind, AlarmPriority priority, double? value, double? limit, string message,
        DateTimeOffset at, List<AlarmEvent> events)
    {
        if (alarms.TryGetValue((chair.Chair, rule), out var latched))
        {
            // The condition came back while the alarm still latched: same occurrence, raised again, never lower.
            var higher = priority > latched.Priority;
            var back = latched with
            {
                ConditionActive = true,
                Priority = higher ? priority : latched.Priority,
                State = AlarmState.Raised,
                AnnouncedAt = higher ? at : latched.AnnouncedAt,
                ChangedAt = at,
                Value = value,
                Limit = limit,
                Message = message,
            };
            Store(back);
            events.Add(back.ToEvent(AlarmState.Raised, at));
            if (higher)
            {
                BreakThrough(chair, at, events);
            }

            return;
        }

        var alarm = new ActiveAlarm(chair.Site, chair.Chair, rule, sign, kind, priority, AlarmState.Raised, true, false, at, at, at, null, null, value, limit, message);
        Store(alarm);
        events.Add(alarm.ToEvent(AlarmState.Raised, at));
        if (priority >= AlarmPriority.Medium)
        {
            BreakThrough(chair, at, events);
        }
    }

    private void Escalate(ActiveAlarm alarm, AlarmPriority priority, string message, DateTimeOffset at, List<AlarmEvent> events)
    {
        // A higher priority is a new announcement: it undoes an acknowledgement and breaks through a pause.
        var escalated = alarm with { Priority = priority, State = AlarmState.Escalated, Acknowledged = false, AnnouncedAt = at, ChangedAt = at, Message = message };
        Store(escalated);
        events.Add(escalated.ToEvent(AlarmState.Escalated, at));
        BreakThrough(GetChair(alarm.Site, alarm.Chair), at, events);
    }

    private void EndCondition(ActiveAlarm alarm, string message, double? value, DateTimeOffset at, List<AlarmEvent> events)
    {
        if (alarm is { Kind: AlarmKind.Physiological, Priority: AlarmPriority.High, Acknowledged: false })
        {
            // IEC 60601-1-8 latching: a high-priority alarm nobody saw must stay until someone acknowledges it.
            var latched = alarm with { ConditionActive = false, State = AlarmState.Latched, ChangedAt = at, Value = value ?? alarm.Value };
            Store(latched);
            events.Add(latched.ToEvent(AlarmState.Latched, at, null, $"{alarm.Message} (condition ended; acknowledge to clear)"));
            return;
        }

        alarms.Remove((alarm.Chair, alarm.Rule));
        events.Add((alarm with { Value = value ?? alarm.Value }).ToEvent(AlarmState.Cleared, at, null, message));
    }

    private void BreakThrough(ChairState chair, DateTimeOffset at, List<AlarmEvent> events)
    {
        var ended = false;
        if (chair.PausedUntil is { } until && until > at)
        {
            chair.PausedUntil = null;
            ended = true;
        }

        if (allPausedUntil is { } all && all > at && !chair.BrokeThroughAllPause)
        {
            chair.BrokeThroughAllPause = true;
            ended = true;
        }

        if (ended)
        {
            events.Add(PauseEvent(chair.Site, chair.Chair, AlarmState.Resumed, null, "Audio pause ended: a new or higher-priority alarm breaks through", at, null));
        }
    }

    private void EndAllPause()
    {
        allPausedUntil = null;
        foreach (var chair in chairs.Values)
        {
            chair.BrokeThroughAllPause = false;
        }
    }

    private AlarmEvent PauseEvent(string eventSite, string chair, AlarmState state, TimeSpan? duration, string message, DateTimeOffset at, string? user) =>
        new(eventSite, chair, PauseRule, null, AlarmPriority.Low, AlarmKind.Technical, state, duration?.TotalSeconds, Timing.MaxPause.TotalSeconds, message, at, user);

    private Baseline? Propose(ChairState chair, DateTimeOffset now, out string reason)
    {
        var start = chair.Session!.StartedAt;
        return BaselineCalculator.Propose(chair.History(), start < now ? start : now, Timing, out reason);
    }

    private void Store(ActiveAlarm alarm) => alarms[(alarm.Chair, alarm.Rule)] = alarm;

    private IEnumerable<ActiveAlarm> Ordered() =>
        alarms.Values.OrderBy(a => a.Chair, StringComparer.Ordinal).ThenBy(a => a.Rule, StringComparer.Ordinal).ToList();

    private ChairState GetChair(string chairSite, string chair)
    {
        if (!chairs.TryGetValue(chair, out var state))
        {
            chairs[chair] = state = new ChairState(chairSite, chair);
        }

        return state;
    }

    /// <summary>Condition timing of one rule at one chair.</summary>
    private sealed class Track
    {
        public Verdict Last { get; set; }

        public DateTimeOffset LastAt { get; set; }

        public DateTimeOffset? PendingSince { get; set; }

        public DateTimeOffset? ClearSince { get; set; }

        public TimeSpan Delay { get; set; }

        public TimeSpan ClearTime { get; set; }
    }

    private sealed class ChairState(string site, string chair)
    {
        private readonly Dictionary<Sign, List<Reading>> history = [];

        public string Site { get; set; } = site;

        public string Chair { get; } = chair;

        public DateTimeOffset? LastReceived { get; set; }

        public bool WatchFeed { get; set; }

        public DateTimeOffset? LastHrAt { get; set; }

        public DateTimeOffset? LastNibpAt { get; set; }

        public InfusionSession? Session { get; set; }

        public Baseline? Baseline { get; set; }

        public DateTimeOffset? PausedUntil { get; set; }

        public bool BrokeThroughAllPause { get; set; }

        public IReadOnlyList<string> MagnesiumWarnings { get; set; } = [];

        public SortedDictionary<string, DateTimeOffset> ChecksDue { get; } = new(StringComparer.Ordinal);

        public SortedDictionary<string, Track> Tracks { get; } = new(StringComparer.Ordinal);

        public Track Track(string rule)
        {
            if (!Tracks.TryGetValue(rule, out var track))
            {
                Tracks[rule] = track = new Track();
            }

            return track;
        }

        public IReadOnlyList<Reading> HistoryOf(Sign sign) => history.TryGetValue(sign, out var list) ? list : [];

        public IReadOnlyDictionary<Sign, IReadOnlyList<Reading>> History() =>
            history.ToDictionary(p => p.Key, p => (IReadOnlyList<Reading>)p.Value);

        public void Record(Sign sign, Reading reading, TimeSpan keep)
        {
            if (!history.TryGetValue(sign, out var list))
            {
                history[sign] = list = [];
            }

            list.Add(reading);
            var cutoff = reading.At - keep;
            var stale = 0;
            while (stale < list.Count && list[stale].At < cutoff)
            {
                stale++;
            }

            if (stale > 0)
            {
                list.RemoveRange(0, stale);
            }
        }
    }
}
