namespace Vitals.Core.Alarms;

/// <summary>
/// Condition timing of one physiological rule at one chair: the current episode (first abnormal sample, recent
/// samples for the delay window) and, once raised, the clear timer.
/// </summary>
internal sealed class ConditionTrack
{
    private readonly List<(DateTimeOffset At, AlarmPriority? Priority)> samples = [];

    // Samples before this index have left the delay window. They are dropped in bulk once they are half the list: removing
    // them one by one shifted the whole window per reading (a feed sending hundreds of readings a second keeps thousands).
    private int first;

    /// <summary>The latest verdict judged while an episode ran or the rule's condition stood (see <see cref="Conditions.Judge"/>).</summary>
    public Verdict Last { get; set; }

    /// <summary>When the rule was last judged.</summary>
    public DateTimeOffset LastAt { get; set; }

    public SignTiming Timing { get; set; } = new(Sign.Hr, TimeSpan.Zero, 0, TimeSpan.Zero);

    /// <summary>First abnormal sample of the current episode; null when no episode runs.</summary>
    public DateTimeOffset? Onset { get; private set; }

    public DateTimeOffset? LastAbnormalAt { get; private set; }

    public DateTimeOffset? ClearSince { get; set; }

    /// <summary>Adds a sample to the episode; a normal stretch as long as the clear time ends the episode.</summary>
    public void Add(DateTimeOffset at, AlarmPriority? priority)
    {
        if (priority is null)
        {
            if (Onset is not null && LastAbnormalAt is { } last && at - last >= Timing.ClearTime)
            {
                EndEpisode();
            }

            if (Onset is null)
            {
                return;
            }
        }
        else
        {
            Onset ??= at;
            LastAbnormalAt = at;
        }

        samples.Add((at, priority));
        Prune(at);
    }

    public void EndEpisode()
    {
        Onset = null;
        LastAbnormalAt = null;
        samples.Clear();
        first = 0;
    }

    /// <summary>Moves every time of the track by a wall-clock step (see <see cref="AlarmEngine.ClockStepped"/>).</summary>
    public void Shift(TimeSpan by)
    {
        for (var i = 0; i < samples.Count; i++)
        {
            samples[i] = (samples[i].At + by, samples[i].Priority);
        }

        LastAt += by;
        Onset += by;
        LastAbnormalAt += by;
        ClearSince += by;
    }

    /// <summary>
    /// The priority to raise at <paramref name="now"/>, or null: the latest sample is abnormal, the episode began at
    /// least the condition delay ago, and at least two thirds of the delay window was abnormal. Under a shorter
    /// high-priority delay the same test runs on the high band alone.
    /// </summary>
    public AlarmPriority? DueAt(DateTimeOffset now)
    {
        if (Onset is not { } onset || Last.Priority is not { } priority)
        {
            return null;
        }

        var delay = Timing.ConditionDelay;
        if (now - onset >= delay && MostlyAbnormal(now, delay, AlarmPriority.Low))
        {
            return priority;
        }

        return priority == AlarmPriority.High && Timing.HighPriorityDelay is { } fast && fast < delay
            && now - onset >= fast && MostlyAbnormal(now, fast, AlarmPriority.High)
            ? AlarmPriority.High
            : null;
    }

    // Each sample holds until the next one (the latest until now); compared in ticks so the boundary is exact.
    private bool MostlyAbnormal(DateTimeOffset now, TimeSpan window, AlarmPriority atLeast)
    {
        var from = now - window;
        long abnormal = 0;
        for (var i = first; i < samples.Count; i++)
        {
            var start = samples[i].At > from ? samples[i].At : from;
            var end = i + 1 < samples.Count ? samples[i + 1].At : now;
            if (end > start && samples[i].Priority >= atLeast)
            {
                abnormal += (end - start).Ticks;
            }
        }

        return abnormal * 3 >= window.Ticks * 2;
    }

