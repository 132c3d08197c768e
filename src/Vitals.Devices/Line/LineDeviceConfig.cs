using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Vitals.Core;

namespace Vitals.Devices.Line;

/// <summary>How fields are laid out on a line.</summary>
public enum LineFormat
{
    /// <summary><c>SPO2=097 HR=072</c>: fields found by key.</summary>
    KeyValue,

    /// <summary><c>097,072,2026-11-22T10:00:00</c>: fields found by 0-based column.</summary>
    Csv,
}

/// <summary>Where a value sits on the line: <see cref="Key"/> for key=value lines, <see cref="Column"/> (0-based) for CSV.</summary>
public record LineFieldRef
{
    /// <summary>Key before the key/value separator (key=value format; matched case-insensitively).</summary>
    public string? Key { get; set; }

    /// <summary>0-based column (CSV format).</summary>
    public int? Column { get; set; }
}

/// <summary>A field that carries a sign.</summary>
public sealed record LineFieldMapping : LineFieldRef
{
    /// <summary>Sign short name (<c>hr</c>, <c>pr</c>, <c>spo2</c>, <c>nibp_sys</c>, <c>nibp_dia</c>, <c>nibp_map</c>, <c>rr</c>, <c>temp</c>).</summary>
    public string Sign { get; set; } = string.Empty;

    /// <summary>Unit the device sends, after <see cref="Scale"/>/<see cref="Offset"/>; converted to the sign's unit. Default: the sign's unit.</summary>
    public string? Unit { get; set; }

    /// <summary>Multiplier applied to the raw number first (for example 0.1 for a device sending tenths).</summary>
    public double Scale { get; set; } = 1;

    /// <summary>Added after <see cref="Scale"/>.</summary>
    public double Offset { get; set; }
}

/// <summary>The field holding the measurement time.</summary>
public sealed record LineTimeField : LineFieldRef
{
    /// <summary>A .NET custom date format (for example <c>yyyy-MM-ddTHH:mm:ss</c>; with <c>zzz</c> or <c>K</c> the offset is read,
    /// otherwise the device time zone applies), or <c>unix</c> / <c>unix-ms</c> for epoch seconds / milliseconds.</summary>
    public string Format { get; set; } = string.Empty;
}

/// <summary>
/// Configuration for a simple line-oriented serial monitor, normally loaded from JSON. Example (Nonin 7500, 9600 8N2):
/// <code>{ "name": "nonin-7500", "format": "keyValue", "fields": [ { "key": "SPO2", "sign": "spo2" }, { "key": "HR", "sign": "pr" } ] }</code>
/// </summary>
public sealed record LineDeviceConfig
{
    private static readonly JsonTypeInfo<LineDeviceConfig> JsonInfo = LineConfigJson.Default.LineDeviceConfig;

    /// <summary>Name for logs and docs, for example <c>nonin-7500</c>.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Line layout.</summary>
    public LineFormat Format { get; set; } = LineFormat.KeyValue;

    /// <summary>Single ASCII character between fields; default space (runs collapse) for key=value, comma for CSV.</summary>
    public string? Separator { get; set; }

    /// <summary>Single ASCII character between key and value in key=value lines; default <c>=</c>.</summary>
    public string KeyValueSeparator { get; set; } = "=";

    /// <summary>Fields that carry signs.</summary>
    public IReadOnlyList<LineFieldMapping> Fields { get; set; } = [];

    /// <summary>Optional measurement time; without it the receive time is used.</summary>
    public LineTimeField? Time { get; set; }

    /// <summary>Optional field with the device id (serial number); without it the feed's configured device id is used.</summary>
    public LineFieldRef? DeviceId { get; set; }

    /// <summary>Extra values meaning "no value" besides runs of dashes (for example <c>511</c> or <c>NA</c>).</summary>
    public IReadOnlyList<string> MissingValues { get; set; } = [];

    /// <summary>Longest accepted line in bytes.</summary>
    public int MaxFrameBytes { get; set; } = LineFramer.DefaultMaxFrameBytes;

    /// <summary>The effective field separator.</summary>
    public char EffectiveSeparator => string.IsNullOrEmpty(Separator) ? (Format == LineFormat.Csv ? ',' : ' ') : Separator[0];

