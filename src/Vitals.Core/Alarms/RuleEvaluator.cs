using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vitals.Core.Alarms;

/// <summary>
/// The judgement of one rule on one value: violated at <see cref="Priority"/>, or not violated and either back
/// inside by the clear margin (<see cref="Clear"/>) or in the hysteresis band between.
/// </summary>
/// <remarks>
/// Text is built only when an alarm needs it: most readings are normal and never shown. <see cref="Message"/> is a
/// static function of the verdict, its <see cref="Source"/> (band or rate rule) and <see cref="Reference"/> (the
/// baseline), so judging a reading allocates no text and no delegate. <see cref="Slot"/> is the rule's fixed index
/// (below <see cref="RuleEvaluator.SlotCount"/>): a chair finds the rule's condition track by it, and the rule id and
/// how to describe it follow from it. So a verdict holds one reference, not three: each is copied into the reused
/// buffer per reading, and every reference copied into the heap is a write barrier.
/// </remarks>
internal readonly record struct Verdict(
    int Slot, Sign Sign, AlarmPriority? Priority, bool Clear, double Value, double? Limit, object? Source = null, double Reference = 0)
{
    /// <summary>The rule id, for example <c>hr.high</c>.</summary>
    public string Rule => RuleEvaluator.RuleAt(Slot);

    public string Message => RuleEvaluator.Describe(this);
}

/// <summary>
/// The verdicts of one reading, one buffer reused by every <see cref="AlarmEngine.Observe"/>. Emptied by forgetting its
/// count: a <see cref="List{T}"/> of verdicts zeroed them on every Clear (they hold references), 6 % of Observe's samples
/// in a perf profile of the AOT gateway on the harness. The entries left behind point only at rule ids, bands and
/// describers, which the profiles hold anyway.
/// </summary>
internal sealed class VerdictBuffer
{
    private Verdict[] items = new Verdict[8];

    public int Count { get; private set; }

    public void Reset() => Count = 0;

    // Inlined, the verdict is built in its slot instead of built, then copied (80 bytes and their write barriers): the
    // harness stream compiled AOT went from 229-247 to 194-211 ns per reading.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(in Verdict verdict)
    {
        if (Count == items.Length)
        {
            Array.Resize(ref items, Count * 2);
        }

        items[Count++] = verdict;
    }

    public ReadOnlySpan<Verdict> AsSpan() => items.AsSpan(0, Count);
}

/// <summary>
/// Pure rule arithmetic: a value (and the chair's baseline and history) in, verdicts out. Every reading of every chair
/// passes through here, so the rules are read with plain loops over arrays sorted by sign (<see cref="ProfileRules"/>) into the caller's list, and rule ids are built once:
/// the LINQ version (iterators, band lists, Concat, ToList) was a fifth of the gateway's CPU at 32,000 readings/s.
/// </summary>
internal static class RuleEvaluator
{
    private static readonly LimitDirection[] Directions = [LimitDirection.Low, LimitDirection.High];

    // Rule ids by sign and direction: hr.low, hr.high; hr.drop, hr.rise; hr.rate.
    private static readonly string[][] LimitRules = RuleIds(d => AlarmKeys.Name(d));
    private static readonly string[][] BaselineRules = RuleIds(d => d == LimitDirection.Low ? "drop" : "rise");
    private static readonly string[] RateRules = [.. Enum.GetValues<Sign>().Select(s => $"{s.ShortName()}.rate")];

    // Each rule id above has a fixed slot, sign by sign: low, high, drop, rise, rate.
    private const int SlotsPerSign = 5;
    private const int DropSlot = 2;
    private const int RateSlot = 4;

    /// <summary>How many rule slots there are: a chair keeps its condition tracks in an array this long.</summary>
    public static readonly int SlotCount = Enum.GetValues<Sign>().Length * SlotsPerSign;

    private static readonly string[] RulesBySlot = [.. Enum.GetValues<Sign>().SelectMany(s => LimitRules[(int)s].Concat(BaselineRules[(int)s]).Append(RateRules[(int)s]))];

    /// <summary>The rule id of a verdict's slot.</summary>
    public static string RuleAt(int slot) => RulesBySlot[slot];

    /// <summary>The text of a verdict: a violation, or its rule's normal state, by the kind of its slot.</summary>
    public static string Describe(in Verdict v) => (v.Slot % SlotsPerSign, v.Priority is null) switch
    {
        ( < DropSlot, false) => DescribeLimit(v),
        ( < DropSlot, true) => DescribeWithinLimit(v),
        ( < RateSlot, false) => DescribeBaselineChange(v),
        ( < RateSlot, true) => DescribeNearBaseline(v),
        (_, false) => DescribeRate(v),
        (_, true) => DescribeSteady(v),
    };

    /// <summary>Adds one verdict per direction that has limit bands for the sign of <paramref name="rules"/>.</summary>
    public static void Limits(SignRules rules, Sign sign, double value, double margin, VerdictBuffer verdicts)
    {
        foreach (var direction in Directions)
        {
            LimitBand? worst = null;
            LimitBand? mildest = null;
            var clear = true;
            var worse = Worsen(value, direction, margin);
            foreach (var band in rules.Limits(direction))
            {
                if (band.IsViolatedBy(value) && (worst is null || band.Priority > worst.Priority))
                {
                    worst = band;
                }

                if (mildest is null || (direction == LimitDirection.Low ? band.Threshold > mildest.Threshold : band.Threshold < mildest.Threshold))
                {
                    mildest = band;
                }

                clear &= !band.IsViolatedBy(worse);
            }

            if (mildest is null)
            {
                continue; // no bands in this direction
            }

            var slot = Slot(sign, (int)direction);
            if (worst is not null)
            {
                verdicts.Add(new Verdict(slot, sign, worst.Priority, false, value, worst.Threshold, worst));
                continue;
            }

            verdicts.Add(new Verdict(slot, sign, null, clear, value, mildest.Threshold));
        }
    }

