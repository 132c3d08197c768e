namespace Vitals.Core.Alarms;

/// <summary>
/// The alarm lifecycle: raise, escalate, latch, acknowledge, re-announce and clear, for every uncleared alarm of
/// every chair. Knows nothing about signs or rules beyond their ids; callers decide when a condition starts or ends.
/// </summary>
internal sealed class AlarmBook(AudioPause pause, Func<AlarmTiming> timing)
{
    // By chair, then by rule. Every reading asks its chair about several rules; the chair's map is found once, when the
    // chair is first seen (ChairState.Alarms), instead of hashing site, chair and rule for each question (about a tenth of
    // the engine's samples in perf; with the hashed tracks and bulk sample pruning, 0.41 -> 0.30 us per reading). A chair's map is never replaced, only emptied, so the reference a chair holds stays valid.
    private readonly Dictionary<ChairKey, Dictionary<string, ActiveAlarm>> byChair = [];

    /// <summary>The alarms of <paramref name="chair"/> by rule (the same map for the book's lifetime); add and remove through the book.</summary>
    public Dictionary<string, ActiveAlarm> Of(ChairKey chair) => MapOf(chair);

    public ActiveAlarm? Find(ChairKey chair, string rule) => byChair.TryGetValue(chair, out var map) ? map.GetValueOrDefault(rule) : null;

    public bool Has(ChairKey chair, string rule) => byChair.TryGetValue(chair, out var map) && map.ContainsKey(rule);

    /// <summary>
    /// Every uncleared alarm, highest priority first, then the longest-standing: the order a pager or central
    /// station reads the list in. Site, chair and rule make the order total.
    /// </summary>
    public List<ActiveAlarm> Ordered() =>
        [.. byChair.Values.SelectMany(m => m.Values)
            .OrderByDescending(a => a.Priority)
            .ThenBy(a => a.RaisedAt)
            .ThenBy(a => a.Site, StringComparer.Ordinal)
            .ThenBy(a => a.Chair, StringComparer.Ordinal)
            .ThenBy(a => a.Rule, StringComparer.Ordinal)];

    public List<ActiveAlarm> At(ChairKey chair) => [.. Ordered().Where(a => a.Key == chair)];

    public void Store(ActiveAlarm alarm) => MapOf(alarm.Key)[alarm.Rule] = alarm;

    /// <summary>Raises a new occurrence, or raises a latched one again (never at a lower priority).</summary>
    public void Raise(
        ChairKey chair, string rule, Sign? sign, AlarmKind kind, AlarmPriority priority, double? value, double? limit, string message,
        DateTimeOffset at, List<AlarmEvent> events)
    {
        if (MapOf(chair).TryGetValue(rule, out var latched))
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
                pause.BreakThrough(chair, at, events);
            }

