namespace Vitals.Core.Alarms;

/// <summary>A fixed absolute limit on one sign.</summary>
/// <param name="Id">Stable rule id, for example <c>hr.low</c>.</param>
/// <param name="Sign">The sign judged.</param>
/// <param name="Below">Violated when the value is below this, if set.</param>
/// <param name="Above">Violated when the value is above this, if set.</param>
/// <param name="Priority">Priority when violated.</param>
/// <param name="ConditionDelay">How long a continuous sign must stay out of range before the alarm is raised.</param>
public sealed record LimitRule(string Id, Sign Sign, double? Below, double? Above, AlarmPriority Priority, TimeSpan ConditionDelay)
{
    /// <summary>The limit value this rule compares with.</summary>
    public double Limit => Below ?? Above ?? double.NaN;

    /// <summary>True when <paramref name="value"/> is outside this rule's limit.</summary>
    public bool IsViolatedBy(double value) => value < (Below ?? double.NegativeInfinity) || value > (Above ?? double.PositiveInfinity);

    /// <summary>True when <paramref name="value"/> is back inside the limit by at least <paramref name="margin"/>.</summary>
    public bool IsClearedBy(double value, double margin) =>
        (Below is not { } b || value >= b + margin) && (Above is not { } a || value <= a - margin);
}

/// <summary>
/// The walking skeleton's alarm rules: fixed HR and NIBP limits, a condition delay for continuous signs,
/// and feed loss. Deterministic: time comes only from observations and <see cref="Tick"/>.
/// Superseded by <see cref="AlarmEngine"/> (baselines, latching, escalation); kept until the gateway switches over.
/// </summary>
public sealed class FixedLimitAlarmEngine : IAlarmEngine
{
    /// <summary>Default condition delay for heart rate (IEC 60601-1-8 alarm condition delay; Görges 2009).</summary>
    public static readonly TimeSpan DefaultHrDelay = TimeSpan.FromSeconds(10);

    /// <summary>No data from a chair for this long raises a technical alarm.</summary>
    public static readonly TimeSpan DefaultFeedLossAfter = TimeSpan.FromSeconds(15);

    /// <summary>Rule id of the technical feed-lost alarm.</summary>
    public const string FeedLostRule = "feed.lost";

    private const double ClearMarginFraction = 0.02;

    private readonly IReadOnlyList<LimitRule> rules;
    private readonly TimeSpan feedLossAfter;
    private readonly Dictionary<(string Chair, string Rule), RuleState> states = [];
    private readonly Dictionary<string, ChairState> chairs = [];
    private readonly Dictionary<(string Chair, string Rule), AlarmEvent> active = [];

    /// <summary>Creates the engine with <paramref name="rules"/> (or <see cref="DefaultRules"/>).</summary>
    public FixedLimitAlarmEngine(IReadOnlyList<LimitRule>? rules = null, TimeSpan? feedLossAfter = null)
    {
        this.rules = rules ?? DefaultRules;
        this.feedLossAfter = feedLossAfter ?? DefaultFeedLossAfter;
    }

    /// <summary>HR 50-120 /min with a 10 s delay, NIBP systolic 90-160 mm[Hg] judged per reading (common adult defaults).</summary>
    public static IReadOnlyList<LimitRule> DefaultRules { get; } =
    [
        new("hr.low", Sign.Hr, 50, null, AlarmPriority.Medium, DefaultHrDelay),
        new("hr.high", Sign.Hr, null, 120, AlarmPriority.Medium, DefaultHrDelay),
        new("nibp_sys.low", Sign.NibpSys, 90, null, AlarmPriority.Medium, TimeSpan.Zero),
        new("nibp_sys.high", Sign.NibpSys, null, 160, AlarmPriority.Medium, TimeSpan.Zero),
    ];

    /// <inheritdoc />
    public IReadOnlyList<AlarmEvent> Active => [.. active.Values];

