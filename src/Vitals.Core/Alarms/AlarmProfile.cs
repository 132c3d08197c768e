using System.Runtime.CompilerServices;

namespace Vitals.Core.Alarms;

/// <summary>Which side of a limit is abnormal.</summary>
public enum LimitDirection
{
    /// <summary>Values below the threshold (or a fall from baseline) are abnormal.</summary>
    Low,

    /// <summary>Values above the threshold (or a rise from baseline) are abnormal.</summary>
    High,
}

/// <summary>
/// One priority band of an absolute limit. Several bands of one sign and direction form one alarm
/// condition (for example <c>hr.low</c>) whose priority is the most severe band violated.
/// </summary>
/// <param name="Sign">The sign judged.</param>
/// <param name="Direction">Low: abnormal below the threshold; High: abnormal above it.</param>
/// <param name="Priority">Priority while this band is violated.</param>
/// <param name="Threshold">The limit, in the sign's unit.</param>
/// <param name="Inclusive">True when the threshold itself is abnormal (<c>&lt;=</c> or <c>&gt;=</c>).</param>
public sealed record LimitBand(Sign Sign, LimitDirection Direction, AlarmPriority Priority, double Threshold, bool Inclusive = false)
{
    /// <summary>The configuration key of this band, for example <c>hr.low.medium</c>.</summary>
    public string Key => AlarmKeys.Limit(Sign, Direction, Priority);

    /// <summary>True when <paramref name="value"/> is on the abnormal side of this band.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // twice per band per reading; not inlined by the AOT build otherwise (AOT: ~195 -> ~183 ns per reading)
    public bool IsViolatedBy(double value) => Direction == LimitDirection.Low
        ? (Inclusive ? value <= Threshold : value < Threshold)
        : (Inclusive ? value >= Threshold : value > Threshold);
}

/// <summary>
/// One priority band of a change-from-baseline rule: violated when the change reaches
/// <paramref name="Percent"/> of the baseline or <paramref name="Absolute"/> units, whichever comes first.
/// </summary>
/// <param name="Sign">The sign judged.</param>
/// <param name="Direction">Low: a fall from baseline; High: a rise.</param>
/// <param name="Priority">Priority while violated.</param>
/// <param name="Percent">Change in percent of the baseline that violates (inclusive), if any.</param>
/// <param name="Absolute">Change in the sign's unit that violates (inclusive), if any.</param>
public sealed record BaselineBand(Sign Sign, LimitDirection Direction, AlarmPriority Priority, double? Percent, double? Absolute)
{
    // Thresholds are inclusive ("a drop of 20 % or more"); the tolerance absorbs binary rounding of percentages.
    private const double Tolerance = 1e-9;

    /// <summary>True when <paramref name="value"/> has moved from <paramref name="baseline"/> by this band's amount or more.</summary>
    public bool IsViolatedBy(double value, double baseline)
    {
        var change = Direction == LimitDirection.Low ? baseline - value : value - baseline;
        if (change <= 0 || baseline <= 0)
        {
            return false;
        }

        return (Percent is { } p && change * 100 / baseline >= p - Tolerance)
            || (Absolute is { } a && change >= a - Tolerance);
    }

    /// <summary>The value at which this band starts to be violated for <paramref name="baseline"/> (the nearer of its two criteria).</summary>
    public double ThresholdFor(double baseline)
    {
        var byPercent = Percent is { } p ? baseline * p / 100 : double.PositiveInfinity;
        var byAbsolute = Absolute ?? double.PositiveInfinity;
        var change = Math.Min(byPercent, byAbsolute);
        return Direction == LimitDirection.Low ? baseline - change : baseline + change;
    }
}

/// <summary>Rate of change: violated when the sign moved by more than <paramref name="Delta"/> within <paramref name="Window"/>.</summary>
/// <param name="Sign">The sign judged.</param>
/// <param name="Delta">Largest tolerated change (exclusive), in the sign's unit.</param>
/// <param name="Window">How far back readings are compared.</param>
/// <param name="Priority">Priority while violated.</param>
public sealed record RateOfChangeRule(Sign Sign, double Delta, TimeSpan Window, AlarmPriority Priority);

