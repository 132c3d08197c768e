using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using Vitals.Core;
using Vitals.Devices.Line;

namespace Vitals.Devices.Hl7;

/// <summary>
/// Pure codec for HL7 v2.x ORU^R01 as sent by patient monitors (IHE PCD TF-2 PCD-01 "Communicate PCD Data").
/// Bytes in, observations and an ACK out; no I/O, no clock (times come from <see cref="DecodeContext"/> and the caller).
/// Thread-safe: one instance can serve every connection.
/// </summary>
public sealed class Hl7OruCodec
{
    private const int MaxFields = 20;
    private const int MaxCachedStrings = 4096;

    private static readonly Dictionary<string, Sign> Mnemonics = BuildMnemonics();
    private static readonly Dictionary<string, Sign>.AlternateLookup<ReadOnlySpan<char>> MnemonicLookup =
        Mnemonics.GetAlternateLookup<ReadOnlySpan<char>>();

    // FHIR vital-signs LOINC codes (PROTOCOLS.md), for gateways that send LOINC in OBX-3.
    private static readonly Dictionary<string, Sign> Loinc = new(StringComparer.OrdinalIgnoreCase)
    {
        ["8867-4"] = Sign.Hr,
        ["8480-6"] = Sign.NibpSys,
        ["8462-4"] = Sign.NibpDia,
        ["8478-0"] = Sign.NibpMap,
        ["9279-1"] = Sign.Rr,
        ["8310-5"] = Sign.Temp,
        ["2708-6"] = Sign.Spo2,
        ["59408-5"] = Sign.Spo2,
    };

    private static readonly Dictionary<string, Sign>.AlternateLookup<ReadOnlySpan<char>> LoincLookup =
        Loinc.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly Dictionary<string, UnitKind> UnitTexts = BuildUnitTexts();
    private static readonly Dictionary<string, UnitKind>.AlternateLookup<ReadOnlySpan<char>> UnitLookup =
        UnitTexts.GetAlternateLookup<ReadOnlySpan<char>>();

    private readonly Hl7CodecOptions options;
    private readonly byte[] application;
    private readonly byte[] facility;
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> chairs;
    private readonly ConcurrentDictionary<string, string> strings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> stringLookup;

