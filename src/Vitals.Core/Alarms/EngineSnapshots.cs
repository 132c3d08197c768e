namespace Vitals.Core.Alarms;

/// <summary>Turns engine state into plain records for restart recovery, and back.</summary>
internal static class EngineSnapshots
{
    public static AlarmEngineSnapshot Take(ChairRegistry chairs, AlarmBook book, AudioPause pause, AlarmConfiguration configuration) => new(
        book.Ordered(),
        [.. chairs.All
            .Select(c => (Chair: c, Readings: Readings(c, configuration)))
            .Where(p => p.Chair.Session is not null || p.Chair.Baseline is not null || pause.PausedUntil(p.Chair.Key) is not null || p.Readings.Count > 0)
            .Select(p => new ChairSnapshot(p.Chair.Site, p.Chair.Chair, p.Chair.Session, p.Chair.Baseline, pause.PausedUntil(p.Chair.Key),
                [.. p.Chair.ChecksDue.Select(d => new CheckDue(d.Key, d.Value))], p.Chair.LastNibpAt, p.Chair.MagnesiumWarnings, p.Readings))],
        pause.AllPausedUntil);

    public static void Restore(
        AlarmEngineSnapshot snapshot, DateTimeOffset now, ChairRegistry chairs, AlarmBook book, AudioPause pause, AlarmConfiguration configuration)
    {
        if (snapshot.FormatVersion != AlarmEngineSnapshot.CurrentFormat)
        {
            throw new NotSupportedException($"Alarm snapshot format {snapshot.FormatVersion} is not supported (expected {AlarmEngineSnapshot.CurrentFormat}).");
        }

        chairs.Clear();
        book.Restore(snapshot.Alarms);
        pause.Restore(
            snapshot.Chairs.Where(c => c.PausedUntil is not null).Select(c => (new ChairKey(c.Site, c.Chair), c.PausedUntil!.Value)),
            snapshot.AllPausedUntil);
        foreach (var c in snapshot.Chairs)
        {
            var state = chairs.Get(new ChairKey(c.Site, c.Chair));
            state.Session = c.Session;
            state.Baseline = c.Baseline;
            state.LastNibpAt = c.LastNibpAt;
            state.MagnesiumWarnings = c.MagnesiumWarnings;
            foreach (var check in c.ChecksDue)
            {
                state.ChecksDue[check.CheckId] = check.DueAt;
            }

            foreach (var recent in c.Readings ?? [])
            {
                var keep = KeptFor(recent.Sign, configuration.Resolve(c.Chair, c.Session), configuration.Timing);
                for (var i = 0; i < recent.OffsetsMs.Count && i < recent.Values.Count; i++)
                {
                    state.Record(recent.Sign, new Reading(recent.Start + TimeSpan.FromMilliseconds(recent.OffsetsMs[i]), recent.Values[i]), keep);
                }
            }
        }

        var alarmed = snapshot.Alarms.Select(a => a.Key).ToHashSet();
        foreach (var key in alarmed)
        {
            chairs.Get(key);
        }

        foreach (var state in chairs.All.Where(c => c.Chair != AlarmEngine.GatewayChair && (c.Session is not null || alarmed.Contains(c.Key))))
        {
            state.WatchFeed = true;
            state.LastReceived = now;
        }
    }

    /// <summary>How long readings of <paramref name="sign"/> must be kept: the longest rate window, or the baseline window for cuff readings.</summary>
    public static TimeSpan KeptFor(Sign sign, AlarmProfile profile, AlarmTiming timing)
    {
        var rate = profile.RateRules.Where(r => r.Sign == sign).Select(r => r.Window).DefaultIfEmpty(TimeSpan.Zero).Max();
        var baseline = sign.Info().Episodic ? timing.BaselineWindow : TimeSpan.Zero;
        return rate > baseline ? rate : baseline;
    }

    // Only what the rules still need survives a restart, as offsets from the first reading to keep the snapshot small.
    private static List<RecentReadings> Readings(ChairState chair, AlarmConfiguration configuration)
    {
        var profile = configuration.Resolve(chair.Chair, chair.Session);
        var result = new List<RecentReadings>();
        foreach (var (sign, readings) in chair.History())
        {
            var keep = KeptFor(sign, profile, configuration.Timing);
            if (keep <= TimeSpan.Zero || readings.Count == 0)
            {
                continue;
            }

            var from = readings[^1].At - keep;
            var kept = readings.Where(r => r.At >= from).ToList();
            var start = kept[0].At;
            result.Add(new RecentReadings(sign, start, [.. kept.Select(r => (long)(r.At - start).TotalMilliseconds)], [.. kept.Select(r => r.Value)]));
        }

        return result;
    }
}