/// <summary>Timing of the physiological rules of one sign.</summary>
/// <param name="Sign">The sign.</param>
/// <param name="ConditionDelay">How long the condition must persist before the alarm is raised (zero for episodic NIBP).</param>
/// <param name="ClearMargin">How far back inside the limit a value must be to count towards clearing.</param>
/// <param name="ClearTime">
/// How long values must stay inside by the margin before the condition clears; also how long a condition still
/// pending may go without an abnormal value before its delay starts over.
/// </param>
/// <param name="HighPriorityDelay">A shorter delay for values in the high-priority band (apnea under MgSO4), if any.</param>
public sealed record SignTiming(Sign Sign, TimeSpan ConditionDelay, double ClearMargin, TimeSpan ClearTime, TimeSpan? HighPriorityDelay = null);

/// <summary>A nursing check the gateway cannot measure, prompted at intervals during an infusion.</summary>
/// <param name="Id">Stable id, used in the rule id <c>check.&lt;id&gt;</c>.</param>
/// <param name="Label">Text for the nurse.</param>
public sealed record CheckPrompt(string Id, string Label);

/// <summary>A named set of alarm rules (the default adult profile, the MgSO4 infusion profile, ...).</summary>
/// <param name="Name">Profile name, for example <c>default adult</c>.</param>
/// <param name="Limits">Absolute limit bands.</param>
/// <param name="BaselineChanges">Change-from-baseline bands; inactive until a baseline is confirmed.</param>
/// <param name="RateRules">Rate-of-change rules.</param>
/// <param name="Timing">Condition delay and clear hysteresis per sign; signs not listed have none.</param>
/// <param name="Checks">Nursing checks prompted during an infusion.</param>
public sealed record AlarmProfile(
    string Name,
    IReadOnlyList<LimitBand> Limits,
    IReadOnlyList<BaselineBand> BaselineChanges,
    IReadOnlyList<RateOfChangeRule> RateRules,
    IReadOnlyList<SignTiming> Timing,
    IReadOnlyList<CheckPrompt> Checks)
{
    /// <summary>The timing of <paramref name="sign"/>, or no delay and no hysteresis when not configured.</summary>
    public SignTiming TimingFor(Sign sign)
    {
        for (var i = 0; i < Timing.Count; i++) // asked with every reading: no closure, no enumerator
        {
            if (Timing[i].Sign == sign)
            {
                return Timing[i];
            }
        }

        return new SignTiming(sign, TimeSpan.Zero, 0, TimeSpan.Zero);
    }

    /// <summary>The profile as configuration keys: each limit band's threshold, and each sign's delay, clear margin and clear time (seconds).</summary>
    public SortedDictionary<string, double> Values()
    {
        var values = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var band in Limits)
        {
            values[band.Key] = band.Threshold;
        }

        foreach (var t in Timing)
        {
            var sign = t.Sign.ShortName();
            values[$"{sign}.delay"] = t.ConditionDelay.TotalSeconds;
            values[$"{sign}.clear_margin"] = t.ClearMargin;
            values[$"{sign}.clear_time"] = t.ClearTime.TotalSeconds;
            if (t.HighPriorityDelay is { } fast)
            {
                values[$"{sign}.delay_high"] = fast.TotalSeconds;
            }
        }

        return values;
    }
}