    /// <summary>Creates a codec; validates <paramref name="options"/>.</summary>
    public Hl7OruCodec(Hl7CodecOptions? options = null)
    {
        this.options = options ?? new Hl7CodecOptions();
        this.options.Validate();
        application = System.Text.Encoding.UTF8.GetBytes(this.options.Application);
        facility = System.Text.Encoding.UTF8.GetBytes(this.options.Facility);
        var map = new Dictionary<string, string>(this.options.ChairMap, StringComparer.OrdinalIgnoreCase);
        chairs = map.GetAlternateLookup<ReadOnlySpan<char>>();
        stringLookup = strings.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The options in use.</summary>
    public Hl7CodecOptions Options => options;

    private enum UnitKind
    {
        Unknown,
        Native,
        PerMin,
        MmHg,
        KPa,
        Percent,
        Cel,
        DegF,
    }

    /// <summary>
    /// Decodes one message (the bytes between the MLLP blocks). Observations are added to <paramref name="sink"/> only
    /// when the message is accepted (AA): a message with a row for an unmapped chair is refused whole (AE). Never throws for malformed input: the result says why the message was not usable and which ACK to send.
    /// </summary>
    public Hl7DecodeResult Decode(ReadOnlySpan<byte> message, DecodeContext context, ICollection<Observation> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var std = Hl7Separators.Standard;

        // HL7 v2.x ch. 2 message construction: a message starts with MSH. Tolerate leading blank lines.
        var start = 0;
        while (start < message.Length && message[start] is (byte)'\r' or (byte)'\n' or (byte)' ' or (byte)'\t')
        {
            start++;
        }

        if (message.Length - start < 9 || !message[start..].StartsWith("MSH"u8))
        {
            return Fail(std, Hl7AckCode.Error, 100, "missing MSH segment");
        }

        var mshEnd = SegmentEnd(message, start);
        var msh = message[start..mshEnd];
        if (msh.Length < 4)
        {
            // "MSH" then a segment end: there is no MSH-1 field separator to read.
            return Fail(std, Hl7AckCode.Error, 100, "MSH segment ends before MSH-1");
        }

        // HL7 v2.x MSH-1/MSH-2: MSH-1 is the character after "MSH"; MSH-2 holds component, repetition, escape, subcomponent.
        var fieldSep = msh[3];
        var enc = msh[4..];
        var encEnd = enc.IndexOf(fieldSep);
        if (encEnd < 0)
        {
            return Fail(std, Hl7AckCode.Error, 100, "MSH has no fields after MSH-2");
        }

        enc = enc[..encEnd];
        if (enc.Length < 2)
        {
            return Fail(std, Hl7AckCode.Error, 102, "MSH-2 encoding characters missing");
        }

        var sep = new Hl7Separators(
            fieldSep,
            enc[0],
            enc[1],
            enc.Length > 2 ? enc[2] : std.Escape,
            enc.Length > 3 ? enc[3] : std.Subcomponent);
        if (!ValidSeparators(sep))
        {
            return Fail(std, Hl7AckCode.Error, 102, "MSH-1/MSH-2 separators are invalid");
        }

        Span<Range> f = stackalloc Range[MaxFields];
        var n = Hl7Text.Split(msh, sep.Field, f);

        // MSH-n is element n-1 because MSH-1 is the separator itself.
        var sendingApp = FieldRange(f, n, 2, start);
        var sendingFacility = FieldRange(f, n, 3, start);
        var timeField = Field(msh, f, n, 6);
        var typeField = Field(msh, f, n, 8);
        var controlId = FieldRange(f, n, 9, start);
        var processing = Field(msh, f, n, 10);
        var versionField = Field(msh, f, n, 11);
        var versionRange = n > 11 ? Hl7Text.ComponentRange(versionField, start + f[11].Start.Value, 1, sep) : new Range(0, 0);
        var eventRange = n > 8 ? Hl7Text.ComponentRange(typeField, start + f[8].Start.Value, 2, sep) : new Range(0, 0);

        var header = new Hl7DecodeResult
        {
            Separators = sep,
            SendingApplication = sendingApp,
            SendingFacility = sendingFacility,
            ControlId = controlId,
            Version = versionRange,
            TriggerEvent = eventRange,
        };

        // HL7 v2.x MSH-9 message type: we process ORU^R01 (IHE PCD TF-2 PCD-01) only.
        var messageCode = Hl7Text.Component(typeField, 1, sep);
        var triggerEvent = Hl7Text.Component(typeField, 2, sep);
        if (messageCode.IsEmpty)
        {
            return header with { Result = DecodeResult.Bad("MSH-9 message type missing"), Ack = Hl7AckCode.Error, ErrorCode = 101 };
        }

        if (!Hl7Text.EqualsAscii(messageCode, "ORU"u8))
        {
            return header with { Result = DecodeResult.Bad("unsupported message type (only ORU^R01)"), Ack = Hl7AckCode.Reject, ErrorCode = 200 };
        }

        if (!Hl7Text.EqualsAscii(triggerEvent, "R01"u8))
        {
            return header with { Result = DecodeResult.Bad("unsupported trigger event (only ORU^R01)"), Ack = Hl7AckCode.Reject, ErrorCode = 201 };
        }

        var tz = context.DeviceTimeZone;
        var hasMshTime = TryParseTime(Hl7Text.Component(timeField, 1, sep), tz, out var mshTime);

        // HL7 v2.x MSH-11 processing id (table 0103): T (training) and D (debugging) are never a patient's values.
        var quality = ObservationQuality.Ok;
        var pid = Hl7Text.Component(processing, 1, sep);
        if (pid.Length == 1 && pid[0] is (byte)'T' or (byte)'D')
        {
            quality |= ObservationQuality.Simulated;
        }

        var mshApp = Hl7Text.Component(message[sendingApp], 1, sep);

        var messageChair = (string?)null;
        var location = ReadOnlySpan<byte>.Empty;
        var equipment = ReadOnlySpan<byte>.Empty;
        var lastEquipment = ReadOnlySpan<byte>.Empty;
        var lastEquipmentChair = (string?)null;
        var lastDeviceKey = ReadOnlySpan<byte>.Empty;
        var lastDevice = (string?)null;
        var hasObrTime = false;
        var obrTime = default(DateTimeOffset);
        int obxRows = 0, accepted = 0, unknown = 0, skipped = 0, outOfRange = 0, unmapped = 0;
        string? unmappedKey = null;

        var pos = mshEnd;
        while (pos < message.Length)
        {
            if (message[pos] is (byte)'\r' or (byte)'\n')
            {
                pos++; // HL7 v2.x ch. 2: the segment terminator is CR; LF and CRLF are tolerated.
                continue;
            }

            var end = SegmentEnd(message, pos);
            var seg = message[pos..end];
            pos = end;
            if (seg.Length < 3)
            {
                continue;
            }

            if (IsSegment(seg, "PV1"u8, sep))
            {
                n = Hl7Text.Split(seg, sep.Field, f);
                location = Hl7Text.FirstRepetition(Field(seg, f, n, 3), sep); // PV1-3 assigned patient location
            }
            else if (IsSegment(seg, "OBR"u8, sep))
            {
                n = Hl7Text.Split(seg, sep.Field, f);
                hasObrTime = TryParseTime(Hl7Text.Component(Field(seg, f, n, 7), 1, sep), tz, out obrTime); // OBR-7

                // A new OBR group may come from another device: never carry one device's OBX-18 into it
                // (a wrong chair is worse than none).
                equipment = [];
            }
            else if (IsSegment(seg, "OBX"u8, sep))
            {
                obxRows++;
                n = Hl7Text.Split(seg, sep.Field, f);

                // IHE PCD TF-2 OBX-18 equipment instance identifier (EI.1); applies to the rows that follow.
                var eq = Hl7Text.Component(Field(seg, f, n, 18), 1, sep);
                if (!eq.IsEmpty)
                {
                    equipment = eq;
                }

                // OBX-11 result status (HL7 table 0085): X cannot be obtained, D deleted, W wrong, N not asked.
                var status = Field(seg, f, n, 11);
                if (status.Length > 0 && status[0] is (byte)'X' or (byte)'D' or (byte)'W' or (byte)'N')
                {
                    skipped++;
                    continue;
                }

                // OBX-3 observation identifier.
                if (!TryIdentify(Field(seg, f, n, 3), sep, out var sign))
                {
                    unknown++;
                    continue;
                }

                // OBX-2 value type: NM; ST and empty accepted when the value is a plain number.
                var type = Field(seg, f, n, 2);
                if (!(type.IsEmpty || Hl7Text.EqualsAscii(type, "NM"u8) || Hl7Text.EqualsAscii(type, "ST"u8)))
                {
                    skipped++;
                    continue;
                }

                // OBX-5 value (first repetition), OBX-6 units.
                var valueText = Hl7Text.FirstRepetition(Field(seg, f, n, 5), sep);
                if (!TryParseNumber(valueText, out var raw))
                {
                    skipped++;
                    continue;
                }

                var unit = ParseUnit(Field(seg, f, n, 6), sep);
                if (!TryConvert(sign, unit, raw, out var value))
                {
                    skipped++;
                    continue;
                }

                var info = sign.Info();
                if (value < info.HardMin || value > info.HardMax)
                {
                    outOfRange++;
                    continue;
                }

                // Time: OBX-14, else OBR-7, else MSH-7 (IHE PCD TF-2 OBX-14), else arrival.
                DateTimeOffset at;
                if (!TryParseTime(Hl7Text.Component(Field(seg, f, n, 14), 1, sep), tz, out at))
                {
                    at = hasObrTime ? obrTime : hasMshTime ? mshTime : context.ReceivedAt;
                }

                // Chair.
                string? chair;
                if (options.ChairRule == Hl7ChairRule.EquipmentId)
                {
                    if (lastEquipmentChair is null || !equipment.SequenceEqual(lastEquipment))
                    {
                        lastEquipment = equipment;
                        lastEquipmentChair = equipment.IsEmpty ? Fallback(context) : MapChair(equipment, sep, context);
                        if (lastEquipmentChair is null)
                        {
                            unmappedKey = Text(equipment, sep);
                        }
                    }

                    chair = lastEquipmentChair;
                }
                else
                {
                    if (messageChair is null)
                    {
                        messageChair = ResolveMessageChair(location, mshApp, sep, context, out unmappedKey);
                        if (messageChair is null)
                        {
                            return header with
                            {
                                Result = DecodeResult.Bad($"no chair mapping for '{unmappedKey}' ({options.ChairRule})"),
                                Ack = Hl7AckCode.Error,
                                ErrorCode = 204,
                                UnknownCodes = unknown,
                                Skipped = skipped,
                                Unmapped = obxRows,
                            };
                        }
                    }

                    chair = messageChair;
                }

                if (chair is null)
                {
                    unmapped++;
                    continue;
                }

                // Device: OBX-18, else MSH-3.1, else the configured device.
                var deviceKey = equipment.IsEmpty ? mshApp : equipment;
                if (lastDevice is null || !deviceKey.SequenceEqual(lastDeviceKey))
                {
                    lastDeviceKey = deviceKey;
                    lastDevice = deviceKey.IsEmpty ? context.Device : Intern(deviceKey, sep) ?? context.Device;
                }

                var rowQuality = quality;
                var method = Field(seg, f, n, 17);
                if (!method.IsEmpty && (method.IndexOf("DEMO"u8) >= 0 || method.IndexOf("SIMUL"u8) >= 0))
                {
                    rowQuality |= ObservationQuality.Simulated;
                }

                sink.Add(new Observation(context.Site, chair, lastDevice, sign, value, at, context.ReceivedAt, SourceProtocol.Hl7Mllp, rowQuality));
                accepted++;
            }
        }

        var result = header with
        {
            Accepted = accepted,
            UnknownCodes = unknown,
            Skipped = skipped,
            OutOfRange = outOfRange,
            Unmapped = unmapped,
        };
        if (accepted > 0 && unmapped == 0)
        {
            return result with { Result = DecodeResult.Success, Ack = Hl7AckCode.Accept };
        }

        if (accepted > 0)
        {
            // Rows for a chair we do not know: the message is refused whole (AE, none of its rows kept). AA would tell the
            // sender that rows we dropped were taken; keeping the others and answering AE would store them again on the
            // retransmit. The fix is in the configuration (map the equipment id), named in ERR-8.
            RemoveLast(sink, accepted);
            result = result with { Accepted = 0 };
        }

        var why = obxRows == 0 ? "no OBX segments"
            : unmapped > 0 ? $"no chair mapping for '{unmappedKey}' ({options.ChairRule})"
            : $"no usable OBX ({obxRows} rows: {unknown} unknown codes, {skipped} skipped, {outOfRange} out of range)";
        return result with { Result = DecodeResult.Bad(why), Ack = Hl7AckCode.Error, ErrorCode = unmapped > 0 ? 204 : 207 };
    }

    /// <summary>
    /// Writes the ACK for a decoded message (HL7 v2.x original acknowledgment mode, MSA-1 table 0008; IHE PCD TF-2 PCD-01 ACK^R01^ACK).
    /// <paramref name="code"/> may differ from <see cref="Hl7DecodeResult.Ack"/>: the caller downgrades AA to AE when it could not keep the data.
    /// </summary>
    /// <param name="message">The same bytes that were passed to <see cref="Decode"/>.</param>
    /// <param name="result">The decode result.</param>
    /// <param name="code">MSA-1.</param>
    /// <param name="errorText">ERR diagnostic text (ERR-8); defaults to the decode error.</param>
    /// <param name="time">MSH-7 of the ACK.</param>
    /// <param name="controlId">MSH-10 of the ACK (new, unique per ACK).</param>
    /// <param name="output">Receives the ACK message (unframed).</param>
    public void WriteAck(
        ReadOnlySpan<byte> message,
        in Hl7DecodeResult result,
        Hl7AckCode code,
        string? errorText,
        DateTimeOffset time,
        ReadOnlySpan<char> controlId,
        IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var theirs = result.Separators == default ? Hl7Separators.Standard : result.Separators;

        Hl7Text.Write(output, "MSH|^~\\&|"u8);
        Hl7Text.Write(output, application);
        Hl7Text.Write(output, "|"u8);
        Hl7Text.Write(output, facility);
        Hl7Text.Write(output, "|"u8);
        Hl7Text.WriteTranslated(output, Slice(message, result.SendingApplication), theirs);
        Hl7Text.Write(output, "|"u8);
        Hl7Text.WriteTranslated(output, Slice(message, result.SendingFacility), theirs);
        Hl7Text.Write(output, "|"u8);
        WriteTime(output, time);
        Hl7Text.Write(output, "||ACK^"u8);
        var evt = Slice(message, result.TriggerEvent);
        if (evt.IsEmpty || evt.Length > 3)
        {
            Hl7Text.Write(output, "R01"u8);
        }
        else
        {
            Hl7Text.WriteTranslated(output, evt, theirs);
        }

        Hl7Text.Write(output, "^ACK|"u8);
        Hl7Text.WriteEscaped(output, controlId);
        Hl7Text.Write(output, "|P|"u8);
        var version = Slice(message, result.Version);
        Hl7Text.WriteTranslated(output, version.IsEmpty ? "2.6"u8 : version, theirs);
        Hl7Text.Write(output, "\rMSA|"u8);
        Hl7Text.Write(output, code switch { Hl7AckCode.Accept => "AA"u8, Hl7AckCode.Reject => "AR"u8, _ => "AE"u8 });
        Hl7Text.Write(output, "|"u8);
        Hl7Text.WriteTranslated(output, Slice(message, result.ControlId), theirs);
        Hl7Text.Write(output, "\r"u8);
        if (code != Hl7AckCode.Accept)
        {
            // HL7 v2.5+ ERR segment: ERR-3 error code (table 0357), ERR-4 severity, ERR-8 user message.
            var errorCode = result.ErrorCode == 0 ? 207 : result.ErrorCode;
            Hl7Text.Write(output, "ERR|||"u8);
            Span<byte> digits = stackalloc byte[11];
            errorCode.TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
            Hl7Text.Write(output, digits[..written]);
            Hl7Text.Write(output, "^"u8);
            Hl7Text.Write(output, ErrorName(errorCode));
            Hl7Text.Write(output, "^HL70357|E||||"u8);
            Hl7Text.WriteEscaped(output, errorText ?? result.Result.Error ?? "application error");
            Hl7Text.Write(output, "\r"u8);
        }
    }

    /// <summary>Convenience: the ACK as a new array.</summary>
    public byte[] CreateAck(ReadOnlySpan<byte> message, in Hl7DecodeResult result, Hl7AckCode code, string? errorText, DateTimeOffset time, string controlId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteAck(message, result, code, errorText, time, controlId, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The text of a header range (unescaped, UTF-8), for logs and tools. Allocates.</summary>
    public static string GetText(ReadOnlySpan<byte> message, Range range, in Hl7Separators separators)
    {
        var raw = Slice(message, range);
        Span<char> chars = stackalloc char[512];
        var count = Hl7Text.ToChars(raw, chars, separators);
        return count < 0 ? System.Text.Encoding.UTF8.GetString(raw) : new string(chars[..count]);
    }

    /// <summary>Parses an HL7 DTM (<c>YYYYMMDDHHMM[SS[.S[S[S[S]]]]][+/-ZZZZ]</c>, HL7 v2.x DTM data type); minutes precision at least.</summary>
    public static bool TryParseTime(ReadOnlySpan<byte> text, TimeZoneInfo deviceZone, out DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(deviceZone);
        time = default;
        if (text.Length < 12 || !Digits(text, 0, 4, out var year) || !Digits(text, 4, 2, out var month) ||
            !Digits(text, 6, 2, out var day) || !Digits(text, 8, 2, out var hour) || !Digits(text, 10, 2, out var minute))
        {
            return false;
        }

        var i = 12;
        var second = 0;
        long ticks = 0;
        if (i + 2 <= text.Length && Digits(text, i, 2, out second))
        {
            i += 2;
            if (i < text.Length && text[i] == (byte)'.')
            {
                i++;
                var scale = TimeSpan.TicksPerSecond;
                var any = false;
                while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9')
                {
                    scale /= 10;
                    ticks += (text[i] - '0') * scale;
                    any = true;
                    i++;
                }

                if (!any)
                {
                    return false;
                }
            }
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(ticks);
        TimeSpan offset;
        if (i == text.Length)
        {
            offset = deviceZone.GetUtcOffset(local); // no offset: the device's configured zone
        }
        else if (text[i] is (byte)'+' or (byte)'-' && text.Length - i == 5 &&
                 Digits(text, i + 1, 2, out var oh) && Digits(text, i + 3, 2, out var om) && oh <= 14 && om < 60)
        {
            offset = new TimeSpan(oh, om, 0);
            if (text[i] == (byte)'-')
            {
                offset = -offset;
            }
        }
        else
        {
            return false;
        }

        try
        {
            time = new DateTimeOffset(local, offset).ToUniversalTime(); // one convention for every codec: UTC
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false; // out of DateTimeOffset's range after applying the offset
        }
    }

    private static void RemoveLast(ICollection<Observation> sink, int count)
    {
        if (sink is List<Observation> list)
        {
            list.RemoveRange(list.Count - count, count);
            return;
        }

        foreach (var o in sink.Skip(sink.Count - count).ToList())
        {
            sink.Remove(o);
        }
    }

    private static Hl7DecodeResult Fail(Hl7Separators sep, Hl7AckCode ack, int code, string error) =>
        new() { Separators = sep, Ack = ack, ErrorCode = code, Result = DecodeResult.Bad(error) };

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> message, Range range)
    {
        var (offset, length) = range.GetOffsetAndLength(int.MaxValue);
        return offset + length <= message.Length ? message.Slice(offset, length) : [];
    }

    private static int SegmentEnd(ReadOnlySpan<byte> message, int from)
    {
        var i = message[from..].IndexOfAny((byte)'\r', (byte)'\n');
        return i < 0 ? message.Length : from + i;
    }

    /// <summary>Numeric value (HL7 NM: optional sign, digits, optional decimal point); finite only.</summary>
    private static bool TryParseNumber(ReadOnlySpan<byte> text, out double value)
    {
        // Fast path for the usual "72" / "36.8" / "-1.5"; anything else goes through the full parser.
        if (!System.Buffers.Text.Utf8Parser.TryParse(text, out value, out var consumed) || consumed != text.Length)
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
            {
                return false;
            }
        }

        return double.IsFinite(value);
    }

    private static bool IsSegment(ReadOnlySpan<byte> segment, ReadOnlySpan<byte> id, in Hl7Separators sep) =>
        segment.StartsWith(id) && (segment.Length == id.Length || segment[id.Length] == sep.Field);

    private static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> segment, scoped ReadOnlySpan<Range> fields, int count, int index) =>
        index < count ? segment[fields[index]] : [];

    private static Range FieldRange(ReadOnlySpan<Range> fields, int count, int index, int offset) =>
        index < count ? new Range(offset + fields[index].Start.Value, offset + fields[index].End.Value) : new Range(0, 0);

    private static bool ValidSeparators(in Hl7Separators s)
    {
        ReadOnlySpan<byte> all = [s.Field, s.Component, s.Repetition, s.Escape, s.Subcomponent];
        for (var i = 0; i < all.Length; i++)
        {
            var b = all[i];
            if (b is (byte)'\r' or (byte)'\n' or < 0x20 or >= 0x7F || char.IsAsciiLetterOrDigit((char)b) || all[(i + 1)..].Contains(b))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> text, int start, int count, out int value)
    {
        value = 0;
        if (start + count > text.Length)
        {
            return false;
        }

        for (var i = start; i < start + count; i++)
        {
            var d = text[i] - '0';
            if ((uint)d > 9)
            {
                return false;
            }

            value = (value * 10) + d;
        }

        return true;
    }

    /// <summary>Numeric MDC code in decimal (<c>147842</c>) or Philips hex partition-term form (<c>0002-4182</c>).</summary>
    private static bool TryParseMdcCode(ReadOnlySpan<byte> code, out int value)
    {
        value = 0;
        if (code.Length is > 0 and <= 9 && Digits(code, 0, code.Length, out value))
        {
            return true;
        }

        // Philips MDIL: PPPP-CCCC, partition x 65536 + term code (IEEE 11073-10101 5.2).
        if (code.Length == 9 && code[4] == (byte)'-' &&
            int.TryParse(code[..4], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var partition) &&
            int.TryParse(code[5..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var term))
        {
            value = (partition << 16) + term;
            return true;
        }

        return false;
    }

    private static bool TryIdentify(ReadOnlySpan<byte> field, in Hl7Separators sep, out Sign sign)
    {
        sign = default;
        var code = Hl7Text.Component(field, 1, sep);
        var name = Hl7Text.Component(field, 2, sep);
        var system = Hl7Text.Component(field, 3, sep);
        if (Hl7Text.EqualsAscii(system, "LN"u8) || Hl7Text.EqualsAscii(system, "LOINC"u8))
        {
            return Lookup(code, sep, LoincLookup, out sign);
        }

        if (TryParseMdcCode(code, out var numeric) && Signs.TryFromMdcCode(numeric, out sign))
        {
            return true;
        }

        // IHE PCD TF-2: OBX-3 may carry only the reference id (mnemonic); some senders put it in the first component.
        return (!name.IsEmpty && Lookup(name, sep, MnemonicLookup, out sign)) ||
               (code.StartsWith("MDC_"u8) && Lookup(code, sep, MnemonicLookup, out sign));
    }

    private static bool Lookup<T>(ReadOnlySpan<byte> key, in Hl7Separators sep, Dictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> table, out T value)
    {
        value = default!;
        Span<char> chars = stackalloc char[64];
        var count = key.Length <= 64 ? Hl7Text.ToChars(key, chars, sep) : -1;
        return count > 0 && table.TryGetValue(chars[..count], out value!);
    }

    private static UnitKind ParseUnit(ReadOnlySpan<byte> field, in Hl7Separators sep)
    {
        if (field.IsEmpty)
        {
            return UnitKind.Native;
        }

        var code = Hl7Text.Component(field, 1, sep);
        if (TryParseMdcCode(code, out var numeric))
        {
            // IEEE 11073-10101 dimension partition 4 (PROTOCOLS.md unit codes).
            var kind = numeric switch
            {
                264864 or 264928 => UnitKind.PerMin, // MDC_DIM_BEAT_PER_MIN, MDC_DIM_RESP_PER_MIN
                266016 => UnitKind.MmHg, // MDC_DIM_MMHG
                265987 => UnitKind.KPa, // MDC_DIM_KILO_PASCAL (4 x 65536 + 3843)
                262688 => UnitKind.Percent, // MDC_DIM_PERCENT
                268192 => UnitKind.Cel, // MDC_DIM_DEGC
                266560 => UnitKind.DegF, // MDC_DIM_FAHR (4 x 65536 + 4416)
                _ => UnitKind.Unknown,
            };
            if (kind != UnitKind.Unknown)
            {
                return kind;
            }
        }

        if (Lookup(code, sep, UnitLookup, out var byCode))
        {
            return byCode;
        }

        var text = Hl7Text.Component(field, 2, sep);
        if (Lookup(text, sep, UnitLookup, out var byText))
        {
            return byText;
        }

        return code.IsEmpty && text.IsEmpty ? UnitKind.Native : UnitKind.Unknown;
    }

    private static bool TryConvert(Sign sign, UnitKind unit, double raw, out double value)
    {
        value = raw;
        switch (sign)
        {
            case Sign.Hr or Sign.Pr or Sign.Rr:
                return unit is UnitKind.Native or UnitKind.PerMin;
            case Sign.Spo2:
                return unit is UnitKind.Native or UnitKind.Percent;
            case Sign.NibpSys or Sign.NibpDia or Sign.NibpMap:
                if (unit == UnitKind.KPa)
                {
                    value = UnitConversion.KPaToMmHg(raw);
                    return true;
                }

                return unit is UnitKind.Native or UnitKind.MmHg;
            case Sign.Temp:
                if (unit == UnitKind.DegF)
                {
                    value = UnitConversion.FahrenheitToCelsius(raw);
                    return true;
                }

                return unit is UnitKind.Native or UnitKind.Cel;
            default:
                return false;
        }
    }

    private static Dictionary<string, Sign> BuildMnemonics()
    {
        var table = Signs.All.ToDictionary(s => s.MdcName, s => s.Sign, StringComparer.OrdinalIgnoreCase);

        // Reference ids of the alternate codes in Signs (IEEE 11073-10101).
        table["MDC_PULS_RATE_NON_INV"] = Sign.Pr;
        table["MDC_PULS_RATE"] = Sign.Pr;
        table["MDC_TTHOR_RESP_RATE"] = Sign.Rr;
        table["MDC_TEMP_BODY"] = Sign.Temp;
        return table;
    }

    private static Dictionary<string, UnitKind> BuildUnitTexts() => new(StringComparer.OrdinalIgnoreCase)
    {
        // UCUM (case-sensitive in UCUM; compared case-insensitively here), MDC reference ids and common vendor spellings.
        ["/min"] = UnitKind.PerMin,
        ["1/min"] = UnitKind.PerMin,
        ["{beat}/min"] = UnitKind.PerMin,
        ["{beats}/min"] = UnitKind.PerMin,
        ["{breath}/min"] = UnitKind.PerMin,
        ["{breaths}/min"] = UnitKind.PerMin,
        ["bpm"] = UnitKind.PerMin,
        ["beats/min"] = UnitKind.PerMin,
        ["breaths/min"] = UnitKind.PerMin,
        ["rpm"] = UnitKind.PerMin,
        ["brpm"] = UnitKind.PerMin,
        ["MDC_DIM_BEAT_PER_MIN"] = UnitKind.PerMin,
        ["MDC_DIM_RESP_PER_MIN"] = UnitKind.PerMin,
        ["mm[Hg]"] = UnitKind.MmHg,
        ["mmHg"] = UnitKind.MmHg,
        ["mm Hg"] = UnitKind.MmHg,
        ["MDC_DIM_MMHG"] = UnitKind.MmHg,
        ["kPa"] = UnitKind.KPa,
        ["MDC_DIM_KILO_PASCAL"] = UnitKind.KPa,
        ["%"] = UnitKind.Percent,
        ["percent"] = UnitKind.Percent,
        ["MDC_DIM_PERCENT"] = UnitKind.Percent,
        ["Cel"] = UnitKind.Cel,
        ["degC"] = UnitKind.Cel,
        ["\u00B0C"] = UnitKind.Cel,
        ["MDC_DIM_DEGC"] = UnitKind.Cel,
        ["[degF]"] = UnitKind.DegF,
        ["degF"] = UnitKind.DegF,
        ["\u00B0F"] = UnitKind.DegF,
        ["MDC_DIM_FAHR"] = UnitKind.DegF,
    };

    private static ReadOnlySpan<byte> ErrorName(int code) => code switch
    {
        100 => "Segment sequence error"u8,
        101 => "Required field missing"u8,
        102 => "Data type error"u8,
        103 => "Table value not found"u8,
        200 => "Unsupported message type"u8,
        201 => "Unsupported event code"u8,
        204 => "Unknown key identifier"u8,
        _ => "Application internal error"u8,
    };

    private static void WriteTime(IBufferWriter<byte> output, DateTimeOffset time)
    {
        var span = output.GetSpan(19);
        time.TryFormat(span, out var written, "yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var offset = time.Offset;
        span[written++] = offset < TimeSpan.Zero ? (byte)'-' : (byte)'+';
        var minutes = (int)Math.Abs(offset.TotalMinutes);
        span[written++] = (byte)('0' + (minutes / 600));
        span[written++] = (byte)('0' + (minutes / 60 % 10));
        span[written++] = (byte)('0' + (minutes % 60 / 10));
        span[written++] = (byte)('0' + (minutes % 10));
        output.Advance(written);
    }

    private static string? Fallback(DecodeContext context) => string.IsNullOrEmpty(context.Chair) ? null : context.Chair;

    private string? ResolveMessageChair(ReadOnlySpan<byte> location, ReadOnlySpan<byte> mshApp, in Hl7Separators sep, DecodeContext context, out string? unmappedKey)
    {
        unmappedKey = null;
        switch (options.ChairRule)
        {
            case Hl7ChairRule.Pv1Bed:
                if (TryMap(location, sep, out var byLocation) || TryMap(Hl7Text.Component(location, 3, sep), sep, out byLocation))
                {
                    return byLocation;
                }

                unmappedKey = Text(location, sep);
                break;
            case Hl7ChairRule.SendingApplication:
                if (TryMap(mshApp, sep, out var byApp))
                {
                    return byApp;
                }

                unmappedKey = Text(mshApp, sep);
                break;
            default:
                break;
        }

        return Fallback(context);
    }

    private string? MapChair(ReadOnlySpan<byte> key, in Hl7Separators sep, DecodeContext context) =>
        TryMap(key, sep, out var chair) ? chair : Fallback(context);

    private bool TryMap(ReadOnlySpan<byte> key, in Hl7Separators sep, out string chair)
    {
        chair = string.Empty;
        if (key.IsEmpty)
        {
            return false;
        }

        Span<char> chars = stackalloc char[256];
        var count = Hl7Text.ToChars(key, chars, sep);
        return count > 0 && chairs.TryGetValue(chars[..count].Trim(), out chair!);
    }

    private static string Text(ReadOnlySpan<byte> raw, in Hl7Separators sep)
    {
        Span<char> chars = stackalloc char[256];
        var count = Hl7Text.ToChars(raw, chars, sep);
        return count < 0 ? "(unreadable)" : new string(chars[..count]);
    }

    /// <summary>Device ids repeat message after message: keep one string per id (bounded cache).</summary>
    private string? Intern(ReadOnlySpan<byte> raw, in Hl7Separators sep)
    {
        Span<char> chars = stackalloc char[256];
        var count = Hl7Text.ToChars(raw, chars, sep);
        if (count <= 0)
        {
            return null;
        }

        var text = chars[..count];
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                return null; // an id with control characters would corrupt logs and screens: use the configured device id
            }
        }

        if (stringLookup.TryGetValue(text, out var cached))
        {
            return cached;
        }

        var created = new string(text);
        if (strings.Count < MaxCachedStrings)
        {
            strings.TryAdd(created, created);
        }

        return created;
    }
}
