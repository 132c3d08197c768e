using Vitals.Core;

namespace Vitals.Gateway.Pipeline;

/// <summary>One device whose readings were dated wrongly, as shown on the status endpoint.</summary>
/// <param name="Chair">Chair the readings were for.</param>
/// <param name="Device">Device id.</param>
/// <param name="Restamped">Readings re-stamped with their receive time since start.</param>
/// <param name="LastVerdict">How the last wrongly dated reading was judged (<c>ahead</c> or <c>behind</c>).</param>
/// <param name="LastOffsetSeconds">Device time minus receive time of that reading (positive: ahead).</param>
/// <param name="LastAt">When it was received.</param>
/// <param name="Wrong">True while the "monitor clock wrong" alarm stands for this device.</param>
public sealed record DeviceClockView(
    string Chair, string Device, long Restamped, DeviceClockVerdict LastVerdict, double LastOffsetSeconds, DateTimeOffset LastAt, bool Wrong);

/// <summary>The device-clock part of the status endpoint.</summary>
/// <param name="Restamped">Readings re-stamped with their receive time since start (all devices).</param>
/// <param name="Devices">Every device that sent such a reading.</param>
public sealed record DeviceClockStatus(long Restamped, IReadOnlyList<DeviceClockView> Devices);

/// <summary>
/// Applies the <see cref="DeviceClockPolicy"/> at the pipeline's entrance and remembers which devices' clocks are
/// wrong. A device counts as wrong from its first wrongly dated reading until it has sent a plausibly dated one and
/// <see cref="ClearAfter"/> has passed without another wrong one, so a monitor that mixes good and bad times does not
/// make the alarm flap.
/// </summary>
public sealed class DeviceClocks(DeviceClockPolicy policy)
{
    /// <summary>How long a device must send only plausibly dated readings before its clock counts as right again.</summary>
    public static readonly TimeSpan ClearAfter = TimeSpan.FromSeconds(60);

    private readonly Dictionary<(string Chair, string Device), Track> devices = [];

    /// <summary>The observation the rest of the pipeline sees (re-stamped when its device time is implausible).</summary>
    public Observation Admit(Observation observation)
    {
        var admitted = policy.Admit(observation, out var verdict);

        // Until some device sends a wrongly dated reading, a plausible one has nothing to update: no lock, and no key of
        // two strings hashed per reading (0.5 % of the gateway's CPU in the shared harness, AOT perf). Only this method
        // adds devices, and the pipeline calls it one step at a time, so the count it reads is current.
        if (verdict == DeviceClockVerdict.Plausible && devices.Count == 0)
        {
            return admitted;
        }

        var key = (observation.Chair, observation.Device);
        lock (devices)
        {
            if (verdict == DeviceClockVerdict.Plausible)
            {
                if (devices.TryGetValue(key, out var known))
                {
                    known.LastPlausibleAt = observation.ReceivedAt;
                }

                return admitted;
            }

            var track = devices.TryGetValue(key, out var t) ? t : devices[key] = new Track();
            track.Restamped++;
            track.LastVerdict = verdict;
            track.LastOffset = (observation.MeasuredAt - observation.ReceivedAt).TotalSeconds;
            track.LastWrongAt = observation.ReceivedAt;
        }

        return admitted;
    }

    /// <summary>Devices whose clock counts as wrong at <paramref name="now"/>.</summary>
    public List<(string Chair, string Device)> WrongAt(DateTimeOffset now)
    {
        lock (devices)
        {
            return [.. devices.Where(d => d.Value.IsWrong(now)).Select(d => d.Key)];
        }
    }

    /// <summary>Readings re-stamped since start, and every device that sent one.</summary>
    public DeviceClockStatus Status(DateTimeOffset now)
    {
        lock (devices)
        {
            return new DeviceClockStatus(
                devices.Values.Sum(t => t.Restamped),
                [.. devices.Select(d => new DeviceClockView(
                    d.Key.Chair, d.Key.Device, d.Value.Restamped, d.Value.LastVerdict, d.Value.LastOffset, d.Value.LastWrongAt, d.Value.IsWrong(now)))]);
        }
    }

    /// <summary>
    /// The gateway's own clock was stepped: the times a device's verdicts were last seen at move with it when taken on the
    /// old clock, so a clock counts as right again after <see cref="ClearAfter"/> of real time (after a step back the
    /// alarm held for the length of the step). Device times themselves are judged as before.
    /// </summary>
    public void ClockStepped(WallClockStep step)
    {
        lock (devices)
        {
            foreach (var track in devices.Values)
            {
                track.LastWrongAt += step.IsBefore(track.LastWrongAt) ? step.By : TimeSpan.Zero;
                if (track.LastPlausibleAt is { } good && step.IsBefore(good))
                {
                    track.LastPlausibleAt = good + step.By;
                }
            }
        }
    }

    private sealed class Track
    {
        public long Restamped { get; set; }

        public DeviceClockVerdict LastVerdict { get; set; }

        public double LastOffset { get; set; }

        public DateTimeOffset LastWrongAt { get; set; }

        public DateTimeOffset? LastPlausibleAt { get; set; }

        public bool IsWrong(DateTimeOffset now) => LastPlausibleAt is not { } good || good < LastWrongAt || now - LastWrongAt < ClearAfter;
    }
}
