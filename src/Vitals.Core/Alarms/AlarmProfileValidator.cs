using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>Validates profiles and engine timing. Every message starts with the configuration key it is about.</summary>
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
                errors.Add(F("{0}.{1}: priority {2} is not low, medium or high", band.Sign.ShortName(), AlarmKeys.Name(band.Direction), (int)band.Priority));
                continue;
            }

            var info = band.Sign.Info();
            if (double.IsNaN(band.Threshold) || band.Threshold < info.HardMin || band.Threshold > info.HardMax)
            {
                errors.Add(F("{0}: {1} is outside the hard bounds {2}-{3} {4}", band.Key, band.Threshold, info.HardMin, info.HardMax, info.DisplayUnit));
            }
        }

        foreach (var duplicate in profile.Limits.GroupBy(b => b.Key).Where(g => g.Count() > 1))
        {
            errors.Add(F("{0}: defined more than once", duplicate.Key));
        }

        foreach (var sign in profile.Limits.Select(b => b.Sign).Distinct())
        {
            CheckOrder(profile, sign, errors);
        }

        foreach (var band in profile.BaselineChanges)
        {
            var key = "baseline." + AlarmKeys.Limit(band.Sign, band.Direction, band.Priority);
            if (!Enum.IsDefined(band.Priority))
            {
                errors.Add(F("{0}: priority is not low, medium or high", key));
            }

            if (band.Percent is null && band.Absolute is null)
            {
                errors.Add(F("{0}: needs a percent or an absolute change", key));
            }

            if (band.Percent is { } p && (p <= 0 || p > 100))
            {
                errors.Add(F("{0}.percent: {1} must be above 0 and at most 100", key, p));
            }

            if (band.Absolute is { } a && a <= 0)
            {
                errors.Add(F("{0}.absolute: {1} must be above 0", key, a));
            }
        }

        foreach (var rule in profile.RateRules)
        {
            var key = rule.Sign.ShortName() + ".rate";
            if (rule.Delta <= 0)
            {
                errors.Add(F("{0}.delta: {1} must be above 0", key, rule.Delta));
            }

            if (rule.Window <= TimeSpan.Zero || rule.Window > TimeSpan.FromMinutes(30))
            {
                errors.Add(F("{0}.window: {1} min must be above 0 and at most 30 min", key, rule.Window.TotalMinutes));
            }

            if (!Enum.IsDefined(rule.Priority))
            {
                errors.Add(F("{0}: priority is not low, medium or high", key));
            }
        }

        foreach (var t in profile.Timing)
        {
            var name = t.Sign.ShortName();
            if (t.ConditionDelay < TimeSpan.Zero || t.ConditionDelay > MaxDelay)
            {
                errors.Add(F("{0}.delay: {1} s must be between 0 and {2} s", name, t.ConditionDelay.TotalSeconds, MaxDelay.TotalSeconds));
            }

            if (t.ClearTime < TimeSpan.Zero || t.ClearTime > MaxDelay)
            {
                errors.Add(F("{0}.clear_time: {1} s must be between 0 and {2} s", name, t.ClearTime.TotalSeconds, MaxDelay.TotalSeconds));
            }

            if (t.HighPriorityDelay is { } fast && (fast < TimeSpan.Zero || fast > t.ConditionDelay))
            {
                errors.Add(F("{0}.delay_high: {1} s must be between 0 and {0}.delay ({2} s)", name, fast.TotalSeconds, t.ConditionDelay.TotalSeconds));
            }

            if (t.ClearMargin < 0 || double.IsNaN(t.ClearMargin))
            {
                errors.Add(F("{0}.clear_margin: {1} must not be negative", name, t.ClearMargin));
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
            errors.Add(F("reannounce: {0} s must be between 60 and 180 s", timing.Reannounce.TotalSeconds));
        }

        if (timing.EscalateAfter <= TimeSpan.Zero || timing.EscalateAfter > TimeSpan.FromMinutes(10))
        {
            errors.Add(F("escalate_after: {0} s must be above 0 and at most 600 s", timing.EscalateAfter.TotalSeconds));
        }

        if (timing.MaxPause <= TimeSpan.Zero || timing.MaxPause > TimeSpan.FromMinutes(2))
        {
            errors.Add(F("pause_max: {0} s must be above 0 and at most 120 s", timing.MaxPause.TotalSeconds));
        }

        if (timing.FeedLostMedium <= TimeSpan.Zero || timing.FeedLostHigh <= timing.FeedLostMedium)
        {
            errors.Add(F("feed_lost_high: {0} s must be above feed_lost_medium ({1} s), which must be above 0",
                timing.FeedLostHigh.TotalSeconds, timing.FeedLostMedium.TotalSeconds));
        }

        if (timing.SignalLost <= TimeSpan.Zero || timing.SignalLost > TimeSpan.FromMinutes(10))
        {
            errors.Add(F("signal_lost: {0} s must be above 0 and at most 600 s", timing.SignalLost.TotalSeconds));
        }

        if (timing.TempSignalLost <= TimeSpan.Zero || timing.TempSignalLost > TimeSpan.FromHours(1))
        {
            errors.Add(F("temp_signal_lost: {0} s must be above 0 and at most 3600 s", timing.TempSignalLost.TotalSeconds));
        }

        if (timing.NibpOverdueGrace < TimeSpan.Zero || timing.DefaultNibpCycle <= TimeSpan.Zero)
        {
            errors.Add("nibp_overdue_grace: must not be negative, and the NIBP cycle must be above 0");
        }

        if (timing.BaselineMinNibpReadings < 2)
        {
            errors.Add(F("baseline_min_nibp_readings: {0} must be at least 2", timing.BaselineMinNibpReadings));
        }

        if (timing.Magnesium.MaxRateGramsPerHour <= 0 || timing.Magnesium.MaxBolusGrams <= 0)
        {
            errors.Add("mg.max_rate: the magnesium rate and bolus maxima must be above 0");
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
                errors.Add(F("{0}: {1} must not be above {2} ({3})", lows[i].Key, lows[i].Threshold, lows[i - 1].Key, lows[i - 1].Threshold));
            }
        }

        for (var i = 1; i < highs.Count; i++)
        {
            if (highs[i].Threshold < highs[i - 1].Threshold)
            {
                errors.Add(F("{0}: {1} must not be below {2} ({3})", highs[i].Key, highs[i].Threshold, highs[i - 1].Key, highs[i - 1].Threshold));
            }
        }

        if (lows.Count > 0 && highs.Count > 0)
        {
            var low = lows.MaxBy(b => b.Threshold)!;
            var high = highs.MinBy(b => b.Threshold)!;
            if (low.Threshold >= high.Threshold)
            {
                errors.Add(F("{0}: {1} must be below {2} ({3})", low.Key, low.Threshold, high.Key, high.Threshold));
            }
        }
    }

    private static string F(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