    /// <inheritdoc />
    public void Observe(Observation observation, List<AlarmEvent> events)
    {
        var chair = GetChair(observation.Site, observation.Chair);
        chair.LastReceived = observation.ReceivedAt;
        if (active.ContainsKey((observation.Chair, FeedLostRule)))
        {
            Transition(events, chair, FeedLostRule, null, AlarmPriority.Medium, AlarmKind.Technical, AlarmState.Cleared,
                null, null, "Feed restored", observation.ReceivedAt);
        }

        if (observation.Quality.HasFlag(ObservationQuality.Invalid))
        {
            return;
        }

        foreach (var rule in rules)
        {
            if (rule.Sign == observation.Sign)
            {
                Judge(rule, chair, observation.Value, observation.MeasuredAt, events);
            }
        }
    }

    /// <inheritdoc />
    public void Tick(DateTimeOffset now, List<AlarmEvent> events)
    {
        foreach (var chair in chairs.Values)
        {
            if (now - chair.LastReceived >= feedLossAfter && !active.ContainsKey((chair.Chair, FeedLostRule)))
            {
                Transition(events, chair, FeedLostRule, null, AlarmPriority.Medium, AlarmKind.Technical, AlarmState.Raised,
                    null, null, $"No data from the monitor for {(int)feedLossAfter.TotalSeconds} s", now);
            }
        }

        foreach (var ((chairId, ruleId), state) in states)
        {
            if (state.PendingSince is { } since && !active.ContainsKey((chairId, ruleId)))
            {
                var rule = rules.First(r => r.Id == ruleId);
                if (now - since >= rule.ConditionDelay)
                {
                    Raise(rule, chairs[chairId], state.LastValue, now, events);
                }
            }
        }
    }

    private void Judge(LimitRule rule, ChairState chair, double value, DateTimeOffset at, List<AlarmEvent> events)
    {
        var key = (chair.Chair, rule.Id);
        if (!states.TryGetValue(key, out var state))
        {
            states[key] = state = new RuleState();
        }

        state.LastValue = value;
        var isActive = active.ContainsKey(key);
        if (rule.IsViolatedBy(value))
        {
            state.PendingSince ??= at;
            if (!isActive && at - state.PendingSince.Value >= rule.ConditionDelay)
            {
                Raise(rule, chair, value, at, events);
            }

            return;
        }

        var margin = rule.Sign.Info().Episodic ? 0 : Math.Abs(rule.Limit) * ClearMarginFraction;
        if (isActive && rule.IsClearedBy(value, margin))
        {
            state.PendingSince = null;
            Transition(events, chair, rule.Id, rule.Sign, rule.Priority, AlarmKind.Physiological, AlarmState.Cleared,
                value, rule.Limit, $"{rule.Sign.Info().Label} back within limit", at);
        }
        else if (!isActive)
        {
            state.PendingSince = null;
        }
    }

    private void Raise(LimitRule rule, ChairState chair, double value, DateTimeOffset at, List<AlarmEvent> events)
    {
        var info = rule.Sign.Info();
        var direction = rule.Below is not null ? "low" : "high";
        Transition(events, chair, rule.Id, rule.Sign, rule.Priority, AlarmKind.Physiological, AlarmState.Raised, value, rule.Limit,
            $"{info.Label} {direction}: {value:0.#} {info.Unit} (limit {rule.Limit:0.#})", at);
    }

    private void Transition(
        List<AlarmEvent> events, ChairState chair, string rule, Sign? sign, AlarmPriority priority, AlarmKind kind,
        AlarmState state, double? value, double? limit, string message, DateTimeOffset at)
    {
        var e = new AlarmEvent(chair.Site, chair.Chair, rule, sign, priority, kind, state, value, limit, message, at);
        if (state == AlarmState.Cleared)
        {
            active.Remove((chair.Chair, rule));
        }
        else
        {
            active[(chair.Chair, rule)] = e;
        }

        events.Add(e);
    }

    private ChairState GetChair(string site, string chair)
    {
        if (!chairs.TryGetValue(chair, out var state))
        {
            chairs[chair] = state = new ChairState(site, chair);
        }

        return state;
    }

    private sealed class RuleState
    {
        public DateTimeOffset? PendingSince { get; set; }

        public double LastValue { get; set; }
    }

    private sealed class ChairState(string site, string chair)
    {
        public string Site { get; } = site;

        public string Chair { get; } = chair;

        public DateTimeOffset LastReceived { get; set; }
    }
}
