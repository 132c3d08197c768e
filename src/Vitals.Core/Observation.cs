namespace Vitals.Core;

/// <summary>Which kind of feed produced an observation.</summary>
public enum SourceProtocol
{
    Simulator,
    Hl7Mllp,
    Masimo,
    Line,
    Mqtt,
}

/// <summary>Quality flags carried with a value. <see cref="Ok"/> means nothing is known to be wrong.</summary>
[Flags]
public enum ObservationQuality
{
    Ok = 0,

    /// <summary>The device flagged the value as doubtful (low perfusion, low signal quality, interference).</summary>
    Questionable = 1,

    /// <summary>The device says the value is not valid (sensor off, search).</summary>
    Invalid = 2,

    /// <summary>Produced by the simulator or a monitor in demo mode; never a patient's value.</summary>
    Simulated = 4,
}

/// <summary>One measured value of one sign at one chair. Values are always in the sign's UCUM unit.</summary>
/// <param name="Site">Clinic site name.</param>
/// <param name="Chair">Chair id the feed is bound to.</param>
/// <param name="Device">Device id (serial number, EUI-64 or configured name).</param>
/// <param name="Sign">What was measured.</param>
/// <param name="Value">The value in <see cref="SignInfo.Unit"/>.</param>
/// <param name="MeasuredAt">When the device measured it.</param>
/// <param name="ReceivedAt">When the gateway received it.</param>
/// <param name="Source">The protocol it arrived by.</param>
/// <param name="Quality">Device quality flags.</param>
public sealed record Observation(
    string Site,
    string Chair,
    string Device,
    Sign Sign,
    double Value,
    DateTimeOffset MeasuredAt,
    DateTimeOffset ReceivedAt,
    SourceProtocol Source,
    ObservationQuality Quality = ObservationQuality.Ok)
{
    /// <summary>The UCUM unit of <see cref="Value"/>.</summary>
    public string Unit => Sign.Info().Unit;
}
