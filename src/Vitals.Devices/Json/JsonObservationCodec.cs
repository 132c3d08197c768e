using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using Vitals.Core;
using Vitals.Devices.Line;

namespace Vitals.Devices.Json;

/// <summary>
/// Pure decoder of JSON observations (hardware-docs/mqtt.md). Without a mapping it reads the Vitals schema:
/// a reading <c>{"sign":"hr","value":72,"unit":"/min","time":"...","device":"...","quality":"ok"}</c> (or <c>"mdc":147842</c>
/// or <c>"code":"MDC_ECG_HEART_RATE"</c> instead of <c>sign</c>), a batch <c>{"device":..,"time":..,"readings":[...]}</c>,
/// or an array of readings. With a <see cref="JsonMapping"/> it reads a vendor's flat object (or array of them).
/// Never throws on input: a message that cannot be used, or any reading in it that is rejected, makes the result bad with
/// the first reason; readings that are valid are still emitted (each reading stands on its own).
/// </summary>
public sealed class JsonObservationCodec
{
    /// <summary>Largest payload accepted; larger ones are bad without being parsed.</summary>
    public const int MaxPayloadBytes = 256 * 1024;

    /// <summary>Most readings taken from one message.</summary>
    public const int MaxReadings = 1_000;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 16 };

    private readonly JsonMapping? mapping;
    private readonly (string[] Path, Sign Sign, Func<double, double>? Convert, double Scale, double Offset)[] fields;
    private readonly string[]? devicePath; // dotted paths split once, not per message
    private readonly string[]? timePath;
    private readonly SourceProtocol source;

    /// <summary>Creates a codec; <paramref name="mapping"/> must have passed <see cref="JsonMapping.Validate"/>.</summary>
    public JsonObservationCodec(JsonMapping? mapping = null, SourceProtocol source = SourceProtocol.Mqtt)
    {
        this.mapping = mapping;
        this.source = source;
        fields = mapping is null
            ? []
            : [.. mapping.Fields.Select(f =>
            {
                if (!TryParseSign(f.Sign, out var sign) || !UnitConversion.TryGet(f.Unit, sign, out var convert))
                {
                    throw new ArgumentException($"Mapping field '{f.Field}' is invalid; validate the mapping first.", nameof(mapping));
                }

                return (f.Field.Split('.'), sign, convert, f.Scale, f.Offset);
            })];
        devicePath = mapping?.DeviceField?.Split('.');
        timePath = mapping?.TimeField?.Split('.');
    }

    /// <summary>Parses a sign given as short name (<c>hr</c>), MDC name (<c>MDC_ECG_HEART_RATE</c>) or MDC code (<c>147842</c>).</summary>
    public static bool TryParseSign(string? text, out Sign sign)
    {
        sign = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        return Signs.TryParse(text, out sign)
            || Signs.TryFromMdcName(text, out sign)
            || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code) && Signs.TryFromMdcCode(code, out sign));
    }

    /// <summary>Decodes one message, appending observations to <paramref name="output"/>.</summary>
    public DecodeResult Decode(ReadOnlyMemory<byte> payload, DecodeContext context, List<Observation> output)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(output);
        if (payload.Length == 0)
        {
            return DecodeResult.Bad("empty payload");
        }

        if (payload.Length > MaxPayloadBytes)
        {
            return DecodeResult.Bad($"payload of {payload.Length} bytes is larger than {MaxPayloadBytes}");
        }

        if (!Utf8.IsValid(payload.Span))
        {
            return DecodeResult.Bad("not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(payload, ParseOptions);
        }
        catch (JsonException e)
        {
            // The message says where (line, byte); it never echoes the payload.
            return DecodeResult.Bad($"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }

        using (doc)
        {
            var state = new State(context, output);
            try
            {
                if (mapping is not null)
                {
                    DecodeMapped(doc.RootElement, ref state);
                }
                else
                {
                    DecodeStandard(doc.RootElement, ref state);
                }
            }
            catch (InvalidOperationException)
            {
                // A string escape that is not text (a lone surrogate such as \ud800) only shows when the string is read.
                state.Reject("a string is not valid Unicode");
            }

            return state.Error is null ? DecodeResult.Success : DecodeResult.Bad(state.Error);
        }
    }

    private void DecodeStandard(JsonElement root, ref State state)
    {
        switch (root.ValueKind)
        {
            case JsonValueKind.Array:
                DecodeReadings(root, state.Context.Device, null, ref state);
                break;
            case JsonValueKind.Object when root.TryGetProperty("readings", out var readings):
                if (readings.ValueKind != JsonValueKind.Array)
                {
                    state.Reject("'readings' is not an array");
                    return;
                }

                var device = state.Context.Device;
                if (root.TryGetProperty("device", out var d) && !TryDevice(d, ref device))
                {
                    state.Reject("batch 'device' is not a non-empty string");
                    return;
                }

                DateTimeOffset? time = null;
                if (root.TryGetProperty("time", out var t))
                {
                    if (!TryTime(t, "iso8601", state.Context.DeviceTimeZone, out var at))
                    {
                        state.Reject("batch 'time' is not an ISO 8601 time or Unix milliseconds");
                        return;
                    }

                    time = at;
                }

                DecodeReadings(readings, device, time, ref state);
                break;
            case JsonValueKind.Object:
                DecodeReading(root, state.Context.Device, null, ref state);
                break;
            default:
                state.Reject($"expected a JSON object or array, got {root.ValueKind.ToString().ToLowerInvariant()}");
                break;
        }
    }

    private void DecodeReadings(JsonElement array, string device, DateTimeOffset? time, ref State state)
    {
        var n = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (++n > MaxReadings)
            {
                state.Reject($"more than {MaxReadings} readings; the rest were ignored");
                return;
            }

            if (item.ValueKind != JsonValueKind.Object)
            {
                state.Reject($"reading {n - 1} is not a JSON object");
                continue;
            }

            DecodeReading(item, device, time, ref state);
        }
    }

    private void DecodeReading(JsonElement r, string device, DateTimeOffset? time, ref State state)
    {
        Sign sign = default;
        if (r.TryGetProperty("sign", out var s))
        {
            if (s.ValueKind != JsonValueKind.String || !Signs.TryParse(s.GetString(), out sign))
            {
                state.Reject($"unknown sign {Describe(s)}");
                return;
            }
        }
        else if (r.TryGetProperty("mdc", out var m))
        {
            var ok = m.ValueKind switch
            {
                JsonValueKind.Number => m.TryGetInt32(out var code) && Signs.TryFromMdcCode(code, out sign),
                JsonValueKind.String => TryParseSign(m.GetString(), out sign),
                _ => false,
            };
            if (!ok)
            {
                state.Reject($"unknown MDC code {Describe(m)}");
                return;
            }
        }
        else if (r.TryGetProperty("code", out var c))
        {
            if (c.ValueKind != JsonValueKind.String || !Signs.TryFromMdcName(c.GetString()!, out sign))
            {
                state.Reject($"unknown MDC name {Describe(c)}");
                return;
            }
        }
        else
        {
            state.Reject("reading has no 'sign', 'mdc' or 'code'");
            return;
        }

        if (!r.TryGetProperty("value", out var v) || v.ValueKind == JsonValueKind.Null)
        {
            // A monitor may report a sign it has no value for (sensor off): nothing to use, nothing wrong with the message.
            if (r.TryGetProperty("value", out _))
            {
                return;
            }

            state.Reject($"{sign.ShortName()} reading has no 'value'");
            return;
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var value) || !double.IsFinite(value))
        {
            state.Reject($"{sign.ShortName()} 'value' is not a number");
            return;
        }

        Func<double, double>? convert = null;
        if (r.TryGetProperty("unit", out var u)
            && (u.ValueKind != JsonValueKind.String || !UnitConversion.TryGet(u.GetString(), sign, out convert)))
        {
            state.Reject($"{sign.ShortName()} unit {Describe(u)} cannot be converted to {sign.Info().Unit}");
            return;
        }

        if (r.TryGetProperty("device", out var d) && !TryDevice(d, ref device))
        {
            state.Reject("'device' is not a non-empty string");
            return;
        }

        var at = time ?? state.Context.ReceivedAt;
        if (r.TryGetProperty("time", out var t) && !TryTime(t, "iso8601", state.Context.DeviceTimeZone, out at))
        {
            state.Reject($"{sign.ShortName()} 'time' is not an ISO 8601 time or Unix milliseconds");
            return;
        }

        var quality = ObservationQuality.Ok;
        if (r.TryGetProperty("quality", out var q))
        {
            switch (q.ValueKind == JsonValueKind.String ? q.GetString() : null)
            {
                case "ok":
                    break;
                case "questionable":
                    quality = ObservationQuality.Questionable;
                    break;
                case "invalid":
                    quality = ObservationQuality.Invalid;
                    break;
                default:
                    state.Reject($"{sign.ShortName()} 'quality' must be ok, questionable or invalid");
                    return;
            }
        }

        Emit(sign, convert is null ? value : convert(value), device, at, quality, ref state);
    }

    private void DecodeMapped(JsonElement root, ref State state)
    {
        if (root.ValueKind == JsonValueKind.Object)
        {
            DecodeMappedObject(root, ref state);
            return;
        }

        if (root.ValueKind != JsonValueKind.Array)
        {
            state.Reject($"expected a JSON object or array, got {root.ValueKind.ToString().ToLowerInvariant()}");
            return;
        }

        var n = 0;
        foreach (var item in root.EnumerateArray())
        {
            if (++n > MaxReadings)
            {
                state.Reject($"more than {MaxReadings} objects; the rest were ignored");
                return;
            }

            if (item.ValueKind != JsonValueKind.Object)
            {
                state.Reject($"item {n - 1} is not a JSON object");
                continue;
            }

            DecodeMappedObject(item, ref state);
        }
    }

    private void DecodeMappedObject(JsonElement obj, ref State state)
    {
        var map = mapping!;
        var device = state.Context.Device;
        if (devicePath is not null && TryFind(obj, devicePath, out var d) && !TryDevice(d, ref device))
        {
            state.Reject($"'{map.DeviceField}' is not a non-empty string");
            return;
        }

        var at = state.Context.ReceivedAt;
        if (timePath is not null && TryFind(obj, timePath, out var t) && !TryTime(t, map.TimeFormat, state.Context.DeviceTimeZone, out at))
        {
            state.Reject($"'{map.TimeField}' does not match time format '{map.TimeFormat}'");
            return;
        }

        var found = 0;
        foreach (var f in fields)
        {
            if (!TryFind(obj, f.Path, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            found++;
            double raw;
            if (v.ValueKind == JsonValueKind.Number)
            {
                raw = v.GetDouble();
            }
            else if (v.ValueKind != JsonValueKind.String
                || !double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out raw))
            {
                // Some vendors quote their numbers; anything else is not a value.
                state.Reject($"'{string.Join('.', f.Path)}' is not a number");
                continue;
            }

            var value = (raw * f.Scale) + f.Offset;
            Emit(f.Sign, f.Convert is null ? value : f.Convert(value), device, at, ObservationQuality.Ok, ref state);
        }

        if (found == 0)
        {
            state.Reject("no mapped field is present");
        }
    }

    private void Emit(Sign sign, double value, string device, DateTimeOffset at, ObservationQuality quality, ref State state)
    {
        var info = sign.Info();
        if (!double.IsFinite(value) || value < info.HardMin || value > info.HardMax)
        {
            state.Reject($"{info.ShortName} value {value.ToString("0.###", CultureInfo.InvariantCulture)} is outside {info.HardMin}-{info.HardMax} {info.Unit}");
            return;
        }

        var c = state.Context;
        state.Output.Add(new Observation(c.Site, c.Chair, device, sign, value, at, c.ReceivedAt, source, quality));
    }

    private static bool TryFind(JsonElement obj, string[] path, out JsonElement value)
    {
        value = obj;
        foreach (var part in path)
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(part, out value))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryDevice(JsonElement d, ref string device)
    {
        if (d.ValueKind == JsonValueKind.String && d.GetString() is { Length: > 0 and <= 128 } text && !text.Any(char.IsControl))
        {
            device = text;
            return true;
        }

        return false;
    }

    private static bool TryTime(JsonElement t, string format, TimeZoneInfo zone, out DateTimeOffset at)
    {
        at = default;
        switch (format)
        {
            case "unix-s" or "unix-ms" when t.ValueKind == JsonValueKind.Number:
                return t.TryGetInt64(out var n) && LineTime.TryFromUnix(n, format == "unix-ms", out at);

            case "unix-s" or "unix-ms" when t.ValueKind == JsonValueKind.String:
                return LineTime.TryParse(t.GetString(), format == "unix-s" ? "unix" : "unix-ms", zone, out at);
            case "iso8601" when t.ValueKind == JsonValueKind.Number:
                // The Vitals schema also takes Unix milliseconds, the other common way devices send time.
                return TryTime(t, "unix-ms", zone, out at);
            case "iso8601" when t.ValueKind == JsonValueKind.String:
                return TryIso(t.GetString()!, zone, out at);
            case "iso8601" or "unix-s" or "unix-ms":
                return false;
            default:
                return t.ValueKind == JsonValueKind.String && LineTime.TryParse(t.GetString(), format, zone, out at);
        }
    }

    private static bool TryIso(string text, TimeZoneInfo zone, out DateTimeOffset at)
    {
        at = default;
        if (text.Length is < 10 or > 40)
        {
            return false;
        }

        // ISO 8601 with Z or an offset names the instant; without one it is the device's local time.
        var hasOffset = text.EndsWith('Z') || text.EndsWith('z') || (text.Length > 19 && text.AsSpan(19).IndexOfAny('+', '-') >= 0);
        if (hasOffset)
        {
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at))
            {
                return false;
            }

            at = at.ToUniversalTime();
            return true;
        }

        if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local) || !text.Contains('T', StringComparison.Ordinal))
        {
            return false;
        }

        return LineTime.TryFromDeviceLocal(local, zone, out at);
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"'{Truncate(e.GetString()!)}'",
        JsonValueKind.Number => e.GetRawText(),
        _ => $"({e.ValueKind.ToString().ToLowerInvariant()})",
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";

    private struct State(DecodeContext context, List<Observation> output)
    {
        public readonly DecodeContext Context = context;
        public readonly List<Observation> Output = output;
        public string? Error;

        public void Reject(string reason) => Error ??= reason;
    }
}
