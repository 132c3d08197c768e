using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
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
public sealed partial class JsonObservationCodec
{
    /// <summary>Largest payload accepted; larger ones are bad without being parsed.</summary>
    public const int MaxPayloadBytes = 256 * 1024;

    /// <summary>Most readings taken from one message.</summary>
    public const int MaxReadings = 1_000;

    private const int MaxDepth = 16;

    // Where a mapped object's values are looked up: the device, the time, then each field in mapping order.
    private const int DeviceSlot = 0;
    private const int TimeSlot = 1;
    private const int FirstFieldSlot = 2;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = MaxDepth };
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth };

    private readonly JsonMapping? mapping;
    private readonly (Sign Sign, Func<double, double>? Convert, double Scale, double Offset)[] fields;
    private readonly string[]?[] slotPaths = []; // dotted paths split once, not per message; null: not mapped
    private readonly FlatNames? flat;
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

                return (sign, convert, f.Scale, f.Offset);
            })];
        if (mapping is not null)
        {
            slotPaths = [mapping.DeviceField?.Split('.'), mapping.TimeField?.Split('.'), .. mapping.Fields.Select(f => f.Field.Split('.'))];
            flat = FlatNames.Of(slotPaths);
        }
    }

    /// <summary>
    /// Test hook: false makes every mapped message take the <see cref="JsonDocument"/> path, which the
    /// <see cref="Utf8JsonReader"/> path for flat objects must match reading for reading and error for error.
    /// </summary>
    internal bool ReadFlatObjects { get; init; } = true;

    /// <summary>
    /// Test hook: false leaves every flat message to the <see cref="Utf8JsonReader"/> (no <see cref="TryScanPlainObject"/>
    /// first), which the plain-object scan must match reading for reading and error for error.
    /// </summary>
    internal bool ScanPlainObjects { get; init; } = true;

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

        if (flat is not null && ReadFlatObjects)
        {
            var start = output.Count;
            var scanned = new State(context, output);
            try
            {
                if (TryDecodeFlat(payload.Span, flat, ref scanned))
                {
                    return scanned.Error is null ? DecodeResult.Success : DecodeResult.Bad(scanned.Error);
                }
            }
            catch (JsonException e)
            {
                output.RemoveRange(start, output.Count - start);
                return NotJson(e);
            }

            // A shape the reader leaves to the document (see TryDecodeFlat): start over with nothing emitted.
            output.RemoveRange(start, output.Count - start);
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(payload, ParseOptions);
        }
        catch (JsonException e)
        {
            return NotJson(e);
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

    // The message says where (line, byte); it never echoes the payload.
    private static DecodeResult NotJson(JsonException e) =>
        DecodeResult.Bad($"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");

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
                if (root.TryGetProperty("device", out var d) && !TryDevice(ValueOf(d), ref device))
                {
                    state.Reject("batch 'device' is not a non-empty string");
                    return;
                }

                DateTimeOffset? time = null;
                if (root.TryGetProperty("time", out var t))
                {
                    if (!TryTime(ValueOf(t), "iso8601", state.Context.DeviceTimeZone, out var at))
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

        if (r.TryGetProperty("device", out var d) && !TryDevice(ValueOf(d), ref device))
        {
            state.Reject("'device' is not a non-empty string");
            return;
        }

        var at = time ?? state.Context.ReceivedAt;
        if (r.TryGetProperty("time", out var t) && !TryTime(ValueOf(t), "iso8601", state.Context.DeviceTimeZone, out at))
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
            var values = new ElementValues(root, slotPaths);
            DecodeMappedObject(ref values, ref state);
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

            var values = new ElementValues(item, slotPaths);
            DecodeMappedObject(ref values, ref state);
        }
    }

    /// <summary>
    /// The mapped message read token by token with a <see cref="Utf8JsonReader"/>, with no <see cref="JsonDocument"/>:
    /// a flat object (or an array of them) is the shape vendors send, and the document was most of the decode time
    /// (0.95 us of ~12.5 us per message, warm; see the README, "Where the time goes"). Every token is read, so invalid
    /// JSON fails at the same line and byte as the document; a name present twice counts with its last value, as in the
    /// document. Returns false, having emitted nothing that counts, for a shape the document path decides: a root that
    /// is neither object nor array, or an escaped property name or mapped string.
    /// </summary>
    /// <exception cref="JsonException">The payload is not valid JSON.</exception>
    private bool TryDecodeFlat(ReadOnlySpan<byte> json, FlatNames names, ref State state)
    {
        Span<Capture> found = stackalloc Capture[names.Count];
        if (ScanPlainObjects && TryScanPlainObject(json, names, found))
        {
            var plain = new ScannedValues(json, found, names.SlotNames);
            DecodeMappedObject(ref plain, ref state);
            return true;
        }

        var reader = new Utf8JsonReader(json, ReaderOptions);
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            if (!TryScanObject(ref reader, json, names, found, ref state))
            {
                return false;
            }
        }
        else if (reader.TokenType == JsonTokenType.StartArray)
        {
            var n = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (++n > MaxReadings)
                {
                    // Not decoded, still read: the rest must be valid JSON for any of it to count.
                    state.Reject($"more than {MaxReadings} objects; the rest were ignored");
                    reader.Skip();
                }
                else if (reader.TokenType != JsonTokenType.StartObject)
                {
                    state.Reject($"item {n - 1} is not a JSON object");
                    reader.Skip();
                }
                else if (!TryScanObject(ref reader, json, names, found, ref state))
                {
                    return false;
                }
            }
        }
        else
        {
            return false;
        }

        // Anything after the root value other than white space is invalid, as the document finds.
        while (reader.Read())
        {
        }

        return true;
    }

    /// <summary>Reads one object (the reader on its <c>{</c>), noting where each mapped name's value is, then decodes it.</summary>
    private bool TryScanObject(ref Utf8JsonReader reader, scoped ReadOnlySpan<byte> json, FlatNames names, scoped Span<Capture> found, ref State state)
    {
        found.Clear();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped)
            {
                return false;
            }

            var index = names.IndexOf(reader.ValueSpan);
            reader.Read();
            if (index < 0)
            {
                reader.Skip();
                continue;
            }

            if (reader.TokenType == JsonTokenType.String && reader.ValueIsEscaped)
            {
                return false;
            }

            var at = (int)reader.TokenStartIndex;
            found[index] = reader.TokenType switch
            {
                JsonTokenType.Number => new Capture(JsonValueKind.Number, at, reader.ValueSpan.Length),
                JsonTokenType.String => new Capture(JsonValueKind.String, at + 1, reader.ValueSpan.Length), // after the quote
                JsonTokenType.Null => new Capture(JsonValueKind.Null, at, 0),
                JsonTokenType.True => new Capture(JsonValueKind.True, at, 0),
                JsonTokenType.False => new Capture(JsonValueKind.False, at, 0),
                JsonTokenType.StartObject => new Capture(JsonValueKind.Object, at, 0),
                _ => new Capture(JsonValueKind.Array, at, 0),
            };
            reader.Skip();
        }

        var values = new ScannedValues(json, found, names.SlotNames);
        DecodeMappedObject(ref values, ref state);
        return true;
    }

    /// <summary>One mapped object, whichever way it was read: device, time, then every field in mapping order.</summary>
    private void DecodeMappedObject<TValues>(ref TValues values, ref State state)
        where TValues : IMappedValues, allows ref struct
    {
        var map = mapping!;
        var device = state.Context.Device;
        var d = values.Get(DeviceSlot);
        if (d.Kind != JsonValueKind.Undefined && !TryDevice(d, ref device))
        {
            state.Reject($"'{map.DeviceField}' is not a non-empty string");
            return;
        }

        var at = state.Context.ReceivedAt;
        var t = values.Get(TimeSlot);
        if (t.Kind != JsonValueKind.Undefined && !TryTime(t, map.TimeFormat, state.Context.DeviceTimeZone, out at))
        {
            state.Reject($"'{map.TimeField}' does not match time format '{map.TimeFormat}'");
            return;
        }

        var found = 0;
        for (var i = 0; i < fields.Length; i++)
        {
            var f = fields[i];
            var v = values.Get(FirstFieldSlot + i);
            if (v.Kind is JsonValueKind.Undefined or JsonValueKind.Null)
            {
                continue;
            }

            found++;
            double raw;
            if (v.Kind == JsonValueKind.Number)
            {
                if (!TryDouble(v.Number, out raw))
                {
                    state.Reject($"'{map.Fields[i].Field}' is not a number");
                    continue;
                }
            }
            else if (v.Kind != JsonValueKind.String
                || !double.TryParse(v.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out raw))
            {
                // Some vendors quote their numbers; anything else is not a value.
                state.Reject($"'{map.Fields[i].Field}' is not a number");
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

    /// <summary>A value as both paths see it. A string is read here, so an unpaired surrogate escape throws here, as before.</summary>
    private static JsonValue ValueOf(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => new JsonValue(JsonValueKind.Number, JsonMarshal.GetRawUtf8Value(e), null),
        JsonValueKind.String => new JsonValue(JsonValueKind.String, default, e.GetString()),
        _ => new JsonValue(e.ValueKind, default, null),
    };

    // JsonElement.GetDouble / TryGetInt64, on the raw number text: the whole token. Beyond double's range (1e400) is
    // infinite, as GetDouble has it, and Emit rejects it as outside the sign's range.
    private static bool TryDouble(ReadOnlySpan<byte> number, out double value)
    {
        // Whole numbers of up to 15 digits (every value a monitor sends as an integer) are exact in a double, so adding up
        // the digits gives the parser's result without its general path (Utf8Parser's number parsing was ~1 % of the AOT
        // gateway's harness window in perf).
        if (number.Length is > 0 and <= 15)
        {
            long whole = 0;
            foreach (var b in number)
            {
                if (!char.IsAsciiDigit((char)b))
                {
                    return Utf8Parser.TryParse(number, out value, out var n) && n == number.Length;
                }

                whole = (whole * 10) + (b - '0');
            }

            value = whole;
            return true;
        }

        return Utf8Parser.TryParse(number, out value, out var used) && used == number.Length;
    }

    private static bool TryInt64(ReadOnlySpan<byte> number, out long value) =>
        Utf8Parser.TryParse(number, out value, out var used) && used == number.Length;

    private static bool TryDevice(JsonValue d, ref string device)
    {
        if (d.Kind == JsonValueKind.String && d.Text is { Length: > 0 and <= 128 } text && !text.Any(char.IsControl))
        {
            device = text;
            return true;
        }

        return false;
    }

    private static bool TryTime(JsonValue t, string format, TimeZoneInfo zone, out DateTimeOffset at)
    {
        at = default;
        switch (format)
        {
            case "unix-s" or "unix-ms" when t.Kind == JsonValueKind.Number:
                return TryInt64(t.Number, out var n) && LineTime.TryFromUnix(n, format == "unix-ms", out at);

            case "unix-s" or "unix-ms" when t.Kind == JsonValueKind.String:
                return LineTime.TryParse(t.Text, format == "unix-s" ? "unix" : "unix-ms", zone, out at);
            case "iso8601" when t.Kind == JsonValueKind.Number:
                // The Vitals schema also takes Unix milliseconds, the other common way devices send time.
                return TryTime(t, "unix-ms", zone, out at);
            case "iso8601" when t.Kind == JsonValueKind.String:
                return TryIso(t.Text!, zone, out at);
            case "iso8601" or "unix-s" or "unix-ms":
                return false;
            default:
                return t.Kind == JsonValueKind.String && LineTime.TryParse(t.Text, format, zone, out at);
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

    /// <summary>What a mapped name held: absent (<see cref="JsonValueKind.Undefined"/>), a number's text, a string, or another kind.</summary>
    private readonly ref struct JsonValue(JsonValueKind kind, ReadOnlySpan<byte> number, string? text)
    {
        public JsonValueKind Kind { get; } = kind;

        public ReadOnlySpan<byte> Number { get; } = number;

        public string? Text { get; } = text;
    }

    /// <summary>The values of a mapped object by slot (device, time, fields), looked up when asked, in that order.</summary>
    private interface IMappedValues
    {
        JsonValue Get(int slot);
    }

    private readonly struct ElementValues(JsonElement obj, string[]?[] paths) : IMappedValues
    {
        public JsonValue Get(int slot) =>
            paths[slot] is { } path && TryFind(obj, path, out var v) ? ValueOf(v) : default;
    }

    private readonly ref struct ScannedValues(ReadOnlySpan<byte> json, ReadOnlySpan<Capture> found, int[] slotNames) : IMappedValues
    {
        private readonly ReadOnlySpan<byte> json = json;
        private readonly ReadOnlySpan<Capture> found = found;

        public JsonValue Get(int slot)
        {
            if (slotNames[slot] < 0)
            {
                return default;
            }

            var c = found[slotNames[slot]];
            var raw = json.Slice(c.Start, c.Length);
            return c.Kind switch
            {
                JsonValueKind.Number => new JsonValue(JsonValueKind.Number, raw, null),
                JsonValueKind.String => new JsonValue(JsonValueKind.String, default, Encoding.UTF8.GetString(raw)), // unescaped, valid UTF-8
                _ => new JsonValue(c.Kind, default, null),
            };
        }
    }

    /// <summary>Where one mapped name's value sits in the payload (a string without its quotes).</summary>
    private readonly record struct Capture(JsonValueKind Kind, int Start, int Length);

    /// <summary>The distinct names a mapping reads when every path is one level deep (no dots); null otherwise.</summary>
    private sealed class FlatNames
    {
        private readonly byte[][] names;

        private FlatNames(byte[][] names, int[] slotNames)
        {
            this.names = names;
            SlotNames = slotNames;
        }

        /// <summary>Per slot, the index of its name, or -1 when the slot is not mapped.</summary>
        public int[] SlotNames { get; }

        public int Count => names.Length;

        public static FlatNames? Of(string[]?[] slotPaths)
        {
            if (slotPaths.Any(p => p is { Length: > 1 }))
            {
                return null;
            }

            var distinct = slotPaths.OfType<string[]>().Select(p => p[0]).Distinct(StringComparer.Ordinal).ToList();
            return new FlatNames(
                [.. distinct.Select(Encoding.UTF8.GetBytes)],
                [.. slotPaths.Select(p => p is null ? -1 : distinct.IndexOf(p[0]))]);
        }

        public int IndexOf(ReadOnlySpan<byte> name)
        {
            for (var i = 0; i < names.Length; i++)
            {
                if (name.SequenceEqual(names[i]))
                {
                    return i;
                }
            }

            return -1;
        }
    }

    private struct State(DecodeContext context, List<Observation> output)
    {
        public readonly DecodeContext Context = context;
        public readonly List<Observation> Output = output;
        public string? Error;

        public void Reject(string reason) => Error ??= reason;
    }
}
