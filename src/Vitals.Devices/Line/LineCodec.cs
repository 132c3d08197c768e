using System.Text;
using Vitals.Core;

namespace Vitals.Devices.Line;

/// <summary>
/// A configurable codec for simple line-oriented spot-check monitors (key=value or CSV), built from a validated
/// <see cref="LineDeviceConfig"/>. Decoding works on bytes; only the observations (and a changed device id) allocate.
/// </summary>
public sealed class LineCodec : ILineCodec
{
    private readonly Field[] fields;
    private readonly byte[]? timeKey;
    private readonly int timeColumn = -1;
    private readonly byte[]? deviceKey;
    private readonly int deviceColumn = -1;
    private readonly byte[][] missing;
    private readonly byte separator;
    private readonly byte keyValueSeparator;
    private readonly bool collapse;
    private readonly int maxColumn;
    private readonly string fieldNames;
    private readonly DeviceIdCache deviceIds = new();

    /// <summary>Builds a codec; throws <see cref="LineConfigException"/> naming every bad key.</summary>
    public LineCodec(LineDeviceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.EnsureValid();
        Config = config;
        Framer = new LineFramer(config.MaxFrameBytes);
        separator = (byte)config.EffectiveSeparator;
        keyValueSeparator = (byte)config.KeyValueSeparator[0];
        collapse = separator == (byte)' ' || config.Format == LineFormat.KeyValue;
        fields = config.Fields.Select(f =>
        {
            Signs.TryParse(f.Sign, out var sign);
            UnitConversion.TryGet(f.Unit, sign, out var convert);
            return new Field(f.Key is null ? null : Encoding.ASCII.GetBytes(f.Key), f.Column ?? -1, sign, f.Scale, f.Offset, convert, (f.Key ?? $"column {f.Column}") + $" ({sign.ShortName()})");
        }).ToArray();
        if (config.Time is { } t)
        {
            timeKey = t.Key is null ? null : Encoding.ASCII.GetBytes(t.Key);
            timeColumn = t.Column ?? -1;
        }

        if (config.DeviceId is { } d)
        {
            deviceKey = d.Key is null ? null : Encoding.ASCII.GetBytes(d.Key);
            deviceColumn = d.Column ?? -1;
        }

        missing = config.MissingValues.Select(Encoding.ASCII.GetBytes).ToArray();
        maxColumn = Math.Max(fields.Max(f => f.Column), Math.Max(timeColumn, deviceColumn));
        fieldNames = string.Join(", ", fields.Select(f => f.Name));
    }

    /// <summary>Creates a codec from JSON configuration.</summary>
    public static LineCodec FromJson(string json) => new(LineDeviceConfig.FromJson(json));

    /// <summary>The configuration this codec was built from.</summary>
    public LineDeviceConfig Config { get; }

    /// <inheritdoc />
    public SourceProtocol Protocol => SourceProtocol.Line;

    /// <inheritdoc />
    public LineFramer Framer { get; }

    /// <inheritdoc />
    public DecodeResult Decode(ReadOnlySpan<byte> line, DecodeContext context, ICollection<Observation> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int bad = line.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E);
        if (bad >= 0 && line[bad] != (byte)'\t')
        {
            return DecodeResult.Bad($"non-printable byte 0x{line[bad]:x2} at column {bad}");
        }

        // Values per field; found[i] false = field absent, missing values leave present false.
        Span<double> values = stackalloc double[fields.Length];
        Span<byte> state = stackalloc byte[fields.Length]; // 0 absent, 1 missing, 2 value
        scoped ReadOnlySpan<byte> time = default;
        scoped ReadOnlySpan<byte> device = default;
        scoped ReadOnlySpan<byte> value;
        bool sawTime = false;

