using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>A chair's pre-infusion baseline: medians of several readings, never a single anxious one (Bijker et al.).</summary>
/// <param name="Sys">NIBP systolic median, mm[Hg].</param>
/// <param name="Dia">NIBP diastolic median, mm[Hg].</param>
/// <param name="Map">NIBP mean median, mm[Hg].</param>
/// <param name="Hr">Heart rate median, /min.</param>
/// <param name="Rr">Respiration rate median, /min.</param>
/// <param name="NibpReadings">How many NIBP readings the medians come from (0 when entered by hand).</param>
/// <param name="ConfirmedBy">The nurse who confirmed it, once confirmed.</param>
/// <param name="ConfirmedAt">When it was confirmed.</param>
public sealed record Baseline(
    double? Sys,
    double? Dia,
    double? Map,
    double? Hr,
    double? Rr,
    int NibpReadings,
    string? ConfirmedBy = null,
    DateTimeOffset? ConfirmedAt = null)
{
    /// <summary>The baseline value of <paramref name="sign"/>, if there is one.</summary>
    public double? ValueFor(Sign sign) => sign switch
    {
        Sign.NibpSys => Sys,
        Sign.NibpDia => Dia,
        Sign.NibpMap => Map,
        Sign.Hr or Sign.Pr => Hr,
        Sign.Rr => Rr,
        _ => null,
    };

    /// <summary>The entered signs outside their physiological bounds (at or below 0, or above the sign's hard maximum).</summary>
    public IReadOnlyList<Sign> OutOfBounds() =>
        [.. new[] { Sign.NibpSys, Sign.NibpDia, Sign.NibpMap, Sign.Hr, Sign.Rr }
            .Where(s => ValueFor(s) is { } v && (v <= 0 || v > s.Info().HardMax))];
}

/// <summary>Where a chair's baseline stands.</summary>
public enum BaselineState
{
    /// <summary>No infusion session at the chair.</summary>
    NoSession,

    /// <summary>Not enough pre-infusion readings yet.</summary>
    Collecting,

    /// <summary>A baseline can be proposed and awaits a nurse's confirmation.</summary>
    Proposed,

    /// <summary>Confirmed by a nurse; change-from-baseline rules are active.</summary>
    Confirmed,
}

/// <summary>A chair's baseline status for the dashboard.</summary>
/// <param name="State">Where it stands.</param>
/// <param name="Baseline">The confirmed baseline, or the proposal when <see cref="BaselineState.Proposed"/>.</param>
/// <param name="Message">Why baseline rules are (in)active, for the nurse.</param>
public sealed record BaselineStatus(BaselineState State, Baseline? Baseline, string Message);

/// <summary>A timestamped reading, as kept in the engine's short history.</summary>
/// <param name="At">Gateway receive time.</param>
/// <param name="Value">Value in the sign's unit.</param>
public readonly record struct Reading(DateTimeOffset At, double Value);

/// <summary>Pure baseline arithmetic.</summary>
public static class BaselineCalculator
{
    /// <summary>
    /// Proposes a baseline from readings taken up to <paramref name="end"/> (the infusion start, or now if earlier).
    /// Returns null and a reason when the NIBP readings do not suffice.
    /// </summary>
    public static Baseline? Propose(
        IReadOnlyDictionary<Sign, IReadOnlyList<Reading>> history, DateTimeOffset end, AlarmTiming timing, out string reason)
    {
        var sys = InWindow(history, Sign.NibpSys, end - timing.BaselineWindow, end);
        var spacingOk = sys.Count >= 2 && sys[^1].At - sys[0].At >= timing.BaselineNibpSpacing;
        if (sys.Count < timing.BaselineMinNibpReadings || !spacingOk)
        {
            reason = string.Format(
                CultureInfo.InvariantCulture,
                "need {0} NIBP readings at least {1:0.#} min apart in the {2:0} min before the infusion (have {3})",
                timing.BaselineMinNibpReadings, timing.BaselineNibpSpacing.TotalMinutes, timing.BaselineWindow.TotalMinutes, sys.Count);
            return null;
        }

        reason = "";
        var continuousFrom = end - timing.BaselineContinuousWindow;
        return new Baseline(
            Median(sys),
            Median(InWindow(history, Sign.NibpDia, end - timing.BaselineWindow, end)),
            Median(InWindow(history, Sign.NibpMap, end - timing.BaselineWindow, end)),
            Median(InWindow(history, Sign.Hr, continuousFrom, end)),
            Median(InWindow(history, Sign.Rr, continuousFrom, end)),
            sys.Count);
    }

    /// <summary>The median of <paramref name="readings"/>' values, or null when there are none.</summary>
    public static double? Median(IReadOnlyList<Reading> readings)
    {
        if (readings.Count == 0)
        {
            return null;
        }

        var values = readings.Select(r => r.Value).Order().ToArray();
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    private static List<Reading> InWindow(IReadOnlyDictionary<Sign, IReadOnlyList<Reading>> history, Sign sign, DateTimeOffset from, DateTimeOffset to) =>
        history.TryGetValue(sign, out var readings) ? [.. readings.Where(r => r.At >= from && r.At <= to)] : [];
}
