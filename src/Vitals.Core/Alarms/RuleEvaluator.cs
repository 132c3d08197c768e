using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>
/// The judgement of one rule on one value: violated at <see cref="Priority"/>, or not violated and either back
/// inside by the clear margin (<see cref="Clear"/>) or in the hysteresis band between.
/// </summary>
internal readonly record struct Verdict(string Rule, Sign Sign, AlarmPriority? Priority, bool Clear, double Value, double? Limit, Func<string> Describe)
{
    // Text is built only when an alarm needs it: most readings are normal and never shown.
    public string Message => Describe();
}

/// <summary>Pure rule arithmetic: a value (and the chair's baseline and history) in, verdicts out.</summary>
internal static class RuleEvaluator
{
    private static readonly LimitDirection[] Directions = [LimitDirection.Low, LimitDirection.High];

    /// <summary>One verdict per direction that has limit bands for <paramref name="sign"/>.</summary>
    public static IEnumerable<Verdict> Limits(AlarmProfile profile, Sign sign, double value, double margin)
    {
        var info = sign.Info();
        foreach (var direction in Directions)
        {
            var bands = profile.Limits.Where(b => b.Sign == sign && b.Direction == direction).ToList();
            if (bands.Count == 0)
            {
                continue;
            }

            var rule = $"{info.ShortName}.{AlarmKeys.Name(direction)}";
            var worst = bands.Where(b => b.IsViolatedBy(value)).MaxBy(b => b.Priority);
            if (worst is not null)
            {
                yield return new Verdict(rule, sign, worst.Priority, false, value, worst.Threshold,
                    () => F("{0} {1}: {2:0.#} {3} (limit {4} {5:0.#})", info.Label, AlarmKeys.Name(direction), value, info.DisplayUnit, Op(worst), worst.Threshold));
                continue;
            }

            var mildest = direction == LimitDirection.Low ? bands.MaxBy(b => b.Threshold)! : bands.MinBy(b => b.Threshold)!;
            var clear = !bands.Any(b => b.IsViolatedBy(Worsen(value, direction, margin)));
            yield return new Verdict(rule, sign, null, clear, value, mildest.Threshold,
                () => F("{0} back within limit: {1:0.#} {2}", info.Label, value, info.DisplayUnit));
        }
    }

    /// <summary>One verdict per direction that has baseline bands for <paramref name="sign"/>; none without a baseline value.</summary>
    public static IEnumerable<Verdict> BaselineChanges(AlarmProfile profile, Baseline? baseline, Sign sign, double value, double margin)
    {
        if (baseline?.ValueFor(sign) is not { } reference)
        {
            yield break;
        }

        var info = sign.Info();
        foreach (var direction in Directions)
        {
            var bands = profile.BaselineChanges.Where(b => b.Sign == sign && b.Direction == direction).ToList();
            if (bands.Count == 0)
            {
                continue;
            }

            var rule = $"{info.ShortName}.{(direction == LimitDirection.Low ? "drop" : "rise")}";
            var change = Math.Abs(value - reference) * 100 / reference;
            var worst = bands.Where(b => b.IsViolatedBy(value, reference)).MaxBy(b => b.Priority);
            if (worst is not null)
            {
                yield return new Verdict(rule, sign, worst.Priority, false, value, worst.ThresholdFor(reference),
                    () => F("{0} {1} {2:0.#} % from baseline {3:0.#}: {4:0.#} {5}", info.Label, direction == LimitDirection.Low ? "fell" : "rose", change, reference, value, info.DisplayUnit));
                continue;
            }

            var mildest = bands.MinBy(b => Math.Abs(b.ThresholdFor(reference) - reference))!;
            var clear = !bands.Any(b => b.IsViolatedBy(Worsen(value, direction, margin), reference));
            yield return new Verdict(rule, sign, null, clear, value, mildest.ThresholdFor(reference),
                () => F("{0} back near baseline {1:0.#}: {2:0.#} {3}", info.Label, reference, value, info.DisplayUnit));
        }
    }

    /// <summary>True for a rate-of-change rule id (<c>hr.rate</c>): an advisory that never escalates by itself.</summary>
    public static bool IsRateRule(string rule, Sign? sign) => sign is { } s && rule == $"{s.ShortName()}.rate";

    /// <summary>One verdict per rate rule of <paramref name="sign"/>, comparing with the level at the start of the rule's window.</summary>
    public static IEnumerable<Verdict> RatesOfChange(AlarmProfile profile, Sign sign, double value, DateTimeOffset at, IReadOnlyList<Reading> history, double margin)
    {
        var info = sign.Info();
        foreach (var rule in profile.RateRules.Where(r => r.Sign == sign))
        {
            var change = NetChange(history, value, at - rule.Window);
            var id = $"{info.ShortName}.rate";
            yield return change > rule.Delta
                ? new Verdict(id, sign, rule.Priority, false, change, rule.Delta,
                    () => F("{0} changed by {1:0.#} {2} within {3:0.#} min (limit {4:0.#})", info.Label, change, info.DisplayUnit, rule.Window.TotalMinutes, rule.Delta))
                : new Verdict(id, sign, null, change <= rule.Delta - margin, change, rule.Delta,
                    () => F("{0} steady again: change {1:0.#} {2} within {3:0.#} min", info.Label, change, info.DisplayUnit, rule.Window.TotalMinutes));
        }
    }

    // The change from the level at the start of the window (the earliest reading inside it), not from any reading:
    // a transient that has passed no longer counts, so the advisory ends when the trend ends. History is in time order.
    private static double NetChange(IReadOnlyList<Reading> history, double value, DateTimeOffset from)
    {
        foreach (var reading in history)
        {
            if (reading.At >= from)
            {
                return Math.Abs(value - reading.Value);
            }
        }

        return 0;
    }

    // Moves a value towards the abnormal side: a value clears only if it would still be normal that much worse.
    private static double Worsen(double value, LimitDirection direction, double margin) =>
        direction == LimitDirection.Low ? value - margin : value + margin;

    private static string Op(LimitBand band) => (band.Direction, band.Inclusive) switch
    {
        (LimitDirection.Low, true) => "<=",
        (LimitDirection.Low, false) => "<",
        (LimitDirection.High, true) => ">=",
        _ => ">",
    };

    private static string F(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
