namespace Vitals.Core.Alarms;

/// <summary>
/// Which signs a chair's reading history keeps, and how far back: what the rate-of-change rules of every profile and
/// the baseline proposal read, nothing more. Keeping 30 min of every sign (SpO2 and temperature too, which no default
/// rule reads) made the start-up recall at 1,000 chairs take ~14 s and ~350 MB; see the README's recall figures.
/// </summary>
/// <remarks>
/// The union over every profile, not a chair's own: a chair's profile changes with its session (a magnesium session
/// switches to the MgSO4 profile), and overrides change limits and timing, never which rules read history. A profile
/// added or replaced at runtime is seen at the next reading (the configuration's version moves); a sign or window it
/// needs beyond what was kept starts from the readings that come after the change, and is complete once the window
/// has passed (or at once after a restart, which recalls the window from the store).
/// </remarks>
internal sealed class HistoryNeeds
{
    /// <summary>The longest span any sign is kept: the longest rate window a profile may have (see <see cref="AlarmProfileValidator"/>).</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromMinutes(30);

    private static readonly int SignCount = Enum.GetValues<Sign>().Length;

    // By judged sign (pulse rate is kept as heart rate): the span every chair keeps, and the pre-infusion window
    // the baseline proposal reads (zero: not a baseline sign).
    private readonly TimeSpan[] spans = new TimeSpan[SignCount];
    private readonly TimeSpan[] baselineWindows = new TimeSpan[SignCount];

    public HistoryNeeds(AlarmConfiguration configuration)
    {
        Version = configuration.Version;
        var timing = configuration.Timing;
        foreach (var sign in new[] { Sign.NibpSys, Sign.NibpDia, Sign.NibpMap })
        {
            baselineWindows[(int)sign] = timing.BaselineWindow;
        }

        foreach (var sign in new[] { Sign.Hr, Sign.Rr })
        {
            baselineWindows[(int)sign] = timing.BaselineContinuousWindow;
        }

        Array.Copy(baselineWindows, spans, SignCount);
        foreach (var rule in configuration.Profiles.SelectMany(p => p.RateRules))
        {
            ref var span = ref spans[(int)rule.Sign];
            span = rule.Window > span ? rule.Window : span;
        }

        for (var i = 0; i < SignCount; i++)
        {
            spans[i] = spans[i] < Longest ? spans[i] : Longest;
        }

        // Pulse rate is judged, and kept, as heart rate (AlarmEngine.JudgedAs): a rule on it never reads history.
        spans[(int)Sign.Pr] = TimeSpan.Zero;
    }

    /// <summary>The configuration version these needs were worked out for.</summary>
    public long Version { get; }

    /// <summary>How long every chair keeps <paramref name="sign"/> (as judged: pulse rate is kept as heart rate); zero when not at all.</summary>
    public TimeSpan Span(Sign sign) => spans[(int)sign];

    /// <summary>
    /// The oldest reading of <paramref name="sign"/> that <paramref name="chair"/> must keep when its newest is at
    /// <paramref name="at"/>; null when the sign is not kept. A chair whose session awaits baseline confirmation keeps
    /// its pre-infusion window too, so the nurse confirming a few minutes after the start still gets the proposal
    /// (at most <see cref="Longest"/> back, as before).
    /// </summary>
    public DateTimeOffset? KeepFrom(ChairState chair, Sign sign, DateTimeOffset at)
    {
        var span = spans[(int)sign];
        if (span == TimeSpan.Zero)
        {
            return null;
        }

        var from = at - span;
        if (chair is { Session: { } session, Baseline: null } && baselineWindows[(int)sign] is var window && window > TimeSpan.Zero)
        {
            var preInfusion = session.StartedAt - window;
            from = preInfusion < from ? preInfusion : from;
        }

        return from > at - Longest ? from : at - Longest;
    }

    /// <summary>
    /// Since when <see cref="AlarmEngine.Recall"/> needs the stored readings of each sign at <paramref name="now"/>, after
    /// <paramref name="chairs"/> were restored: pulse rate with heart rate (it stands in for it), and a restored chair
    /// awaiting baseline confirmation reaching back to its pre-infusion window. Signs not kept are left out.
    /// </summary>
    public IReadOnlyDictionary<Sign, DateTimeOffset> RecallFrom(IEnumerable<ChairState> chairs, DateTimeOffset now)
    {
        var from = new SortedDictionary<Sign, DateTimeOffset>();
        var chairList = chairs.ToList();
        for (var i = 0; i < SignCount; i++)
        {
            var sign = (Sign)i;
            if (spans[i] == TimeSpan.Zero)
            {
                continue;
            }

            var since = now - spans[i];
            foreach (var chair in chairList)
            {
                if (KeepFrom(chair, sign, now) is { } chairFrom && chairFrom < since)
                {
                    since = chairFrom;
                }
            }

            from[sign] = since;
            if (sign == Sign.Hr)
            {
                from[Sign.Pr] = since;
            }
        }

        return from;
    }
}