    /// <summary>Parses JSON; throws <see cref="LineConfigException"/> naming the bad key. Does not validate (see <see cref="Validate"/>).</summary>
    public static LineDeviceConfig FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, JsonInfo)
                ?? throw new LineConfigException(["(root): the configuration is null."]);
        }
        catch (JsonException ex)
        {
            throw new LineConfigException([$"{ex.Path ?? "(root)"}: {ex.Message}"]);
        }
    }

    /// <summary>Returns every problem, each prefixed with the key it is about (for example <c>fields[1].sign</c>); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Name))
        {
            errors.Add("name: give the device type a name, for example \"nonin-7500\".");
        }

        if (!Enum.IsDefined(Format))
        {
            errors.Add($"format: {(int)Format} is not keyValue or csv.");
        }

        if (Separator is not null && (Separator.Length != 1 || !char.IsAscii(Separator[0]) || Separator[0] is '\r' or '\n'))
        {
            errors.Add($"separator: '{Separator}' must be a single ASCII character other than CR or LF.");
        }

        if (Format == LineFormat.KeyValue && (KeyValueSeparator is null || KeyValueSeparator.Length != 1 || !char.IsAscii(KeyValueSeparator[0])
            || KeyValueSeparator[0] == EffectiveSeparator))
        {
            errors.Add($"keyValueSeparator: '{KeyValueSeparator}' must be a single ASCII character different from the separator.");
        }

        if (MaxFrameBytes is < 16 or > 65536)
        {
            errors.Add($"maxFrameBytes: {MaxFrameBytes} is outside 16-65536.");
        }

        if (Fields is null || Fields.Count == 0)
        {
            errors.Add("fields: map at least one field to a sign.");
        }
        else
        {
            var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < Fields.Count; i++)
            {
                var f = Fields[i];
                string at = $"fields[{i}]";
                CheckRef(f, at, errors, seen);
                if (!Signs.TryParse(f.Sign, out var sign))
                {
                    errors.Add($"{at}.sign: '{f.Sign}' is not a sign; use one of {string.Join(", ", Signs.All.Select(s => s.ShortName))}.");
                }
                else if (!UnitConversion.TryGet(f.Unit, sign, out _))
                {
                    errors.Add($"{at}.unit: '{f.Unit}' cannot be converted to {sign.Info().Unit} for {f.Sign}; use {UnitConversion.Describe(sign)}, or the sign's unit with scale/offset.");
                }

                if (!double.IsFinite(f.Scale) || f.Scale == 0)
                {
                    errors.Add($"{at}.scale: {f.Scale.ToString(CultureInfo.InvariantCulture)} must be a finite non-zero number.");
                }

                if (!double.IsFinite(f.Offset))
                {
                    errors.Add($"{at}.offset: must be a finite number.");
                }
            }

            if (Time is not null)
            {
                CheckRef(Time, "time", errors, seen);
                if (!LineTime.IsValidFormat(Time.Format))
                {
                    errors.Add($"time.format: '{Time.Format}' is not unix, unix-ms or a .NET date format that round-trips (for example yyyy-MM-ddTHH:mm:ss).");
                }
                else if (Format == LineFormat.KeyValue && Time.Format.Contains(EffectiveSeparator, StringComparison.Ordinal))
                {
                    errors.Add($"time.format: '{Time.Format}' contains the field separator '{EffectiveSeparator}', so the time would be split; use a format without it (for example yyyy-MM-ddTHH:mm:ss).");
                }
            }

            if (DeviceId is not null)
            {
                CheckRef(DeviceId, "deviceId", errors, seen);
            }
        }

        for (int i = 0; i < (MissingValues?.Count ?? 0); i++)
        {
            if (string.IsNullOrEmpty(MissingValues![i]) || !MissingValues[i].All(char.IsAscii))
            {
                errors.Add($"missingValues[{i}]: must be non-empty ASCII.");
            }
        }

        return errors;

        void CheckRef(LineFieldRef r, string at, List<string> errors, Dictionary<string, string> seen)
        {
            if (Format == LineFormat.KeyValue)
            {
                if (string.IsNullOrWhiteSpace(r.Key) || r.Key.Contains(EffectiveSeparator, StringComparison.Ordinal) || !r.Key.All(char.IsAscii)
                    || (KeyValueSeparator?.Length == 1 && r.Key.Contains(KeyValueSeparator[0], StringComparison.Ordinal)))
                {
                    errors.Add($"{at}.key: '{r.Key}' must be a non-empty ASCII key without separators (key=value format finds fields by key).");
                }
                else if (!seen.TryAdd("k:" + r.Key, at))
                {
                    errors.Add($"{at}.key: '{r.Key}' is already used by {seen["k:" + r.Key]}.");
                }

                if (r.Column is not null)
                {
                    errors.Add($"{at}.column: not used in key=value format; give key instead.");
                }
            }
            else
            {
                if (r.Column is null or < 0 or > 255)
                {
                    errors.Add($"{at}.column: {(r.Column?.ToString(CultureInfo.InvariantCulture) ?? "missing")}; give a 0-based column 0-255 (csv format finds fields by column).");
                }
                else if (!seen.TryAdd("c:" + r.Column.Value.ToString(CultureInfo.InvariantCulture), at))
                {
                    errors.Add($"{at}.column: {r.Column} is already used by {seen["c:" + r.Column.Value.ToString(CultureInfo.InvariantCulture)]}.");
                }
            }
        }
    }

    /// <summary>Throws <see cref="LineConfigException"/> listing every problem.</summary>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new LineConfigException(errors);
        }
    }
}

/// <summary>A line-device configuration is invalid; <see cref="Errors"/> name the keys.</summary>
public sealed class LineConfigException : Exception
{
    public LineConfigException()
        : this([])
    {
    }

    public LineConfigException(string message)
        : this([message])
    {
    }

    public LineConfigException(string message, Exception innerException)
        : base(message, innerException) => Errors = [message];

    public LineConfigException(IReadOnlyList<string> errors)
        : base("Invalid line-device configuration: " + string.Join(" ", errors)) => Errors = errors;

    /// <summary>One message per problem, each starting with the key.</summary>
    public IReadOnlyList<string> Errors { get; }
}

// The file's records have setters, not init accessors: generated metadata sets every init-only property, so a key the
// file leaves out would get default(T) instead of its initializer's value (keyValueSeparator "=", scale 1, ...).

/// <summary>The line-device file's JSON, generated at build time (Native AOT builds no metadata at run time): keys in any case, comments and trailing commas allowed, unknown keys rejected.</summary>
[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    Converters = [typeof(JsonStringEnumConverter<LineFormat>)])]
[JsonSerializable(typeof(LineDeviceConfig))]
internal sealed partial class LineConfigJson : JsonSerializerContext;
