namespace Vitals.Core.Alarms;

/// <summary>Turns engine state into plain records for restart recovery, and back.</summary>
internal static class EngineSnapshots
{
    public static AlarmEngineSnapshot Take(ChairRegistry chairs, AlarmBook book, AudioPause pause) => new(
        book.Ordered(),
        [.. chairs.All
            .Where(c => c.Session is not null || c.Baseline is not null || pause.PausedUntil(c.Key) is not null)
            .Select(c => new ChairSnapshot(c.Site, c.Chair, c.Session, c.Baseline, pause.PausedUntil(c.Key),
                [.. c.ChecksDue.Select(d => new CheckDue(d.Key, d.Value))], c.LastNibpAt, c.MagnesiumWarnings))],
        pause.AllPausedUntil);

    /// <summary>The latest time something happened in <paramref name="snapshot"/> (an alarm transition, a cuff reading, a session start or baseline confirmation), if any.</summary>
    public static DateTimeOffset? Latest(AlarmEngineSnapshot snapshot) =>
        snapshot.Alarms.Select(a => (DateTimeOffset?)a.ChangedAt)
            .Concat(snapshot.Chairs.SelectMany(c => new[] { c.LastNibpAt, c.Session?.StartedAt, c.Baseline?.ConfirmedAt }))
            .Max();

    public static void Restore(
        AlarmEngineSnapshot snapshot, DateTimeOffset now, ChairRegistry chairs, AlarmBook book, AudioPause pause)
    {
        // Format 1 also held recent readings; they are ignored now and come back from the store (AlarmEngine.Recall).
        if (snapshot.FormatVersion is not (1 or AlarmEngineSnapshot.CurrentFormat))
        {
            throw new NotSupportedException($"Alarm snapshot format {snapshot.FormatVersion} is not supported (expected 1 to {AlarmEngineSnapshot.CurrentFormat}).");
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
}
