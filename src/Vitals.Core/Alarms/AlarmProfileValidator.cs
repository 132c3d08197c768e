using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>
/// Validates profiles and engine timing. Every message is <c>key: plain text</c>: the configuration key it is about (for
/// config files and for placing the message beside its field), then a sentence in plain names and units for admins
/// ("NIBP systolic: low (medium) 170 mmHg must be below high (medium) 160 mmHg"). <see cref="PlainText"/> splits them.
/// </summary>
public static class AlarmProfileValidator
{
    /// <summary>Longest condition delay or clear time accepted for a sign.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(2);

    /// <summary>Problems with <paramref name="profile"/>; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(AlarmProfile profile)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(profile.Name))
        {
            errors.Add("profile.name: required");
        }

        foreach (var band in profile.Limits)
        {
            if (!Enum.IsDefined(band.Priority))
            {
                errors.Add(F("{0}.{1}: {2}: {1} alarm priority {3} is not low, medium or high", band.Sign.ShortName(), AlarmKeys.Name(band.Direction), band.Sign.Info().Label, (int)band.Priority));
                continue;
            }

            var info = band.Sign.Info();
            if (double.IsNaN(band.Threshold) || band.Threshold < info.HardMin || band.Threshold > info.HardMax)
            {
                errors.Add(F("{0}: {1}: {2} {3} is outside the possible range {4}-{5} {6}", band.Key, info.Label, Band(band), band.Threshold, info.HardMin, info.HardMax, info.DisplayUnit));
            }
        }

        foreach (var duplicate in profile.Limits.GroupBy(b => b.Key).Where(g => g.Count() > 1))
        {
            var band = duplicate.First();
            errors.Add(F("{0}: {1}: {2} is set more than once", duplicate.Key, band.Sign.Info().Label, Band(band)));
        }

        foreach (var sign in profile.Limits.Select(b => b.Sign).Distinct())
        {
            CheckOrder(profile, sign, errors);
        }

        foreach (var band in profile.BaselineChanges)
        {
            var key = "baseline." + AlarmKeys.Limit(band.Sign, band.Direction, band.Priority);
            var info = band.Sign.Info();
            var name = F("{0}: change from baseline, {1} ({2})", info.Label, AlarmKeys.Name(band.Direction), AlarmKeys.Name(band.Priority));
            if (!Enum.IsDefined(band.Priority))
            {
                errors.Add(F("{0}: {1}: the priority is not low, medium or high", key, name));
            }

            if (band.Percent is null && band.Absolute is null)
            {
                errors.Add(F("{0}: {1} needs a percent or an absolute change", key, name));
            }

            if (band.Percent is { } p && (p <= 0 || p > 100))
            {
                errors.Add(F("{0}.percent: {1}: {2} % must be above 0 and at most 100 %", key, name, p));
            }

            if (band.Absolute is { } a && a <= 0)
            {
                errors.Add(F("{0}.absolute: {1}: {2} {3} must be above 0", key, name, a, info.DisplayUnit));
            }
        }

        foreach (var rule in profile.RateRules)
        {
            var key = rule.Sign.ShortName() + ".rate";
            var info = rule.Sign.Info();
            if (rule.Delta <= 0)
            {
                errors.Add(F("{0}.delta: {1}: rate-of-change alarm: a change of {2} {3} must be above 0", key, info.Label, rule.Delta, info.DisplayUnit));
            }

            if (rule.Window <= TimeSpan.Zero || rule.Window > TimeSpan.FromMinutes(30))
            {
                errors.Add(F("{0}.window: {1}: rate-of-change alarm: a window of {2} min must be above 0 and at most 30 min", key, info.Label, rule.Window.TotalMinutes));
            }

            if (!Enum.IsDefined(rule.Priority))
            {
                errors.Add(F("{0}: {1}: rate-of-change alarm: the priority is not low, medium or high", key, info.Label));
            }
        }

        foreach (var t in profile.Timing)
        {
            var name = t.Sign.ShortName();
            var info = t.Sign.Info();
            if (t.ConditionDelay < TimeSpan.Zero || t.ConditionDelay > MaxDelay)
            {
                errors.Add(F("{0}.delay: {1}: alarm delay {2} s must be between 0 and {3} s", name, info.Label, t.ConditionDelay.TotalSeconds, MaxDelay.TotalSeconds));
            }

            if (t.ClearTime < TimeSpan.Zero || t.ClearTime > MaxDelay)
            {
                errors.Add(F("{0}.clear_time: {1}: clear time {2} s must be between 0 and {3} s", name, info.Label, t.ClearTime.TotalSeconds, MaxDelay.TotalSeconds));
            }

            if (t.HighPriorityDelay is { } fast && (fast < TimeSpan.Zero || fast > t.ConditionDelay))
            {
                errors.Add(F("{0}.delay_high: {1}: high-priority alarm delay {2} s must be between 0 and the alarm delay ({3} s)", name, info.Label, fast.TotalSeconds, t.ConditionDelay.TotalSeconds));
            }

            if (t.ClearMargin < 0 || double.IsNaN(t.ClearMargin))
            {
                errors.Add(F("{0}.clear_margin: {1}: clear margin {2} {3} must not be negative", name, info.Label, t.ClearMargin, info.DisplayUnit));
            }
        }

