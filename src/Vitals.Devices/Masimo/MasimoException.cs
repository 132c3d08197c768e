using Vitals.Core;

namespace Vitals.Devices.Masimo;

/// <summary>
/// Masimo exception (EXC) bits from the ASCII 1 serial output, as listed in the Masimo Rad-8 / Radical-7 operator's
/// manuals' serial interface section. Values are the bit values. <see cref="SetMode"/> is informational.
/// </summary>
[Flags]
public enum MasimoException : uint
{
    None = 0,
    NoSensor = 0x001,
    DefectiveSensor = 0x002,
    LowPerfusion = 0x004,
    PulseSearch = 0x008,
    Interference = 0x010,
    SensorOff = 0x020,
    AmbientLight = 0x040,
    UnrecognizedSensor = 0x080,
    LowSignalIq = 0x400,

    /// <summary>Masimo SET processing active: informational, not a condition.</summary>
    SetMode = 0x800,
}

/// <summary>What one Masimo line said besides its values.</summary>
/// <param name="Exceptions">EXC (and EXC1) bits.</param>
/// <param name="AlarmBits">The ALARM field; its bits are undocumented by the vendor, so it is passed on raw.</param>
/// <param name="Device">Serial number from SN=, or the configured device id.</param>
public readonly record struct MasimoStatus(MasimoException Exceptions, uint AlarmBits, string Device)
{
    /// <summary>Bits that are technical conditions (everything except <see cref="MasimoException.SetMode"/>).</summary>
    public const MasimoException ConditionMask =
        MasimoException.NoSensor | MasimoException.DefectiveSensor | MasimoException.LowPerfusion | MasimoException.PulseSearch
        | MasimoException.Interference | MasimoException.SensorOff | MasimoException.AmbientLight
        | MasimoException.UnrecognizedSensor | MasimoException.LowSignalIq;

    /// <summary>The technical conditions present, one entry per bit, for technical alarms and the dashboard.</summary>
    public IReadOnlyList<MasimoException> Conditions
    {
        get
        {
            var set = Exceptions & ConditionMask;
            if (set == MasimoException.None)
            {
                return [];
            }

            var list = new List<MasimoException>();
            foreach (var flag in Enum.GetValues<MasimoException>())
            {
                if (flag != MasimoException.None && (ConditionMask & flag) != 0 && set.HasFlag(flag))
                {
                    list.Add(flag);
                }
            }

            return list;
        }
    }

    /// <summary>Maps exception bits to observation quality: no usable sensor or still searching = invalid; signal doubts = questionable.</summary>
    public static ObservationQuality QualityOf(MasimoException exceptions)
    {
        const MasimoException invalid = MasimoException.NoSensor | MasimoException.DefectiveSensor | MasimoException.SensorOff
            | MasimoException.UnrecognizedSensor | MasimoException.PulseSearch;
        const MasimoException questionable = MasimoException.LowPerfusion | MasimoException.Interference
            | MasimoException.AmbientLight | MasimoException.LowSignalIq;
        var q = ObservationQuality.Ok;
        if ((exceptions & invalid) != 0)
        {
            q |= ObservationQuality.Invalid;
        }

        if ((exceptions & questionable) != 0)
        {
            q |= ObservationQuality.Questionable;
        }

        return q;
    }
}
