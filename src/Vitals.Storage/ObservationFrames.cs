using Vitals.Core;

namespace Vitals.Storage;

/// <summary>
/// Splits a run of observations into frames: consecutive observations of one site, chair and device,
/// measured and received at the same millisecond by the same protocol, each sign at most once. A frame
/// is one row of the store's <c>vitals</c> table and one InfluxDB <c>vitals</c> point. Codecs emit a
/// decoded frame's observations together, so this recovers the device's frames; anything else (a sign
/// repeated, a reading from another device in between) just starts a new frame, losing nothing.
/// </summary>
public static class ObservationFrames
{
    /// <summary>The end (exclusive) of the frame that starts at <paramref name="start"/>.</summary>
    public static int FrameEnd(IReadOnlyList<Observation> observations, int start)
    {
        ArgumentNullException.ThrowIfNull(observations);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(start, observations.Count);
        var first = observations[start];
        var measured = first.MeasuredAt.ToUnixTimeMilliseconds();
        var received = first.ReceivedAt.ToUnixTimeMilliseconds();
        var signs = 1 << (int)first.Sign;
        var end = start + 1;
        for (; end < observations.Count; end++)
        {
            var o = observations[end];
            var bit = 1 << (int)o.Sign;
            if ((signs & bit) != 0
                || o.Source != first.Source
                || o.MeasuredAt.ToUnixTimeMilliseconds() != measured
                || o.ReceivedAt.ToUnixTimeMilliseconds() != received
                || !string.Equals(o.Chair, first.Chair, StringComparison.Ordinal)
                || !string.Equals(o.Device, first.Device, StringComparison.Ordinal)
                || !string.Equals(o.Site, first.Site, StringComparison.Ordinal))
            {
                break;
            }

            signs |= bit;
        }

        return end;
    }

    /// <summary>The frames of <paramref name="observations"/>, in order.</summary>
    public static IEnumerable<ArraySegment<Observation>> Split(Observation[] observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        for (var start = 0; start < observations.Length;)
        {
            var end = FrameEnd(observations, start);
            yield return new ArraySegment<Observation>(observations, start, end - start);
            start = end;
        }
    }
}
