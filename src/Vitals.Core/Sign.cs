namespace Vitals.Core;

/// <summary>A vital sign the gateway understands. Short names are part of the public schema (DESIGN.md).</summary>
public enum Sign
{
    Hr,
    Pr,
    Spo2,
    NibpSys,
    NibpDia,
    NibpMap,
    Rr,
    Temp,
}

/// <summary>Static facts about a sign: its stable short name, IEEE 11073-10101 codes, UCUM unit and hard bounds.</summary>
/// <param name="Sign">The sign.</param>
/// <param name="ShortName">Name used in JSON, InfluxDB fields and MQTT (for example <c>nibp_sys</c>).</param>
/// <param name="Label">Human label for screens.</param>
/// <param name="MdcCode">Primary MDC code.</param>
/// <param name="MdcName">Primary MDC reference id.</param>
/// <param name="Unit">UCUM unit every value of this sign is converted to.</param>
/// <param name="AlternateCodes">Other MDC codes that map to this sign.</param>
/// <param name="HardMin">Lowest physiologically possible value; anything below is a device error.</param>
/// <param name="HardMax">Highest physiologically possible value.</param>
/// <param name="Episodic">True for spot readings (NIBP cuff), judged when they arrive rather than continuously.</param>
public sealed record SignInfo(
    Sign Sign,
    string ShortName,
    string Label,
    int MdcCode,
    string MdcName,
    string Unit,
    IReadOnlyList<int> AlternateCodes,
    double HardMin,
    double HardMax,
    bool Episodic)
{
    /// <summary>
    /// The unit as nurses read it, for screens and alarm messages: UCUM's print symbol (<c>mmHg</c> for
    /// <c>mm[Hg]</c>, <c>°C</c> for <c>Cel</c>). Data (JSON, InfluxDB, MQTT) keeps the UCUM code <see cref="Unit"/>.
    /// </summary>
    public string DisplayUnit => Unit switch
    {
        "mm[Hg]" => "mmHg",
        "Cel" => "°C",
        _ => Unit,
    };
}

/// <summary>Lookup tables for <see cref="Sign"/>.</summary>
public static class Signs
{
    /// <summary>Every sign in display order.</summary>
    public static IReadOnlyList<SignInfo> All { get; } =
    [
        new(Sign.Hr, "hr", "Heart rate", 147842, "MDC_ECG_HEART_RATE", "/min", [], 0, 350, false),
        new(Sign.Pr, "pr", "Pulse rate", 149530, "MDC_PULS_OXIM_PULS_RATE", "/min", [149546, 149514], 0, 350, false),
        new(Sign.Spo2, "spo2", "SpO2", 150456, "MDC_PULS_OXIM_SAT_O2", "%", [], 0, 100, false),
        new(Sign.NibpSys, "nibp_sys", "NIBP systolic", 150021, "MDC_PRESS_BLD_NONINV_SYS", "mm[Hg]", [], 0, 350, true),
        new(Sign.NibpDia, "nibp_dia", "NIBP diastolic", 150022, "MDC_PRESS_BLD_NONINV_DIA", "mm[Hg]", [], 0, 300, true),
        new(Sign.NibpMap, "nibp_map", "NIBP mean", 150023, "MDC_PRESS_BLD_NONINV_MEAN", "mm[Hg]", [], 0, 300, true),
        new(Sign.Rr, "rr", "Respiration rate", 151562, "MDC_RESP_RATE", "/min", [151578], 0, 150, false),
        new(Sign.Temp, "temp", "Temperature", 150344, "MDC_TEMP", "Cel", [150364], 10, 50, false),
    ];

    private static readonly Dictionary<string, Sign> ByShortName =
        All.ToDictionary(s => s.ShortName, s => s.Sign, StringComparer.OrdinalIgnoreCase);

    private static readonly Dictionary<int, Sign> ByMdcCode =
        All.SelectMany(s => s.AlternateCodes.Append(s.MdcCode).Select(code => (code, s.Sign)))
           .ToDictionary(p => p.code, p => p.Sign);

    private static readonly Dictionary<string, Sign> ByMdcName =
        All.ToDictionary(s => s.MdcName, s => s.Sign, StringComparer.OrdinalIgnoreCase);

    /// <summary>Facts about <paramref name="sign"/>.</summary>
    public static SignInfo Info(this Sign sign) => All[(int)sign];

    /// <summary>The stable short name (<c>hr</c>, <c>nibp_sys</c>, ...).</summary>
    public static string ShortName(this Sign sign) => All[(int)sign].ShortName;

    /// <summary>Parses a short name such as <c>spo2</c>, case-insensitively.</summary>
    public static bool TryParse(string? shortName, out Sign sign)
    {
        sign = default;
        return shortName is not null && ByShortName.TryGetValue(shortName, out sign);
    }

    /// <summary>Maps a numeric MDC code (IEEE 11073-10101, partition x 65536 + term) to a sign.</summary>
    public static bool TryFromMdcCode(int code, out Sign sign) => ByMdcCode.TryGetValue(code, out sign);

    /// <summary>Maps an MDC reference id such as <c>MDC_ECG_HEART_RATE</c> to a sign.</summary>
    public static bool TryFromMdcName(string name, out Sign sign) => ByMdcName.TryGetValue(name, out sign);
}
