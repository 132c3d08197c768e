using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>
/// Audio pause per chair and for all chairs, capped at <see cref="AlarmTiming.MaxPause"/>, and breakthrough by a new
/// or higher alarm. Pausing changes no alarm state; pause events carry no priority because they are not alarms.
/// </summary>
internal sealed class AudioPause(string site, Func<AlarmTiming> timing)
{
    private readonly SortedDictionary<ChairKey, DateTimeOffset> pausedUntil = new(ChairKey.Order);
    private readonly HashSet<ChairKey> brokeThroughAll = [];

    public DateTimeOffset? AllPausedUntil { get; private set; }

    public DateTimeOffset? PausedUntil(ChairKey chair) => pausedUntil.TryGetValue(chair, out var until) ? until : null;

    public TimeSpan Pause(ChairKey? chair, string user, DateTimeOffset now, TimeSpan duration, List<AlarmEvent> events)
    {
        if (duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "An audio pause must last longer than zero.");
        }

        var max = timing().MaxPause;
        var granted = duration > max ? max : duration;
        var text = string.Format(CultureInfo.InvariantCulture, "Audio paused for {0:0} s", granted.TotalSeconds);
        if (chair is not { } key)
        {
            EndAllPause();
            AllPausedUntil = now + granted;
            events.Add(PauseEvent(site, AlarmEngine.AllChairs, AlarmState.Paused, granted, text + " (all chairs)", now, user));
        }
        else
        {
            pausedUntil[key] = now + granted;
            events.Add(PauseEvent(key.Site, key.Chair, AlarmState.Paused, granted, text, now, user));
        }

        return granted;
    }

    public void Resume(ChairKey? chair, string user, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (chair is not { } key)
        {
            if (AllPausedUntil is { } until && until > now)
            {
                EndAllPause();
                events.Add(PauseEvent(site, AlarmEngine.AllChairs, AlarmState.Resumed, null, "Audio resumed (all chairs)", now, user));
            }
        }
        else if (pausedUntil.TryGetValue(key, out var until) && until > now)
        {
            pausedUntil.Remove(key);
            events.Add(PauseEvent(key.Site, key.Chair, AlarmState.Resumed, null, "Audio resumed", now, user));
        }
    }

    public TimeSpan Remaining(ChairKey chair, DateTimeOffset now)
    {
        var remaining = pausedUntil.TryGetValue(chair, out var until) && until > now ? until - now : TimeSpan.Zero;
        if (AllPausedUntil is { } all && all > now && !brokeThroughAll.Contains(chair) && all - now > remaining)
        {
            remaining = all - now;
        }

        return remaining;
    }

    public void Tick(DateTimeOffset now, List<AlarmEvent> events)
    {
        // No pause outlasts the maximum from now, whatever the clock did: state restored on a boot clock that NTP then
        // stepped forward moves with the step (AlarmEngine.ClockStepped) as if it had been taken on that clock.
        var longest = now + timing().MaxPause;
        foreach (var chair in pausedUntil.Where(p => p.Value > longest).Select(p => p.Key).ToList())
        {
            pausedUntil[chair] = longest;
        }

        if (AllPausedUntil > longest)
        {
            AllPausedUntil = longest;
        }

        foreach (var (chair, until) in pausedUntil.Where(p => now >= p.Value).ToList())
        {
            pausedUntil.Remove(chair);
            events.Add(PauseEvent(chair.Site, chair.Chair, AlarmState.Resumed, null, "Audio pause ended", now, null));
        }

        if (AllPausedUntil is { } all && now >= all)
        {
            EndAllPause();
            events.Add(PauseEvent(site, AlarmEngine.AllChairs, AlarmState.Resumed, null, "Audio pause ended (all chairs)", now, null));
        }
    }

    /// <summary>A new medium or high alarm, or an escalation, at <paramref name="chair"/> ends its pause (only that chair of an all-chairs pause).</summary>
    public void BreakThrough(ChairKey chair, DateTimeOffset at, List<AlarmEvent> events)
    {
        var ended = false;
        if (pausedUntil.TryGetValue(chair, out var until) && until > at)
        {
            pausedUntil.Remove(chair);
            ended = true;
        }

        if (AllPausedUntil is { } all && all > at && brokeThroughAll.Add(chair))
        {
            ended = true;
        }

        if (ended)
        {
            events.Add(PauseEvent(chair.Site, chair.Chair, AlarmState.Resumed, null, "Audio pause ended: a new or higher-priority alarm breaks through", at, null));
        }
    }

    /// <summary>Moves every pause's end by a wall-clock step, so a pause keeps its real length.</summary>
    public void Shift(TimeSpan by)
    {
        foreach (var chair in pausedUntil.Keys.ToList())
        {
            pausedUntil[chair] += by;
        }

        AllPausedUntil += by;
    }

    public void Restore(IEnumerable<(ChairKey Chair, DateTimeOffset Until)> paused, DateTimeOffset? allUntil)
    {
        pausedUntil.Clear();
        brokeThroughAll.Clear();
        AllPausedUntil = allUntil;
        foreach (var (chair, until) in paused)
        {
            pausedUntil[chair] = until;
        }
    }

    private void EndAllPause()
    {
        AllPausedUntil = null;
        brokeThroughAll.Clear();
    }

    private AlarmEvent PauseEvent(string eventSite, string chair, AlarmState state, TimeSpan? duration, string message, DateTimeOffset at, string? user) =>
        new(eventSite, chair, AlarmEngine.PauseRule, null, null, AlarmKind.Technical, state, duration?.TotalSeconds, timing().MaxPause.TotalSeconds, message, at, user);
}
