using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>Infusion sessions: start, update and stop, the NIBP-overdue rule and the magnesium rate warnings.</summary>
internal sealed class Sessions(ChairRegistry chairs, AlarmBook book, SignalWatch signals, AlarmConfiguration configuration)
{
    private AlarmTiming Timing => configuration.Timing;

    public IReadOnlyList<string> Start(ChairKey key, InfusionSession session, DateTimeOffset now, List<AlarmEvent> events)
    {
        Validate(session);
        var chair = chairs.Get(key);
        if (chair.Session is { } running && running.Id != session.Id)
        {
            throw new InvalidOperationException($"Chair {session.Chair} already has session {running.Id}; stop it first.");
        }

        chair.Session = session;
        chair.Baseline = null;
        chair.WatchFeed = true;
        chair.LastReceived ??= now;
        chair.ChecksDue.Clear();
        foreach (var check in configuration.Resolve(chair.Chair, session).Checks)
        {
            chair.ChecksDue[check.Id] = session.StartedAt + Timing.CheckLoadingInterval;
        }

        return CheckMagnesium(chair, now, events);
    }

    public IReadOnlyList<string> Update(ChairKey key, InfusionSession session, DateTimeOffset now, List<AlarmEvent> events)
    {
        var chair = chairs.Find(key);
        if (chair?.Session?.Id != session.Id)
        {
            throw new InvalidOperationException($"Session {session.Id} is not running at chair {session.Chair}.");
        }

        Validate(session);
        chair.Session = session;
        return CheckMagnesium(chair, now, events);
    }

    public InfusionSession? Stop(ChairKey key, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (chairs.Find(key) is not { Session: { } session } chair)
        {
            return null;
        }

        chair.Session = null;
        chair.Baseline = null;
        chair.ChecksDue.Clear();
        chair.MagnesiumWarnings = [];
        foreach (var alarm in book.At(key).Where(a => a.ConditionActive && IsSessionRule(a.Rule)))
        {
            book.EndCondition(alarm, $"{alarm.Message} (infusion session stopped)", alarm.Value, now, events);
        }

        foreach (var rule in chair.Tracks.Keys.Where(IsSessionRule).ToList())
        {
            chair.RemoveTrack(rule);
        }

        signals.Release(chair, "Chair released: feed no longer watched", now, events);
        return session with { StoppedAt = now };
    }

    public ConfigResult SetOverride(ChairKey key, string name, double? value, string user, DateTimeOffset now)
    {
        if (chairs.Find(key) is not { Session: { } session } chair)
        {
            return ConfigResult.Fail($"session: no running session at chair {key.Chair}");
        }

        var overrides = new SortedDictionary<string, double>(session.Overrides?.ToDictionary() ?? [], StringComparer.Ordinal);
        var old = overrides.TryGetValue(name, out var o) ? AlarmConfiguration.Format(o) : AlarmConfiguration.Read(configuration.Resolve(key.Chair, session), name);
        if (value is { } v)
        {
            overrides[name] = v;
        }
        else
        {
            overrides.Remove(name);
        }

        var candidate = session with { Overrides = overrides };
        var errors = configuration.ValidateSession(key.Chair, candidate);
        if (errors.Count > 0)
        {
            return new ConfigResult(errors, null);
        }

        chair.Session = candidate;
        return configuration.Accepted(user, now, ConfigScope.Session, session.Id, name, old, AlarmConfiguration.Format(value));
    }

    /// <summary>NIBP overdue during a running infusion.</summary>
    public void Tick(ChairState chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (chair.Session is not { } session || !session.IsRunningAt(now))
        {
            return;
        }

        var cycle = session.NibpCycle ?? Timing.DefaultNibpCycle;
        var since = chair.LastNibpAt is { } nibpAt && nibpAt > session.StartedAt ? nibpAt : session.StartedAt;
        if (now - since >= cycle + Timing.NibpOverdueGrace && !book.Has(chair.Key, AlarmEngine.NibpOverdueRule))
        {
            var text = string.Format(CultureInfo.InvariantCulture, "NIBP overdue: no cuff reading for {0:0} min (cycle {1:0} min + {2:0} min)",
                (now - since).TotalMinutes, cycle.TotalMinutes, Timing.NibpOverdueGrace.TotalMinutes);
            book.SetTechnical(chair.Key, AlarmEngine.NibpOverdueRule, AlarmPriority.Medium, text, now, events, (now - since).TotalMinutes, (cycle + Timing.NibpOverdueGrace).TotalMinutes);
        }
    }

    /// <summary>A cuff reading arrived: NIBP is no longer overdue.</summary>
    public void NibpReceived(ChairState chair, DateTimeOffset at, List<AlarmEvent> events)
    {
        chair.LastNibpAt = at;
        if (chair.Alarms.ContainsKey(AlarmEngine.NibpOverdueRule))
        {
            book.SetTechnical(chair.Key, AlarmEngine.NibpOverdueRule, null, "NIBP reading received", at, events);
        }
    }

