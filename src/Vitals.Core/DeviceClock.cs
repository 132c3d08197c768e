namespace Vitals.Core;

/// <summary>How a reading's device time compares with the gateway's receive time.</summary>
public enum DeviceClockVerdict
{
    /// <summary>Within the allowed skew and age: the device time is used.</summary>
    Plausible,

    /// <summary>Dated further in the future than the allowed skew.</summary>
    Ahead,

    /// <summary>Dated further in the past than any monitor plausibly holds a reading back.</summary>
    Behind,
}

/// <summary>
/// The device-clock policy, applied once at the pipeline's entrance. A monitor with a wrong clock (battery-reset RTC,
/// wrong time zone, a typo in an HL7 OBX-14) must not freeze a chair: a reading dated far in the future would stay
/// "latest" and hide every later one, and one dated years back would look stale on arrival. Such a reading is kept,
/// not dropped (the value itself may be right), but re-stamped with the time the gateway received it and marked
/// <see cref="ObservationQuality.Questionable"/>; the device is reported so a technical alarm can say its clock is wrong.
/// </summary>
/// <param name="MaxAhead">How far in the future a device time may be (clock skew between monitor and gateway).</param>
/// <param name="MaxBehind">How old a reading may be on arrival (monitors that send a held NIBP or a backlog).</param>
public sealed record DeviceClockPolicy(TimeSpan MaxAhead, TimeSpan MaxBehind)
{
    /// <summary>Default allowed skew into the future: 30 s.</summary>
    public static readonly TimeSpan DefaultMaxAhead = TimeSpan.FromSeconds(30);

    /// <summary>Default allowed age: 24 h (an hourly HL7 sender's held NIBP is well inside; a reset RTC is years out).</summary>
    public static readonly TimeSpan DefaultMaxBehind = TimeSpan.FromHours(24);

    /// <summary>The policy with the default limits.</summary>
    public static DeviceClockPolicy Default { get; } = new(DefaultMaxAhead, DefaultMaxBehind);

    /// <summary>Judges a device time against the receive time.</summary>
    public DeviceClockVerdict Judge(DateTimeOffset measuredAt, DateTimeOffset receivedAt) =>
        measuredAt - receivedAt > MaxAhead ? DeviceClockVerdict.Ahead
        : receivedAt - measuredAt > MaxBehind ? DeviceClockVerdict.Behind
        : DeviceClockVerdict.Plausible;

    /// <summary>
    /// The observation as the rest of the gateway should see it: unchanged when its time is plausible, otherwise
    /// dated at its receive time and marked questionable. <paramref name="verdict"/> says which.
    /// </summary>
    public Observation Admit(Observation observation, out DeviceClockVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(observation);
        verdict = Judge(observation.MeasuredAt, observation.ReceivedAt);
        return verdict == DeviceClockVerdict.Plausible
            ? observation
            : observation with { MeasuredAt = observation.ReceivedAt, Quality = observation.Quality | ObservationQuality.Questionable };
    }
}