    /// <summary>Adds one verdict per direction that has baseline bands for the sign of <paramref name="rules"/>; none without a baseline value.</summary>
    public static void BaselineChanges(SignRules rules, Baseline? baseline, Sign sign, double value, double margin, VerdictBuffer verdicts)
    {
        if (baseline?.ValueFor(sign) is not { } reference)
        {
            return;
        }

        foreach (var direction in Directions)
        {
            BaselineBand? worst = null;
            BaselineBand? mildest = null;
            var clear = true;
            foreach (var band in rules.BaselineChanges(direction))
            {
                if (band.IsViolatedBy(value, reference) && (worst is null || band.Priority > worst.Priority))
                {
                    worst = band;
                }

                if (mildest is null || Math.Abs(band.ThresholdFor(reference) - reference) < Math.Abs(mildest.ThresholdFor(reference) - reference))
                {
                    mildest = band;
                }

                clear &= !band.IsViolatedBy(Worsen(value, direction, margin), reference);
            }

            if (mildest is null)
            {
                continue; // no bands in this direction
            }

            var slot = Slot(sign, DropSlot + (int)direction);
            if (worst is not null)
            {
                verdicts.Add(new Verdict(slot, sign, worst.Priority, false, value, worst.ThresholdFor(reference), worst, reference));
                continue;
            }

            verdicts.Add(new Verdict(slot, sign, null, clear, value, mildest.ThresholdFor(reference), null, reference));
        }
    }

    /// <summary>True for a rate-of-change rule id (<c>hr.rate</c>): an advisory that never escalates by itself.</summary>
    public static bool IsRateRule(string rule, Sign? sign) => sign is { } s && rule == RateRules[(int)s];

    /// <summary>Adds one verdict per rate rule of the sign of <paramref name="rules"/>, comparing with the level at the start of the rule's window.</summary>
    public static void RatesOfChange(SignRules rules, Sign sign, double value, DateTimeOffset at, List<Reading> history, double margin, VerdictBuffer verdicts)
    {
        foreach (var rule in rules.Rates)
        {
            var change = NetChange(history, value, at - rule.Window);
            var slot = Slot(sign, RateSlot);
            verdicts.Add(change > rule.Delta
                ? new Verdict(slot, sign, rule.Priority, false, change, rule.Delta, rule)
                : new Verdict(slot, sign, null, change <= rule.Delta - margin, change, rule.Delta, rule));
        }
    }

    private static string DescribeLimit(Verdict v)
    {
        var (info, band) = (v.Sign.Info(), (LimitBand)v.Source!);
        return F("{0} {1}: {2:0.#} {3} (limit {4} {5:0.#})", info.Label, AlarmKeys.Name(band.Direction), v.Value, info.DisplayUnit, Op(band), band.Threshold);
    }

    private static string DescribeWithinLimit(Verdict v) => F("{0} back within limit: {1:0.#} {2}", v.Sign.Info().Label, v.Value, v.Sign.Info().DisplayUnit);

    private static string DescribeBaselineChange(Verdict v)
    {
        var (info, band, reference) = (v.Sign.Info(), (BaselineBand)v.Source!, v.Reference);
        var change = Math.Abs(v.Value - reference) * 100 / reference;
        return F("{0} {1} {2:0.#} % from baseline {3:0.#}: {4:0.#} {5}", info.Label, band.Direction == LimitDirection.Low ? "fell" : "rose", change, reference, v.Value, info.DisplayUnit);
    }

    private static string DescribeNearBaseline(Verdict v) =>
        F("{0} back near baseline {1:0.#}: {2:0.#} {3}", v.Sign.Info().Label, v.Reference, v.Value, v.Sign.Info().DisplayUnit);

    // A rate verdict's value is the change; its limit the rule's delta.
    private static string DescribeRate(Verdict v)
    {
        var (info, rule) = (v.Sign.Info(), (RateOfChangeRule)v.Source!);
        return F("{0} changed by {1:0.#} {2} within {3:0.#} min (limit {4:0.#})", info.Label, v.Value, info.DisplayUnit, rule.Window.TotalMinutes, rule.Delta);
    }

    private static string DescribeSteady(Verdict v)
    {
        var (info, rule) = (v.Sign.Info(), (RateOfChangeRule)v.Source!);
        return F("{0} steady again: change {1:0.#} {2} within {3:0.#} min", info.Label, v.Value, info.DisplayUnit, rule.Window.TotalMinutes);
    }

    private static string[][] RuleIds(Func<LimitDirection, string> suffix) =>
        [.. Enum.GetValues<Sign>().Select(s => Directions.Select(d => $"{s.ShortName()}.{suffix(d)}").ToArray())];

    // The change from the level at the start of the window (the earliest reading inside it), not from any reading:
    // a transient that has passed no longer counts, so the advisory ends when the trend ends. History is in time order
    // (ChairState.Record keeps it so), so the start is found by binary search: walking from the oldest reading took
    // ~1,500 steps per heart-rate reading (30 min kept, a 5 min window, one reading a second), now ~11.
    private static double NetChange(List<Reading> history, double value, DateTimeOffset from)
    {
        var readings = CollectionsMarshal.AsSpan(history);
        int low = 0, high = readings.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (readings[mid].At < from)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low < readings.Length ? Math.Abs(value - readings[low].Value) : 0;
    }

    private static int Slot(Sign sign, int kind) => ((int)sign * SlotsPerSign) + kind;

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