        var rest = line;
        int column = 0;
        while (AsciiText.NextToken(ref rest, separator, collapse, out var token))
        {
            int index = -1;
            if (Config.Format == LineFormat.KeyValue)
            {
                int eq = token.IndexOf(keyValueSeparator);
                if (eq <= 0)
                {
                    return DecodeResult.Bad($"'{Encoding.ASCII.GetString(token[..Math.Min(token.Length, 24)])}' is not key{(char)keyValueSeparator}value");
                }

                var key = token[..eq];
                value = token[(eq + 1)..];
                for (int i = 0; i < fields.Length; i++)
                {
                    if (Ascii.EqualsIgnoreCase(key, fields[i].Key))
                    {
                        index = i;
                        break;
                    }
                }

                if (index < 0)
                {
                    if (timeKey is not null && Ascii.EqualsIgnoreCase(key, timeKey))
                    {
                        time = value;
                        sawTime = true;
                    }
                    else if (deviceKey is not null && Ascii.EqualsIgnoreCase(key, deviceKey))
                    {
                        device = value;
                    }

                    continue; // unknown keys are ignored: devices add fields in firmware updates
                }
            }
            else
            {
                value = token.Trim((byte)' ');
                if (column == timeColumn)
                {
                    time = value;
                    sawTime = true;
                }

                if (column == deviceColumn)
                {
                    device = value;
                }

                for (int i = 0; i < fields.Length; i++)
                {
                    if (fields[i].Column == column)
                    {
                        index = i;
                        break;
                    }
                }

                column++;
                if (index < 0)
                {
                    continue;
                }
            }

            if (IsMissing(value))
            {
                state[index] = 1;
                continue;
            }

            ref readonly var f = ref fields[index];
            if (!AsciiText.TryParseNumber(value, out double raw))
            {
                return DecodeResult.Bad($"{f.Name}: value is not a number");
            }

            double v = (raw * f.Scale) + f.Offset;
            if (f.Convert is not null)
            {
                v = f.Convert(v);
            }

            var info = f.Sign.Info();
            if (v < info.HardMin || v > info.HardMax)
            {
                return DecodeResult.Bad($"{f.Name}: {Math.Round(v, 2)} {info.Unit} is outside {info.HardMin}-{info.HardMax}");
            }

            values[index] = v;
            state[index] = 2;
        }

        if (Config.Format == LineFormat.Csv && column <= maxColumn)
        {
            return DecodeResult.Bad($"line has {column} columns; the configuration needs column {maxColumn}");
        }

        if (!state.ContainsAnyExcept((byte)0))
        {
            return DecodeResult.Bad($"none of the configured fields ({fieldNames}) is on the line");
        }

        DateTimeOffset measuredAt = context.ReceivedAt;
        if (Config.Time is { } timeConfig)
        {
            if (!sawTime)
            {
                return DecodeResult.Bad("time field is missing");
            }

            Span<char> chars = stackalloc char[time.Length];
            for (int i = 0; i < time.Length; i++)
            {
                chars[i] = (char)time[i];
            }

            if (!LineTime.TryParse(chars, timeConfig.Format, context.DeviceTimeZone, out measuredAt))
            {
                return DecodeResult.Bad($"time does not match format {timeConfig.Format}");
            }
        }

        string deviceId = device.IsEmpty || IsMissing(device) ? context.Device : deviceIds.Get(device) ?? context.Device;
        for (int i = 0; i < fields.Length; i++)
        {
            if (state[i] == 2)
            {
                output.Add(new Observation(context.Site, context.Chair, deviceId, fields[i].Sign, values[i], measuredAt, context.ReceivedAt, SourceProtocol.Line));
            }
        }

        return DecodeResult.Success;
    }

    private bool IsMissing(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || AsciiText.IsMissing(value))
        {
            return true;
        }

        foreach (var m in missing)
        {
            if (value.SequenceEqual(m))
            {
                return true;
            }
        }

        return false;
    }

    private readonly record struct Field(byte[]? Key, int Column, Sign Sign, double Scale, double Offset, Func<double, double>? Convert, string Name);
}
