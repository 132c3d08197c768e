using System.Globalization;
using System.Text;
using Vitals.Core;

namespace Vitals.Simulator;

/// <summary>
/// Writes simulated readings as a Masimo pulse oximeter's "ASCII 1" serial line (Rad-8 / Radical-7 operator's manual,
/// serial interface): <c>MM/dd/yy HH:mm:ss SN=... SPO2=098% BPM=072 PI=02.43% ... ALARM=0000 EXC=000800</c>, CR LF.
/// Only SpO2 and pulse rate are carried (the oximeter measures nothing else); missing values are dashes.
/// </summary>
public static class MasimoAsciiWriter
{
    /// <summary>EXC bit: sensor off the patient.</summary>
    public const uint SensorOff = 0x020;

    /// <summary>EXC bit: Masimo SET processing (informational, always set by real monitors).</summary>
    public const uint SetMode = 0x800;

    /// <summary>Formats one line (with CR LF) for the readings of one monitor second.</summary>
    /// <param name="readings">That second's readings; SpO2 and PR are used.</param>
    /// <param name="localTime">The monitor's local clock time (the line carries no offset).</param>
    /// <param name="serial">Serial number (SN=); simulated, never a real device's.</param>
    /// <param name="exceptions">EXC bits; with sensor-off style bits the values are sent as dashes, as the monitor does.</param>
    public static string Format(IEnumerable<SimReading> readings, DateTime localTime, string serial, uint exceptions = SetMode)
    {
        ArgumentNullException.ThrowIfNull(readings);
        double? spo2 = null, pr = null;
        foreach (var r in readings)
        {
            if (r.Sign == Sign.Spo2)
            {
                spo2 = r.Value;
            }
            else if (r.Sign == Sign.Pr)
            {
                pr = r.Value;
            }
        }

        // No sensor (0x001), defective (0x002), sensor off (0x020), unrecognized (0x080): the monitor shows no values.
        if ((exceptions & 0x0A3) != 0)
        {
            spo2 = pr = null;
        }

        var c = CultureInfo.InvariantCulture;
        return string.Create(c, $"{localTime:MM/dd/yy HH:mm:ss} SN={serial} SPO2={Three(spo2)}% BPM={Three(pr)} PI={(spo2 is null ? "--.--" : "02.43")}% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC={exceptions:X6}\r\n");

        static string Three(double? v) => v is { } x ? Math.Round(x).ToString("000", CultureInfo.InvariantCulture) : "---";
    }
}

/// <summary>
/// Writes simulated readings as an HL7 v2.6 ORU^R01 message in the IHE PCD-01 (DEC) shape: MSH, PID, PV1 (PV1-3 carries
/// the bed), OBR, then one OBX per reading with the MDC code and unit (IEEE 11073-10101), OBX-14 time and OBX-18 equipment id.
/// Segments end with CR (HL7 v2.6 2.5.1). Identifiers are simulated; no real patient data.
/// </summary>
public static class Hl7OruWriter
{
    private static readonly Dictionary<string, (int Code, string Name)> Units = new(StringComparer.Ordinal)
    {
        ["%"] = (262688, "MDC_DIM_PERCENT"),
        ["mm[Hg]"] = (266016, "MDC_DIM_MMHG"),
        ["Cel"] = (268192, "MDC_DIM_DEGC"),
    };

    /// <summary>Formats one message for one monitor second's readings (empty readings give a message with no OBX rows).</summary>
    /// <param name="readings">The readings.</param>
    /// <param name="time">Measurement time (written with its UTC offset).</param>
    /// <param name="bed">PV1-3.3 bed, matched by the gateway's <c>pv1Bed</c> chair rule.</param>
    /// <param name="controlId">MSH-10, echoed in the ACK's MSA-2.</param>
    /// <param name="equipmentId">OBX-18 equipment id (simulated EUI-64 style).</param>
    /// <param name="application">MSH-3 sending application.</param>
    public static string Format(
        IEnumerable<SimReading> readings, DateTimeOffset time, string bed, string controlId, string equipmentId = "0000000000000001", string application = "VITALS_SIM")
    {
        ArgumentNullException.ThrowIfNull(readings);
        var ts = Ts(time);
        var sb = new StringBuilder(1024);
        var c = CultureInfo.InvariantCulture;
        sb.Append(c, $"MSH|^~\\&|{application}^{equipmentId}^EUI-64|SIM|||{ts}||ORU^R01^ORU_R01|{controlId}|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r");
        sb.Append("PID|||SIM0001^^^SIM^PI||Simulated^Patient\r");
        sb.Append(c, $"PV1||O|INFUSION^^{bed}\r");
        sb.Append(c, $"OBR|1|{controlId}^SIM||182777000^monitoring of patient^SNOMED-CT|||{ts}\r");
        var row = 0;
        foreach (var r in readings)
        {
            var info = r.Sign.Info();
            var (unitCode, unitName) = Units.TryGetValue(info.Unit, out var u) ? u
                : r.Sign == Sign.Rr ? (264928, "MDC_DIM_RESP_PER_MIN") : (264864, "MDC_DIM_BEAT_PER_MIN");
            row++;
            string[] fields =
            [
                "OBX", row.ToString(c), "NM", $"{info.MdcCode}^{info.MdcName}^MDC", $"1.1.1.{row}", r.Value.ToString(c),
                $"{unitCode}^{unitName}^MDC", "", "", "", "", "R", "", "", ts, "", "", "AMEAS^auto-measurement^MDC", $"{equipmentId}^EUI-64",
            ];
            sb.Append(string.Join('|', fields)).Append('\r');
        }

        return sb.ToString();
    }

    private static string Ts(DateTimeOffset t)
    {
        var offset = t.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        offset = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture, $"{t:yyyyMMddHHmmss}{sign}{offset.Hours:00}{offset.Minutes:00}");
    }
}