        return errors;
    }

    /// <summary>Problems with engine-wide <paramref name="timing"/>; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(AlarmTiming timing)
    {
        var errors = new List<string>();
        if (timing.Reannounce < TimeSpan.FromMinutes(1) || timing.Reannounce > TimeSpan.FromMinutes(3))
        {
            errors.Add(F("reannounce: Announce an acknowledged alarm again after: {0} s must be between 60 and 180 s", timing.Reannounce.TotalSeconds));
        }

        if (timing.EscalateAfter <= TimeSpan.Zero || timing.EscalateAfter > TimeSpan.FromMinutes(10))
        {
            errors.Add(F("escalate_after: Raise an unacknowledged medium alarm to high after: {0} s must be above 0 and at most 600 s", timing.EscalateAfter.TotalSeconds));
        }

        if (timing.MaxPause <= TimeSpan.Zero || timing.MaxPause > TimeSpan.FromMinutes(2))
        {
            errors.Add(F("pause_max: Longest audio pause: {0} s must be above 0 and at most 120 s", timing.MaxPause.TotalSeconds));
        }

        if (timing.FeedLostMedium <= TimeSpan.Zero || timing.FeedLostHigh <= timing.FeedLostMedium)
        {
            errors.Add(F("feed_lost_high: Feed lost: the high alarm after {0} s must come after the medium alarm ({1} s), which must be above 0 s",
                timing.FeedLostHigh.TotalSeconds, timing.FeedLostMedium.TotalSeconds));
        }

        if (timing.SignalLost <= TimeSpan.Zero || timing.SignalLost > TimeSpan.FromMinutes(10))
        {
            errors.Add(F("signal_lost: Signal lost (HR, pulse rate, SpO2, RR): alarm after no reading for: {0} s must be above 0 and at most 600 s", timing.SignalLost.TotalSeconds));
        }

        if (timing.TempSignalLost <= TimeSpan.Zero || timing.TempSignalLost > TimeSpan.FromHours(1))
        {
            errors.Add(F("temp_signal_lost: Temperature signal lost: alarm after no reading for: {0} s must be above 0 and at most 3600 s", timing.TempSignalLost.TotalSeconds));
        }

        if (timing.NibpOverdueGrace < TimeSpan.Zero || timing.DefaultNibpCycle <= TimeSpan.Zero)
        {
            errors.Add("nibp_overdue_grace: NIBP overdue: the grace after the cycle must not be negative, and the NIBP cycle must be above 0 s");
        }

        if (timing.BaselineMinNibpReadings < 2)
        {
            errors.Add(F("baseline_min_nibp_readings: Baseline: {0} NIBP readings are too few; use at least 2", timing.BaselineMinNibpReadings));
        }

        if (timing.Magnesium.MaxRateGramsPerHour <= 0 || timing.Magnesium.MaxBolusGrams <= 0)
        {
            errors.Add("mg.max_rate: Magnesium: the highest rate (g/h) and the largest bolus (g) must be above 0");
        }

        return errors;
    }

    private static void CheckOrder(AlarmProfile profile, Sign sign, List<string> errors)
    {
        var lows = profile.Limits.Where(b => b.Sign == sign && b.Direction == LimitDirection.Low && Enum.IsDefined(b.Priority)).OrderBy(b => b.Priority).ToList();
        var highs = profile.Limits.Where(b => b.Sign == sign && b.Direction == LimitDirection.High && Enum.IsDefined(b.Priority)).OrderBy(b => b.Priority).ToList();

        // A more severe band must lie further out than a milder one, or it could never be reached first.
        for (var i = 1; i < lows.Count; i++)
        {
            if (lows[i].Threshold > lows[i - 1].Threshold)
            {
                errors.Add(Order(lows[i], "must not be above", lows[i - 1]));
            }
        }

        for (var i = 1; i < highs.Count; i++)
        {
            if (highs[i].Threshold < highs[i - 1].Threshold)
            {
                errors.Add(Order(highs[i], "must not be below", highs[i - 1]));
            }
        }

        if (lows.Count > 0 && highs.Count > 0)
        {
            var low = lows.MaxBy(b => b.Threshold)!;
            var high = highs.MinBy(b => b.Threshold)!;
            if (low.Threshold >= high.Threshold)
            {
                errors.Add(Order(low, "must be below", high));
            }
        }
    }

    /// <summary>The plain part of a message (what follows <c>key: </c>), for people who should not need the key.</summary>
    public static string PlainText(string error)
    {
        ArgumentNullException.ThrowIfNull(error);
        int colon = error.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && !error.AsSpan(0, colon).Contains(' ') ? error[(colon + 2)..] : error;
    }

    /// <summary>"NIBP systolic: low (medium) 170 mmHg must be below high (medium) 160 mmHg", keyed by the first band.</summary>
    private static string Order(LimitBand band, string relation, LimitBand other)
    {
        var info = band.Sign.Info();
        return F("{0}: {1}: {2} {3} {4} {5} {6} {7} {4}", band.Key, info.Label, Band(band), band.Threshold, info.DisplayUnit, relation, Band(other), other.Threshold);
    }

    /// <summary>A limit band in words: "low (medium)".</summary>
    private static string Band(LimitBand band) => $"{AlarmKeys.Name(band.Direction)} ({AlarmKeys.Name(band.Priority)})";

    private static string F(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
