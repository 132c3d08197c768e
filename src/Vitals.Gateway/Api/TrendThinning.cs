using Vitals.Core;

namespace Vitals.Gateway.Api;

/// <summary>
/// Thins a chair's history for a trend chart that cannot draw more points than it has pixels. Per sign, the window is
/// cut into equal time slices and each slice keeps its lowest and its highest reading, in time order: a fall or a spike
/// between two drawn points is never averaged or sampled away, only its neighbours are dropped.
/// </summary>
public static class TrendThinning
{
    /// <summary>
    /// At most <paramref name="maxPerSign"/> readings per sign (two per slice), oldest first; a sign that already has no
    /// more is returned whole. <paramref name="readings"/> must be oldest first, as the store returns them.
    /// </summary>
    public static List<Observation> MinMax(IReadOnlyList<Observation> readings, DateTimeOffset start, DateTimeOffset end, int maxPerSign)
    {
        ArgumentNullException.ThrowIfNull(readings);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerSign, 2);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(end, start);
        int slices = maxPerSign / 2;
        long span = (end - start).Ticks;
        var kept = new List<Observation>(Math.Min(readings.Count, maxPerSign * 8));
        foreach (var sign in readings.GroupBy(o => o.Sign))
        {
            var all = sign.ToList();
            if (all.Count <= maxPerSign)
            {
                kept.AddRange(all);
                continue;
            }

            // Readings are in time order, so each slice is one run: keep its extremes, then move on.
            int slice = -1;
            Observation? low = null, high = null;
            foreach (var o in all)
            {
                int s = (int)Math.Clamp((o.MeasuredAt - start).Ticks * slices / span, 0, slices - 1);
                if (s != slice)
                {
                    Flush(kept, low, high);
                    (slice, low, high) = (s, o, o);
                }
                else if (o.Value < low!.Value)
                {
                    low = o;
                }
                else if (o.Value > high!.Value)
                {
                    high = o;
                }
            }

            Flush(kept, low, high);
        }

        kept.Sort((a, b) => a.MeasuredAt.CompareTo(b.MeasuredAt)); // List.Sort is unstable, but equal times need no order
        return kept;
    }

    private static void Flush(List<Observation> kept, Observation? low, Observation? high)
    {
        if (low is null || high is null)
        {
            return;
        }

        if (ReferenceEquals(low, high))
        {
            kept.Add(low);
            return;
        }

        bool lowFirst = low.MeasuredAt <= high.MeasuredAt;
        kept.Add(lowFirst ? low : high);
        kept.Add(lowFirst ? high : low);
    }
}