    private static bool IsSessionRule(string rule) =>
        rule is AlarmEngine.NibpOverdueRule or AlarmEngine.MagnesiumRateRule || rule.StartsWith(AlarmEngine.CheckRulePrefix, StringComparison.Ordinal)
        || rule.EndsWith(".drop", StringComparison.Ordinal) || rule.EndsWith(".rise", StringComparison.Ordinal);

    private void Validate(InfusionSession session)
    {
        var errors = session.Validate().Concat(configuration.ValidateSession(session.Chair, session)).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(session));
        }
    }

    private IReadOnlyList<string> CheckMagnesium(ChairState chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        var session = chair.Session!;
        var warnings = MagnesiumChecks.Check(session, Timing.Magnesium);
        chair.MagnesiumWarnings = warnings;
        book.SetTechnical(chair.Key, AlarmEngine.MagnesiumRateRule, warnings.Count > 0 ? AlarmPriority.Medium : null,
            warnings.Count > 0 ? string.Join("; ", warnings) : "Magnesium rate within the configured limits", now, events,
            session.RateGramsPerHour, Timing.Magnesium.MaxRateGramsPerHour);
        return warnings;
    }
}

/// <summary>Nursing check prompts of a running session: due times, prompts and confirmations.</summary>
internal sealed class NursingChecks(ChairRegistry chairs, AlarmBook book, AlarmConfiguration configuration)
{
    public void Tick(ChairState chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (chair.Session is not { } session || !session.IsRunningAt(now))
        {
            return;
        }

        var checks = configuration.Resolve(chair.Chair, session).Checks;
        foreach (var (id, due) in chair.ChecksDue)
        {
            var rule = AlarmEngine.CheckRulePrefix + id;
            if (now >= due && !book.Has(chair.Key, rule))
            {
                // A check dropped from the profile since it was scheduled still reads as words, never as an id.
                var label = checks.FirstOrDefault(c => c.Id == id)?.Label ?? id.Replace('_', ' ');
                book.Raise(chair.Key, rule, null, AlarmKind.Physiological, AlarmPriority.Low, null, null, $"{label} and confirm", now, events);
            }
        }
    }

    public bool Confirm(ChairKey key, string checkId, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (chairs.Find(key) is not { Session: { } session } chair || !chair.ChecksDue.ContainsKey(checkId))
        {
            return false;
        }

        var timing = configuration.Timing;
        var loadingEnds = session.StartedAt + (session.LoadingDuration ?? timing.DefaultLoadingDuration);
        chair.ChecksDue[checkId] = now + (now < loadingEnds ? timing.CheckLoadingInterval : timing.CheckMaintenanceInterval);
        book.Confirm(key, AlarmEngine.CheckRulePrefix + checkId, user, now, events);
        return true;
    }

    public IReadOnlyList<CheckDue> Due(ChairKey key) =>
        chairs.Find(key) is { } chair ? [.. chair.ChecksDue.Select(p => new CheckDue(p.Key, p.Value))] : [];
}

/// <summary>A chair's baseline: proposal from pre-infusion readings, status and confirmation.</summary>
internal sealed class Baselines(ChairRegistry chairs, Func<AlarmTiming> timing)
{
    public BaselineStatus Status(ChairKey key, DateTimeOffset now)
    {
        if (chairs.Find(key) is not { Session: { } } chair)
        {
            return new BaselineStatus(BaselineState.NoSession, null, "No infusion session: change-from-baseline alarms inactive");
        }

        if (chair.Baseline is { } confirmed)
        {
            return new BaselineStatus(BaselineState.Confirmed, confirmed,
                string.Format(CultureInfo.InvariantCulture, "Baseline confirmed by {0} at {1:HH:mm}", confirmed.ConfirmedBy, confirmed.ConfirmedAt));
        }

        var proposal = Propose(chair, now, out var reason);
        return proposal is null
            ? new BaselineStatus(BaselineState.Collecting, null, $"Baseline not confirmed: {reason}; change-from-baseline alarms inactive")
            : new BaselineStatus(BaselineState.Proposed, proposal, "Baseline not confirmed: a proposal awaits a nurse; change-from-baseline alarms inactive");
    }

    public BaselineStatus Confirm(ChairKey key, string user, DateTimeOffset now, Baseline? entered)
    {
        if (chairs.Find(key) is not { Session: { } } chair)
        {
            return Status(key, now);
        }

        if (entered is not null)
        {
            var bad = entered.OutOfBounds().Select(s => s.ShortName()).ToList();
            if (bad.Count > 0)
            {
                throw new ArgumentException($"baseline: {string.Join(", ", bad)} outside the physiological bounds", nameof(entered));
            }
        }

        var baseline = entered ?? Propose(chair, now, out _);
        if (baseline is not null)
        {
            chair.Baseline = baseline with { ConfirmedBy = user, ConfirmedAt = now };
        }

        return Status(key, now);
    }

    private Baseline? Propose(ChairState chair, DateTimeOffset now, out string reason)
    {
        var start = chair.Session!.StartedAt;
        return BaselineCalculator.Propose(chair.History(), start < now ? start : now, timing(), out reason);
    }
}