    private void Prune(DateTimeOffset now)
    {
        // Keep the samples that cover the longest delay window: the first one kept may start before it.
        var from = now - Timing.ConditionDelay;
        while (first + 1 < samples.Count && samples[first + 1].At <= from)
        {
            first++;
        }

        if (first > 0 && first >= samples.Count - first)
        {
            samples.RemoveRange(0, first);
            first = 0;
        }
    }
}

/// <summary>
/// Physiological conditions (limits, change from baseline, rate of change): condition delay with hysteresis on the
/// way in, clear margin and clear time on the way out.
/// </summary>
internal sealed class Conditions(AlarmBook book, Func<AlarmTiming> timing)
{
    /// <summary>Judges one verdict of a fresh reading.</summary>
    public void Judge(ChairState chair, in Verdict verdict, SignTiming signTiming, DateTimeOffset at, List<AlarmEvent> events)
    {
        var track = chair.Track(verdict);
        var alarm = chair.AlarmOf(verdict.Rule);
        if (verdict.Priority is null && track.Onset is null && alarm is not { ConditionActive: true })
        {
            // Normal, no episode running and no condition to clear: the verdict the track keeps is read only once an
            // episode starts (which keeps it anew) or while its condition stands, so it is not kept. Nearly every verdict
            // of every reading ends here, without copying itself (80 bytes, three references) into the track.
            track.LastAt = at;
            track.ClearSince = null;
            return;
        }

        track.Last = verdict;
        track.LastAt = at;
        track.Timing = signTiming;
        track.Add(at, verdict.Priority);
        if (verdict.Priority is { } priority)
        {
            track.ClearSince = null;
            if (alarm is { ConditionActive: true })
            {
                // A steady abnormal value changes nothing: its message (formatted text) is not built again per reading.
                if (priority <= alarm.Priority && alarm.Value == verdict.Value && alarm.Limit == verdict.Limit)
                {
                    return;
                }

                var updated = alarm with { Value = verdict.Value, Limit = verdict.Limit, Message = verdict.Message };
                if (priority > alarm.Priority)
                {
                    book.Escalate(updated, priority, verdict.Message, at, events);
                }
                else
                {
                    book.Store(updated);
                }
            }
            else if (track.DueAt(at) is { } due)
            {
                Raise(chair, verdict.Rule, track, due, at, events);
            }

            return;
        }

        // Not violated: clearing needs a value inside by the margin, for the clear time.
        if (alarm is not { ConditionActive: true } || !verdict.Clear)
        {
            track.ClearSince = null;
            return;
        }

        track.ClearSince ??= at;
        if (at - track.ClearSince.Value >= signTiming.ClearTime)
        {
            End(track, alarm, at, events);
        }
    }

    /// <summary>Lets the clock raise conditions whose delay elapsed between readings, and clear those whose clear time did.</summary>
    public void Tick(ChairState chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        foreach (var (rule, track) in chair.Tracks)
        {
            // Stale data neither raises nor clears: a lost feed is its own alarm.
            if (now - track.LastAt > timing().FeedLostMedium)
            {
                continue;
            }

            var alarm = chair.Alarms.GetValueOrDefault(rule);
            if (alarm is not { ConditionActive: true } && track.DueAt(now) is { } due)
            {
                Raise(chair, rule, track, due, now, events);
            }
            else if (track.ClearSince is { } clearSince && alarm is { ConditionActive: true } && now - clearSince >= track.Timing.ClearTime)
            {
                End(track, alarm, now, events);
            }
        }
    }

    private void Raise(ChairState chair, string rule, ConditionTrack track, AlarmPriority priority, DateTimeOffset at, List<AlarmEvent> events)
    {
        var v = track.Last;
        book.Raise(chair.Key, rule, v.Sign, AlarmKind.Physiological, priority, v.Value, v.Limit, v.Message, at, events);
    }

    private void End(ConditionTrack track, ActiveAlarm alarm, DateTimeOffset at, List<AlarmEvent> events)
    {
        track.ClearSince = null;
        track.EndEpisode();
        book.EndCondition(alarm, track.Last.Message, track.Last.Value, at, events);
    }
}
