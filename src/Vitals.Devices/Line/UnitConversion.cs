using Vitals.Core;

namespace Vitals.Devices.Line;

/// <summary>Converts device units to the sign's UCUM unit (factors as in PROTOCOLS.md: kPa x 7.50062 -> mm[Hg], degF -> Cel).</summary>
internal static class UnitConversion
{
    /// <summary>kPa to mm[Hg] (PROTOCOLS.md: x 7.50062).</summary>
    public static double KPaToMmHg(double kPa) => kPa * 7.50062;

    /// <summary>degF to Cel.</summary>
    public static double FahrenheitToCelsius(double degF) => (degF - 32) * 5 / 9;

    public static bool TryGet(string? unit, Sign sign, out Func<double, double>? convert)
    {
        convert = null;
        string target = sign.Info().Unit;
        if (string.IsNullOrEmpty(unit) || string.Equals(unit, target, StringComparison.Ordinal))
        {
            return true;
        }

        string u = unit.Trim();
        switch (target)
        {
            case "/min" when u is "bpm" or "{beat}/min" or "{breath}/min" or "1/min" or "/min" or "rpm" or "brpm":
                return true;
            case "%" when u is "%":
                return true;
            case "mm[Hg]" when u is "mmHg" or "mm[Hg]":
                return true;
            case "mm[Hg]" when u is "kPa":
                convert = KPaToMmHg;
                return true;
            case "Cel" when u is "C" or "degC" or "Cel":
                return true;
            case "Cel" when u is "F" or "degF" or "[degF]":
                convert = FahrenheitToCelsius;
                return true;
            default:
                return false;
        }
    }

    public static string Describe(Sign sign) => sign.Info().Unit switch
    {
        "/min" => "/min, bpm, {beat}/min, {breath}/min",
        "%" => "%",
        "mm[Hg]" => "mm[Hg], mmHg, kPa",
        "Cel" => "Cel, degC, [degF]",
        var u => u,
    };
}
