using System.Buffers.Text;
using System.Text;

namespace Vitals.Devices.Line;

/// <summary>Allocation-free helpers for ASCII device lines.</summary>
internal static class AsciiText
{
    /// <summary>Splits off the next token delimited by <paramref name="separator"/> (runs of it collapse when <paramref name="collapse"/>).</summary>
    public static bool NextToken(ref ReadOnlySpan<byte> rest, byte separator, bool collapse, out ReadOnlySpan<byte> token)
    {
        if (collapse)
        {
            rest = rest.TrimStart(separator);
        }

        if (rest.IsEmpty)
        {
            token = default;
            return false;
        }

        int i = rest.IndexOf(separator);
        if (i < 0)
        {
            token = rest;
            rest = default;
        }
        else
        {
            token = rest[..i];
            rest = rest[(i + 1)..];
        }

        return true;
    }

    /// <summary>True for a value made only of dashes, dots and an optional %, the "no value" display (<c>---</c>, <c>--.-%</c>, <c>+--</c>).</summary>
    public static bool IsMissing(ReadOnlySpan<byte> value)
    {
        value = value.TrimEnd((byte)'%');
        return !value.IsEmpty && value.Contains((byte)'-') && !value.ContainsAnyExcept("-.+"u8);
    }

    /// <summary>Parses a decimal number (invariant, '.' decimal point), allowing one trailing '%'.</summary>
    public static bool TryParseNumber(ReadOnlySpan<byte> value, out double number)
    {
        if (!value.IsEmpty && value[^1] == (byte)'%')
        {
            value = value[..^1];
        }

        // Utf8Parser accepts exponents and 'Infinity' only with other formats; digits, sign and '.' are what devices send.
        if (value.IsEmpty || value.ContainsAnyExcept("0123456789.+-"u8))
        {
            number = 0;
            return false;
        }

        return Utf8Parser.TryParse(value, out number, out int consumed) && consumed == value.Length && double.IsFinite(number);
    }

    /// <summary>Parses 1-8 hex digits.</summary>
    public static bool TryParseHex(ReadOnlySpan<byte> value, out uint number)
    {
        number = 0;
        return value.Length is > 0 and <= 8 && Utf8Parser.TryParse(value, out number, out int consumed, 'X') && consumed == value.Length;
    }

    /// <summary>Parses exactly two ASCII digits.</summary>
    public static bool TryTwoDigits(ReadOnlySpan<byte> s, out int value)
    {
        value = 0;
        if (s.Length != 2 || !char.IsAsciiDigit((char)s[0]) || !char.IsAsciiDigit((char)s[1]))
        {
            return false;
        }

        value = ((s[0] - '0') * 10) + (s[1] - '0');
        return true;
    }
}

/// <summary>Turns device-id bytes into a string, reusing the last one while it does not change (one device per feed).</summary>
internal sealed class DeviceIdCache
{
    private byte[] lastBytes = [];
    private string last = string.Empty;

    /// <summary>The id as text, or null when it holds a control or non-ASCII byte (it would corrupt logs and screens: use the configured device id).</summary>
    public string? Get(ReadOnlySpan<byte> id)
    {
        foreach (var b in id)
        {
            if (b < 0x20 || b >= 0x7F)
            {
                return null;
            }
        }

        if (!id.SequenceEqual(lastBytes))
        {
            lastBytes = id.ToArray();
            last = Encoding.ASCII.GetString(id);
        }

        return last;
    }
}