/// <summary>Engine-wide timing (not per sign). Defaults follow issue 6 and IEC 60601-1-8 / ISO 80601-2-61.</summary>
public sealed record AlarmTiming
{
    /// <summary>An acknowledged alarm whose condition persists is announced again after this (1-3 min).</summary>
    public TimeSpan Reannounce { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>An unacknowledged medium-priority alarm becomes high priority after this.</summary>
    public TimeSpan EscalateAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Longest audio pause (ISO 80601-2-61 caps it at 2 min).</summary>
    public TimeSpan MaxPause { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>No data from a chair for this long raises a medium technical alarm.</summary>
    public TimeSpan FeedLostMedium { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>No data from a chair for this long makes the feed-lost alarm high priority.</summary>
    public TimeSpan FeedLostHigh { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// One continuous sign (HR, SpO2, RR) giving no judgeable reading for this long, while the rest of the chair's data
    /// still flows, raises its medium signal-lost technical alarm (<c>hr.lost</c>). Longer than the feed-lost delay so a
    /// monitor that goes quiet as a whole raises only <c>feed.lost</c>.
    /// </summary>
    public TimeSpan SignalLost { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Signal-lost delay of temperature, which many monitors send only every few minutes.</summary>
    public TimeSpan TempSignalLost { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>NIBP is overdue during an infusion when no cuff reading came for the cycle plus this.</summary>
    public TimeSpan NibpOverdueGrace { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>NIBP cycle assumed when a session does not give one.</summary>
    public TimeSpan DefaultNibpCycle { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Pre-infusion window whose NIBP readings form the baseline.</summary>
    public TimeSpan BaselineWindow { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Pre-infusion window whose HR and RR readings form the baseline.</summary>
    public TimeSpan BaselineContinuousWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The first and last baseline NIBP readings must be at least this far apart.</summary>
    public TimeSpan BaselineNibpSpacing { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Fewest NIBP readings a baseline may be made of.</summary>
    public int BaselineMinNibpReadings { get; init; } = 2;

    /// <summary>Pulse rate stands in for heart rate when no ECG heart rate came for this long.</summary>
    public TimeSpan PulseRateFallbackAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Nursing checks come this often during the loading phase.</summary>
    public TimeSpan CheckLoadingInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Nursing checks come this often after the loading phase.</summary>
    public TimeSpan CheckMaintenanceInterval { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>Loading phase assumed when a session does not give one (a 4 g loading dose runs 5-20 min).</summary>
    public TimeSpan DefaultLoadingDuration { get; init; } = TimeSpan.FromMinutes(20);

    /// <summary>Magnesium rate and bolus limits.</summary>
    public MagnesiumLimits Magnesium { get; init; } = new();

    /// <summary>The signal-lost delay of <paramref name="sign"/>.</summary>
    public TimeSpan SignalLostAfter(Sign sign) => sign == Sign.Temp ? TempSignalLost : SignalLost;

    /// <summary>The engine settings an admin can change, by key (times in seconds); <see cref="AlarmConfiguration.SetTimingValue"/> takes the same keys.</summary>
    public SortedDictionary<string, double> Values() => new(StringComparer.Ordinal)
    {
        ["reannounce"] = Reannounce.TotalSeconds,
        ["escalate_after"] = EscalateAfter.TotalSeconds,
        ["pause_max"] = MaxPause.TotalSeconds,
        ["feed_lost_medium"] = FeedLostMedium.TotalSeconds,
        ["feed_lost_high"] = FeedLostHigh.TotalSeconds,
        ["signal_lost"] = SignalLost.TotalSeconds,
        ["temp_signal_lost"] = TempSignalLost.TotalSeconds,
        ["nibp_overdue_grace"] = NibpOverdueGrace.TotalSeconds,
        ["nibp_cycle"] = DefaultNibpCycle.TotalSeconds,
        ["mg.max_rate"] = Magnesium.MaxRateGramsPerHour,
        ["mg.max_bolus"] = Magnesium.MaxBolusGrams,
    };
}

/// <summary>Builders of the configuration keys used in overrides and audit records.</summary>
public static class AlarmKeys
{
    /// <summary>Key of a limit band, for example <c>nibp_sys.low.high</c>.</summary>
    public static string Limit(Sign sign, LimitDirection direction, AlarmPriority priority) =>
        $"{sign.ShortName()}.{Name(direction)}.{Name(priority)}";

    /// <summary>Lower-case name of a direction.</summary>
    public static string Name(LimitDirection direction) => direction == LimitDirection.Low ? "low" : "high";

    /// <summary>Lower-case name of a priority.</summary>
    public static string Name(AlarmPriority priority) => priority switch
    {
        AlarmPriority.Low => "low",
        AlarmPriority.Medium => "medium",
        AlarmPriority.High => "high",
        _ => priority.ToString(),
    };
}
