using Vitals.Core;
using Vitals.Devices.Line;

namespace Vitals.Devices.Json;

/// <summary>
/// How to read another vendor's flat JSON (for example <c>{"HeartRate":72,"SpO2":97,"ts":"2026-11-22T10:00:00Z"}</c>).
/// Mutable with settable properties so the gateway's strict config reader can bind and check it key by key.
/// </summary>
public sealed class JsonMapping
{
    /// <summary>Named time formats; anything else is taken as a .NET custom date format.</summary>
    public static readonly IReadOnlyList<string> NamedTimeFormats = ["iso8601", "unix-s", "unix-ms"];

    /// <summary>Fields that carry a sign.</summary>
    public List<JsonFieldMapping> Fields { get; set; } = [];

    /// <summary>Field holding the measurement time; absent or null: the receive time.</summary>
    public string? TimeField { get; set; }

    /// <summary><c>iso8601</c> (default), <c>unix-s</c>, <c>unix-ms</c>, or a .NET custom format such as <c>yyyy-MM-dd HH:mm:ss</c> (device time zone unless it has <c>zzz</c>/<c>K</c>).</summary>
    public string TimeFormat { get; set; } = "iso8601";

    /// <summary>Field holding the device id; absent: the configured device id.</summary>
    public string? DeviceField { get; set; }

    /// <summary>Checks the mapping, one message per problem naming the key (prefixed with <paramref name="path"/>) and the fix.</summary>
    public List<string> Validate(string path)
    {
        var errors = new List<string>();
        if (Fields.Count == 0)
        {
            errors.Add($"{path}.fields: no fields are mapped. Fix: add at least one, for example {{ \"field\": \"HeartRate\", \"sign\": \"hr\" }}.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Fields.Count; i++)
        {
            var f = Fields[i];
            var at = $"{path}.fields[{i}]";
            if (string.IsNullOrWhiteSpace(f.Field))
            {
                errors.Add($"{at}.field: empty. Fix: name the vendor's JSON field (dots reach into nested objects, for example \"vitals.hr\").");
            }
            else if (!seen.Add(f.Field))
            {
                errors.Add($"{at}.field: '{f.Field}' is mapped twice. Fix: map each field once.");
            }

            if (!JsonObservationCodec.TryParseSign(f.Sign, out var sign))
            {
                errors.Add($"{at}.sign: unknown sign '{f.Sign}'. Fix: use one of {string.Join(", ", Signs.All.Select(s => s.ShortName))} or an MDC code/name.");
            }
            else if (!UnitConversion.TryGet(f.Unit, sign, out _))
            {
                errors.Add($"{at}.unit: '{f.Unit}' cannot be converted to {sign.Info().Unit}. Fix: use one of {UnitConversion.Describe(sign)}.");
            }

            if (!double.IsFinite(f.Scale) || f.Scale == 0)
            {
                errors.Add($"{at}.scale: {f.Scale} is not usable. Fix: use a non-zero number (1 = as sent, 0.1 = tenths).");
            }

            if (!double.IsFinite(f.Offset))
            {
                errors.Add($"{at}.offset: {f.Offset} is not a number. Fix: use a finite number (default 0).");
            }
        }

        if (TimeField is not null && string.IsNullOrWhiteSpace(TimeField))
        {
            errors.Add($"{path}.timeField: empty. Fix: name the field holding the time, or remove the key to use the receive time.");
        }

        if (string.IsNullOrWhiteSpace(TimeFormat))
        {
            errors.Add($"{path}.timeFormat: empty. Fix: use {string.Join(", ", NamedTimeFormats)} or a .NET date format such as \"yyyy-MM-dd HH:mm:ss\".");
        }
        else if (!NamedTimeFormats.Contains(TimeFormat))
        {
            if (!LineTime.IsValidFormat(TimeFormat))
            {
                errors.Add($"{path}.timeFormat: '{TimeFormat}' is not a date format. Fix: use {string.Join(", ", NamedTimeFormats)} or a .NET date format such as \"yyyy-MM-dd HH:mm:ss\".");
            }
        }

        if (DeviceField is not null && string.IsNullOrWhiteSpace(DeviceField))
        {
            errors.Add($"{path}.deviceField: empty. Fix: name the field holding the device id, or remove the key.");
        }

        return errors;
    }
}

/// <summary>One vendor field that carries a sign: <c>value = raw x scale + offset</c>, then converted from <see cref="Unit"/>.</summary>
public sealed class JsonFieldMapping
{
    /// <summary>The vendor's field name; dots reach into nested objects (<c>vitals.hr</c>).</summary>
    public string Field { get; set; } = "";

    /// <summary>Sign short name (<c>hr</c>), MDC code (<c>147842</c>) or MDC name (<c>MDC_ECG_HEART_RATE</c>).</summary>
    public string Sign { get; set; } = "";

    /// <summary>Unit of the value after scale/offset (for example <c>kPa</c>, <c>[degF]</c>); default: the sign's unit.</summary>
    public string? Unit { get; set; }

    /// <summary>Multiplier applied first (0.1 for tenths).</summary>
    public double Scale { get; set; } = 1;

    /// <summary>Added after <see cref="Scale"/>.</summary>
    public double Offset { get; set; }
}
