using System.Globalization;

namespace Vitals.Core.Alarms;

/// <summary>
/// Per sign, which readings are measurements of the patient and which are sensor problems (probe off, failed cuff
/// measurement, a probe reading room air). Sensor problems are never judged as physiology; a sign that gives
/// nothing else raises its signal-lost technical alarm. Sources are in the Alarms README ("Measurement or sensor problem").
/// </summary>
public static class SensorPlausibility
{
    /// <summary>Why <paramref name="value"/> of <paramref name="sign"/> is not a measurement, or null when it is one.</summary>
    public static string? Problem(Sign sign, double value, ObservationQuality quality = ObservationQuality.Ok)
    {
        var info = sign.Info();
        if (quality.HasFlag(ObservationQuality.Invalid))
        {
            return "the monitor marks its readings invalid";
        }

        if (!double.IsFinite(value) || value < info.HardMin || value > info.HardMax)
        {
            return "the monitor sends values outside the possible range";
        }

        return sign switch
        {
            // An oximeter reports 0 when it finds no pulse: almost always a probe off, not a desaturation or arrest.
            Sign.Spo2 or Sign.Pr when value <= 0 => F("{0} {1} is a probe-off value, not a measurement", value, info.DisplayUnit),

            // Monitors measure heart and pulse rate up to 300 /min; above it is noise or a double-counted beat.
            Sign.Hr or Sign.Pr when value > 300 => F("{0} {1} is above the 300 {1} a monitor measures", value, info.DisplayUnit),

            // A probe off the body reads room air; above 45 °C no patient measurement is possible.
            Sign.Temp when value < 25 => F("{0} {1} is room temperature: the probe is off the body", value, info.DisplayUnit),
            Sign.Temp when value > 45 => F("{0} {1} is above any body temperature", value, info.DisplayUnit),

            // A cuff reading of 0 is a failed measurement; adult cuffs inflate to at most 300 mmHg.
            Sign.NibpSys or Sign.NibpDia or Sign.NibpMap when value <= 0 => F("{0} {1} is a failed cuff measurement", value, info.DisplayUnit),
            Sign.NibpSys or Sign.NibpDia or Sign.NibpMap when value > 300 => F("{0} {1} is above the cuff's 300 {1}", value, info.DisplayUnit),
            _ => null,
        };
    }

    private static string F(string format, double value, string unit) =>
        string.Format(CultureInfo.InvariantCulture, format, value.ToString("0.#", CultureInfo.InvariantCulture), unit);
}
