using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>
/// Technical alarms about the data itself: the whole feed gone quiet (<c>feed.lost</c>) and one continuous sign
/// lost while the others still arrive, or arriving only as sensor problems (<c>&lt;sign&gt;.lost</c>).
/// </summary>
internal sealed class SignalWatch(AlarmBook book, Func<AlarmTiming> timing)
{
    /// <summary>Rule id of the signal-lost alarm of <paramref name="sign"/>, for example <c>hr.lost</c>.</summary>
    public static string LostRule(Sign sign) => LostRules[(int)sign];

    // Built once: every judgeable reading asks for its sign's rule.
    private static readonly string[] LostRules = [.. Enum.GetValues<Sign>().Select(s => s.ShortName() + AlarmEngine.SignalLostSuffix)];

    /// <summary>Any observation keeps the feed alive and clears <c>feed.lost</c>.</summary>
    public void Received(ChairState chair, DateTimeOffset at, List<AlarmEvent> events)
    {
        chair.LastReceived = at;
        chair.WatchFeed = true;
        if (chair.AlarmOf(AlarmEngine.FeedLostRule) is not null) // ending a condition that is not there does nothing: asked once, cheaply
        {
            book.SetTechnical(chair.Key, AlarmEngine.FeedLostRule, null, "Monitor data flowing again", at, events);
        }
    }

    /// <summary>Records whether a reading of a continuous sign could be judged; a judgeable one ends its signal-lost alarm.</summary>
    public void Reading(ChairState chair, Sign sign, string? problem, DateTimeOffset at, List<AlarmEvent> events)
    {
        // Cuff readings are episodic (nibp.overdue covers a missing one); pulse rate comes from the SpO2 probe, whose loss spo2.lost reports.
        if (sign.Info().Episodic || sign == Sign.Pr)
        {
            return;
        }

        var signal = chair.Signal(sign, at);
        signal.Problem = problem;
        if (problem is null)
        {
            signal.LastValid = at;
            // Almost always there is no such alarm: the message is built only for one to end.
            if (chair.AlarmOf(LostRule(sign)) is not null)
            {
                book.SetTechnical(chair.Key, LostRule(sign), null, $"{sign.Info().Label} signal back", at, events, sign: sign);
            }
        }
    }

    public void Tick(ChairState chair, DateTimeOffset now, List<AlarmEvent> events)
    {
        if (!chair.WatchFeed || chair.LastReceived is not { } last)
        {
            return;
        }

        var t = timing();
        var gap = now - last;
        var priority = gap >= t.FeedLostHigh ? AlarmPriority.High : gap >= t.FeedLostMedium ? AlarmPriority.Medium : (AlarmPriority?)null;
        if (priority is { } p && (book.Find(chair.Key, AlarmEngine.FeedLostRule) is not { } current || current.Priority < p))
        {
            var threshold = p == AlarmPriority.High ? t.FeedLostHigh : t.FeedLostMedium;
            var text = string.Format(CultureInfo.InvariantCulture, "No data from the monitor for {0:0} s", threshold.TotalSeconds);
            book.SetTechnical(chair.Key, AlarmEngine.FeedLostRule, p, text, now, events, gap.TotalSeconds, threshold.TotalSeconds);
        }

        // A silent feed is feed.lost; a sign is lost only while the rest of the monitor's data still flows, so the
        // sign's silence is measured up to the chair's latest observation (a slow feed sending every sign at once never loses one).
        if (priority is not null)
        {
            return;
        }

        foreach (var (sign, signal) in chair.Signals)
        {
            var after = t.SignalLostAfter(sign);
            var silent = last - signal.LostSince;
            if (silent >= after)
            {
                var label = sign.Info().Label;
                var text = signal.Problem is { } problem ? $"{label} signal lost: {problem}" : $"{label} signal lost";
                book.SetTechnical(chair.Key, LostRule(sign), AlarmPriority.Medium, text, now, events, silent.TotalSeconds, after.TotalSeconds, sign);
            }
        }
    }

    /// <summary>Stops watching a chair (monitor unplugged on purpose): its feed and sign alarms end.</summary>
    public void Release(ChairState chair, string message, DateTimeOffset now, List<AlarmEvent> events)
    {
        chair.WatchFeed = false;
        book.SetTechnical(chair.Key, AlarmEngine.FeedLostRule, null, message, now, events);
        foreach (var sign in chair.Signals.Keys)
        {
            book.SetTechnical(chair.Key, LostRule(sign), null, message, now, events, sign: sign);
        }

        chair.ClearSignals();
    }
}