            return;
        }

        var alarm = new ActiveAlarm(chair.Site, chair.Chair, rule, sign, kind, priority, AlarmState.Raised, true, false, at, at, at, null, null, value, limit, message);
        Store(alarm);
        events.Add(alarm.ToEvent(AlarmState.Raised, at));
        if (priority >= AlarmPriority.Medium)
        {
            pause.BreakThrough(chair, at, events);
        }
    }

    /// <summary>A higher priority is a new announcement: it undoes an acknowledgement and breaks through a pause.</summary>
    public void Escalate(ActiveAlarm alarm, AlarmPriority priority, string message, DateTimeOffset at, List<AlarmEvent> events)
    {
        var escalated = alarm with { Priority = priority, State = AlarmState.Escalated, Acknowledged = false, AnnouncedAt = at, ChangedAt = at, Message = message };
        Store(escalated);
        events.Add(escalated.ToEvent(AlarmState.Escalated, at));
        pause.BreakThrough(alarm.Key, at, events);
    }

    /// <summary>The condition ended: clear, or latch a high-priority physiological alarm nobody acknowledged.</summary>
    public void EndCondition(ActiveAlarm alarm, string message, double? value, DateTimeOffset at, List<AlarmEvent> events)
    {
        if (alarm is { Kind: AlarmKind.Physiological, Priority: AlarmPriority.High, Acknowledged: false })
        {
            // IEC 60601-1-8 latching: a high-priority alarm nobody saw must stay until someone acknowledges it.
            var latched = alarm with { ConditionActive = false, State = AlarmState.Latched, ChangedAt = at, Value = value ?? alarm.Value };
            Store(latched);
            events.Add(latched.ToEvent(AlarmState.Latched, at, null, $"{alarm.Message} (condition ended; acknowledge to clear)"));
            return;
        }

        MapOf(alarm.Key).Remove(alarm.Rule);
        events.Add((alarm with { Value = value ?? alarm.Value }).ToEvent(AlarmState.Cleared, at, null, message));
    }

    /// <summary>Raises (<paramref name="priority"/> set) or ends (null) a technical condition; a higher priority escalates it.</summary>
    public void SetTechnical(
        ChairKey chair, string rule, AlarmPriority? priority, string message, DateTimeOffset at, List<AlarmEvent> events,
        double? value = null, double? limit = null, Sign? sign = null)
    {
        MapOf(chair).TryGetValue(rule, out var alarm);
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
            Raise(chair, rule, sign, AlarmKind.Technical, p, value, limit, message, at, events);
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

    /// <summary>Silences this occurrence; a latched alarm is cleared. False when there is nothing to acknowledge.</summary>
    public bool Acknowledge(ChairKey chair, string rule, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (!MapOf(chair).TryGetValue(rule, out var alarm) || alarm.Acknowledged)
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
            MapOf(chair).Remove(rule);
            events.Add(acked.ToEvent(AlarmState.Cleared, now, user, $"{alarm.Message} (acknowledged after the condition ended)"));
        }

        return true;
    }

    /// <summary>Acknowledges and clears a prompt in one step (a nursing check confirmed).</summary>
    public void Confirm(ChairKey chair, string rule, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (MapOf(chair).Remove(rule, out var prompt))
        {
            var confirmed = prompt with { State = AlarmState.Acknowledged, Acknowledged = true, AcknowledgedAt = now, AcknowledgedBy = user, ChangedAt = now };
            events.Add(confirmed.ToEvent(AlarmState.Acknowledged, now, user, $"{prompt.Message}: confirmed"));
            events.Add(confirmed.ToEvent(AlarmState.Cleared, now, user, $"{prompt.Message}: confirmed"));
        }
    }

    /// <summary>Re-announces acknowledged alarms whose condition persists and escalates unacknowledged medium ones.</summary>
    public void Tick(DateTimeOffset now, List<AlarmEvent> events)
    {
        var t = timing();
        foreach (var alarm in Ordered())
        {
            if (alarm is { Acknowledged: true, ConditionActive: true, AcknowledgedAt: { } ackAt } && now - ackAt >= t.Reannounce)
            {
                // Acknowledge silences one occurrence only: while the condition persists it comes back.
                var again = alarm with { State = AlarmState.Reannounced, Acknowledged = false, AnnouncedAt = now, ChangedAt = now };
                Store(again);
                events.Add(again.ToEvent(AlarmState.Reannounced, now));
            }
            else if (alarm is { Acknowledged: false, Priority: AlarmPriority.Medium } && now - alarm.AnnouncedAt >= t.EscalateAfter
                && !RuleEvaluator.IsRateRule(alarm.Rule, alarm.Sign))
            {
                var minutes = t.EscalateAfter.TotalMinutes.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
                Escalate(alarm, AlarmPriority.High, $"{alarm.Message} (unacknowledged for {minutes} min)", now, events);
            }
        }
    }

    /// <summary>Moves every alarm's times by a wall-clock step, so escalation and re-announce keep their real delays.</summary>
    public void Shift(TimeSpan by)
    {
        foreach (var map in byChair.Values)
        {
            foreach (var alarm in map.Values.ToList())
            {
                map[alarm.Rule] = alarm with
                {
                    RaisedAt = alarm.RaisedAt + by,
                    AnnouncedAt = alarm.AnnouncedAt + by,
                    ChangedAt = alarm.ChangedAt + by,
                    AcknowledgedAt = alarm.AcknowledgedAt + by,
                };
            }
        }
    }

    public void Restore(IEnumerable<ActiveAlarm> restored)
    {
        foreach (var map in byChair.Values)
        {
            map.Clear();
        }

        foreach (var alarm in restored)
        {
            Store(alarm);
        }
    }

    private Dictionary<string, ActiveAlarm> MapOf(ChairKey chair)
    {
        if (!byChair.TryGetValue(chair, out var map))
        {
            byChair[chair] = map = new Dictionary<string, ActiveAlarm>(StringComparer.Ordinal);
        }

        return map;
    }
}
