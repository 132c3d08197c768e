using Vitals.Core;
using Vitals.Devices.Line;

namespace Vitals.Devices.Masimo;

/// <summary>
/// Decodes Masimo "ASCII 1" serial lines (Rad-8, Radical-7, Rad-87, Rad-7, Root), for example
/// <c>02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% ... ALARM=0000 EXC=000800</c>.
/// SPO2 becomes <c>spo2</c>, BPM becomes <c>pr</c>; dashes mean missing; the date is MM/dd/yy in device local time.
/// Other parameters (PI, SPCO, SPMET, PVI, SPHB, SPOC, DESAT, PIDELTA) are recognised and not emitted: they are not signs yet.
/// Hot path: parses spans, allocates only the observations (and a device-id string when SN changes).
/// </summary>
public sealed class MasimoCodec : ILineCodec
{
    private readonly DeviceIdCache deviceIds = new();
    private MasimoException conditionsMask;
    private IReadOnlyList<string> conditionNames = [];

    /// <summary>Creates a codec with its own framer. Not thread-safe: one instance per feed.</summary>
    public MasimoCodec(int maxFrameBytes = LineFramer.DefaultMaxFrameBytes) => Framer = new LineFramer(maxFrameBytes);

    /// <inheritdoc />
    public SourceProtocol Protocol => SourceProtocol.Masimo;

    /// <inheritdoc />
    public LineFramer Framer { get; }

    /// <summary>Status (exception bits, alarm bits, device) of the last line decoded successfully.</summary>
    public MasimoStatus LastStatus { get; private set; }

    /// <inheritdoc />
    public IReadOnlyList<string> ActiveConditions => conditionNames;

    /// <inheritdoc />
    public DecodeResult Decode(ReadOnlySpan<byte> line, DecodeContext context, ICollection<Observation> output)
    {
        ArgumentNullException.ThrowIfNull(output);

        int bad = line.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E);
        if (bad >= 0)
        {
            return DecodeResult.Bad($"non-printable byte 0x{line[bad]:x2} at column {bad}");
        }

        var rest = line;
        if (!AsciiText.NextToken(ref rest, (byte)' ', collapse: true, out var date)
            || !AsciiText.NextToken(ref rest, (byte)' ', collapse: true, out var time)
            || !TryParseTimestamp(date, time, context.DeviceTimeZone, out var measuredAt))
        {
            return DecodeResult.Bad("line does not start with a MM/dd/yy HH:mm:ss timestamp");
        }

        double spo2 = 0, bpm = 0;
        bool hasSpo2 = false, hasBpm = false, sawSpo2 = false, sawBpm = false, sawExc = false;
        uint exc = 0, alarm = 0;
        scoped ReadOnlySpan<byte> serial = default;

        while (AsciiText.NextToken(ref rest, (byte)' ', collapse: true, out var token))
        {
            int eq = token.IndexOf((byte)'=');
            if (eq <= 0)
            {
                return DecodeResult.Bad($"'{System.Text.Encoding.ASCII.GetString(token[..Math.Min(token.Length, 24)])}' is not KEY=value");
            }

            var key = token[..eq];
            var value = token[(eq + 1)..];
            if (key.SequenceEqual("SPO2"u8))
            {
                sawSpo2 = true;
                if (!TryValue(value, Sign.Spo2, out spo2, out hasSpo2))
                {
                    return DecodeResult.Bad("SPO2 value is not a percentage 0-100 or dashes");
                }
            }
            else if (key.SequenceEqual("BPM"u8))
            {
                sawBpm = true;
                if (!TryValue(value, Sign.Pr, out bpm, out hasBpm))
                {
                    return DecodeResult.Bad("BPM value is not a rate 0-350 or dashes");
                }
            }
            else if (key.SequenceEqual("SN"u8))
            {
                serial = value;
            }
            else if (key.SequenceEqual("EXC"u8) || key.SequenceEqual("EXC1"u8))
            {
                // EXC is 6 hex digits; the Rad-7 EXC1 is 8. Both carry the same low bits.
                if (!AsciiText.TryParseHex(value, out uint bits))
                {
                    return DecodeResult.Bad("EXC value is not hexadecimal");
                }

                exc |= bits;
                sawExc = true;
            }
            else if (key.SequenceEqual("ALARM"u8))
            {
                if (!AsciiText.TryParseHex(value, out alarm))
                {
                    return DecodeResult.Bad("ALARM value is not hexadecimal");
                }
            }

            // Other keys (PI, SPCO, SPMET, DESAT, PIDELTA, PVI, SPHB, SPOC, future ones) are ignored on purpose.
        }

        if (!sawSpo2 && !sawBpm)
        {
            return DecodeResult.Bad("line has neither SPO2= nor BPM=");
        }

        if (!sawExc)
        {
            // EXC is the last field of every ASCII 1 line; without it the line was cut short and a value may be truncated.
            return DecodeResult.Bad("line has no EXC field (truncated?)");
        }

        string device = serial.IsEmpty || AsciiText.IsMissing(serial) ? context.Device : deviceIds.Get(serial) ?? context.Device;
        var exceptions = (MasimoException)exc;
        var quality = MasimoStatus.QualityOf(exceptions);
        if (hasSpo2)
        {
            output.Add(new Observation(context.Site, context.Chair, device, Sign.Spo2, spo2, measuredAt, context.ReceivedAt, SourceProtocol.Masimo, quality));
        }

        if (hasBpm)
        {
            output.Add(new Observation(context.Site, context.Chair, device, Sign.Pr, bpm, measuredAt, context.ReceivedAt, SourceProtocol.Masimo, quality));
        }

        LastStatus = new MasimoStatus(exceptions, alarm, device);
        if ((exceptions & MasimoStatus.ConditionMask) != conditionsMask)
        {
            // Rebuilt only when the bits change, so a steady stream allocates nothing here.
            conditionsMask = exceptions & MasimoStatus.ConditionMask;
            conditionNames = LastStatus.Conditions.Select(c => c.ToString()).ToArray();
        }

        return DecodeResult.Success;
    }

    private static bool TryValue(ReadOnlySpan<byte> text, Sign sign, out double value, out bool present)
    {
        present = false;
        value = 0;
        if (AsciiText.IsMissing(text))
        {
            return true;
        }

        var info = sign.Info();
        if (!AsciiText.TryParseNumber(text, out value) || value < info.HardMin || value > info.HardMax)
        {
            return false;
        }

        present = true;
        return true;
    }

    /// <summary>Parses <c>MM/dd/yy HH:mm:ss</c> (years 2000-2099) in <paramref name="zone"/> and returns it in UTC.</summary>
    internal static bool TryParseTimestamp(ReadOnlySpan<byte> date, ReadOnlySpan<byte> time, TimeZoneInfo zone, out DateTimeOffset result)
    {
        result = default;
        if (date.Length != 8 || time.Length != 8 || date[2] != '/' || date[5] != '/' || time[2] != ':' || time[5] != ':'
            || !AsciiText.TryTwoDigits(date[..2], out int month) || !AsciiText.TryTwoDigits(date[3..5], out int day)
            || !AsciiText.TryTwoDigits(date[6..], out int year) || !AsciiText.TryTwoDigits(time[..2], out int hour)
            || !AsciiText.TryTwoDigits(time[3..5], out int minute) || !AsciiText.TryTwoDigits(time[6..], out int second))
        {
            return false;
        }

        year += 2000;
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        return LineTime.TryFromDeviceLocal(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified), zone, out result);
    }
}
