using System.Buffers;
using System.Text;

namespace Vitals.Devices.Hl7;

/// <summary>Span helpers for HL7 v2 encoding rules (HL7 v2.x ch. 2 message construction rules and escape sequences in text fields).</summary>
internal static class Hl7Text
{
    /// <summary>Splits <paramref name="segment"/> at <paramref name="separator"/> into <paramref name="fields"/>; returns the count (extra fields are ignored).</summary>
    public static int Split(ReadOnlySpan<byte> segment, byte separator, Span<Range> fields)
    {
        var count = 0;
        var start = 0;
        while (count < fields.Length)
        {
            var i = segment[start..].IndexOf(separator);
            if (i < 0)
            {
                fields[count++] = new Range(start, segment.Length);
                break;
            }

            fields[count++] = new Range(start, start + i);
            start += i + 1;
        }

        return count;
    }

    /// <summary>The first repetition of a field (HL7 v2.x repetition separator, MSH-2.2).</summary>
    public static ReadOnlySpan<byte> FirstRepetition(ReadOnlySpan<byte> field, scoped in Hl7Separators sep)
    {
        var i = field.IndexOf(sep.Repetition);
        return i < 0 ? field : field[..i];
    }

    /// <summary>Component <paramref name="index"/> (1-based) of the first repetition of a field; empty when absent.</summary>
    public static ReadOnlySpan<byte> Component(ReadOnlySpan<byte> field, int index, scoped in Hl7Separators sep)
    {
        var rest = FirstRepetition(field, sep);
        for (var n = 1; ; n++)
        {
            var i = rest.IndexOf(sep.Component);
            if (n == index)
            {
                var c = i < 0 ? rest : rest[..i];
                var s = c.IndexOf(sep.Subcomponent);
                return s < 0 ? c : c[..s];
            }

            if (i < 0)
            {
                return [];
            }

            rest = rest[(i + 1)..];
        }
    }

    /// <summary>Range of component <paramref name="index"/> within <paramref name="field"/>, offset by <paramref name="fieldStart"/>.</summary>
    public static Range ComponentRange(ReadOnlySpan<byte> field, int fieldStart, int index, in Hl7Separators sep)
    {
        var c = Component(field, index, sep);
        if (c.IsEmpty)
        {
            return new Range(fieldStart, fieldStart);
        }

        // Component returns a slice of field: recover its offset.
        var offset = (int)System.Runtime.CompilerServices.Unsafe.ByteOffset(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(field),
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(c));
        return new Range(fieldStart + offset, fieldStart + offset + c.Length);
    }

    /// <summary>
    /// Resolves escape sequences (HL7 v2.x ch. 2 escape sequences: \F\ \S\ \T\ \R\ \E\; \Xhh..\ hex; formatting escapes dropped)
    /// from <paramref name="source"/> into <paramref name="destination"/>; returns the bytes written, or -1 if it does not fit.
    /// </summary>
    public static int Unescape(ReadOnlySpan<byte> source, Span<byte> destination, in Hl7Separators sep)
    {
        var w = 0;
        var i = 0;
        while (i < source.Length)
        {
            var b = source[i];
            if (b != sep.Escape)
            {
                if (w >= destination.Length)
                {
                    return -1;
                }

                destination[w++] = b;
                i++;
                continue;
            }

            var close = source[(i + 1)..].IndexOf(sep.Escape);
            if (close < 0)
            {
                // Unterminated escape: keep the text as it is.
                if (w + source.Length - i > destination.Length)
                {
                    return -1;
                }

                source[i..].CopyTo(destination[w..]);
                return w + source.Length - i;
            }

            var seq = source.Slice(i + 1, close);
            i += close + 2;
            if (seq.Length == 1)
            {
                var replacement = seq[0] switch
                {
                    (byte)'F' => sep.Field,
                    (byte)'S' => sep.Component,
                    (byte)'T' => sep.Subcomponent,
                    (byte)'R' => sep.Repetition,
                    (byte)'E' => sep.Escape,
                    _ => (byte)0,
                };
                if (replacement != 0)
                {
                    if (w >= destination.Length)
                    {
                        return -1;
                    }

                    destination[w++] = replacement;
                }

                continue; // \H\ \N\ and unknown single-letter escapes are formatting: dropped
            }

            if (seq.Length > 1 && seq[0] == (byte)'X' && (seq.Length - 1) % 2 == 0)
            {
                for (var h = 1; h + 1 < seq.Length; h += 2)
                {
                    if (!TryHex(seq[h], out var hi) || !TryHex(seq[h + 1], out var lo))
                    {
                        break;
                    }

                    if (w >= destination.Length)
                    {
                        return -1;
                    }

                    destination[w++] = (byte)((hi << 4) | lo);
                }
            }

            // Other escapes (\.br\, \Cxxyy\, \Mxxyyzz\, \Zxx\) carry formatting or charset switches we do not need.
        }

        return w;
    }

    /// <summary>Unescapes and decodes (UTF-8) a field into characters; returns the count, or -1 if it does not fit.</summary>
    public static int ToChars(ReadOnlySpan<byte> source, Span<char> destination, in Hl7Separators sep)
    {
        Span<byte> bytes = stackalloc byte[256];
        scoped ReadOnlySpan<byte> raw = source;
        if (source.IndexOf(sep.Escape) >= 0)
        {
            var n = Unescape(source, bytes, sep);
            if (n < 0)
            {
                return -1;
            }

            raw = bytes[..n];
        }

        if (Ascii.IsValid(raw))
        {
            if (raw.Length > destination.Length)
            {
                return -1;
            }

            Ascii.ToUtf16(raw, destination, out var written);
            return written;
        }

        return Encoding.UTF8.TryGetChars(raw, destination, out var count) ? count : -1;
    }

    /// <summary>Writes <paramref name="text"/> escaping the standard delimiters (HL7 v2.x ch. 2 escape sequences).</summary>
    public static void WriteEscaped(IBufferWriter<byte> output, ReadOnlySpan<char> text)
    {
        foreach (var ch in text)
        {
            ReadOnlySpan<byte> rep = ch switch
            {
                '|' => "\\F\\"u8,
                '^' => "\\S\\"u8,
                '&' => "\\T\\"u8,
                '~' => "\\R\\"u8,
                '\\' => "\\E\\"u8,
                '\r' or '\n' => " "u8,
                _ => default,
            };
            if (!rep.IsEmpty)
            {
                Write(output, rep);
            }
            else if (ch is < (char)0x20 or (char)0x7F)
            {
                WriteHexEscaped(output, (byte)ch);
            }
            else if (ch < 0x80)
            {
                var span = output.GetSpan(1);
                span[0] = (byte)ch;
                output.Advance(1);
            }
            else
            {
                Span<char> one = [ch];
                var span = output.GetSpan(4);
                output.Advance(Encoding.UTF8.GetBytes(one, span));
            }
        }
    }

    /// <summary>
    /// Copies a raw field from a message with separators <paramref name="theirs"/> into an output that uses the
    /// standard separators, translating delimiters and escaping bytes that are delimiters only for us.
    /// </summary>
    /// <remarks>
    /// Control characters (0x00-0x1F, 0x7F) are written as HL7 hex escapes (<c>\Xhh\</c>, HL7 v2.x 2.7.4), so an echoed
    /// field never carries an MLLP block byte (0x0B, 0x1C) or a segment terminator into a reply.
    /// </remarks>
    public static void WriteTranslated(IBufferWriter<byte> output, ReadOnlySpan<byte> raw, in Hl7Separators theirs)
    {
        if (theirs.IsStandard && raw.IndexOfAnyInRange((byte)0, (byte)0x1F) < 0 && !raw.Contains((byte)0x7F))
        {
            Write(output, raw);
            return;
        }

        var std = Hl7Separators.Standard;
        foreach (var b in raw)
        {
            byte mapped = b == theirs.Component ? std.Component
                : b == theirs.Repetition ? std.Repetition
                : b == theirs.Subcomponent ? std.Subcomponent
                : b == theirs.Escape ? std.Escape
                : (byte)0;
            if (b is < 0x20 or 0x7F)
            {
                WriteHexEscaped(output, b);
            }
            else if (theirs.IsStandard)
            {
                Write(output, [b]);
            }
            else if (mapped != 0)
            {
                Write(output, [mapped]);
            }
            else if (b is (byte)'|' or (byte)'^' or (byte)'~' or (byte)'\\' or (byte)'&')
            {
                WriteEscaped(output, [(char)b]);
            }
            else
            {
                Write(output, [b]);
            }
        }
    }

    /// <summary>Writes one byte as an HL7 hex escape, <c>\Xhh\</c> (HL7 v2.x 2.7.4).</summary>
    private static void WriteHexEscaped(IBufferWriter<byte> output, byte b)
    {
        ReadOnlySpan<byte> hex = "0123456789ABCDEF"u8;
        Write(output, [(byte)'\\', (byte)'X', hex[b >> 4], hex[b & 0xF], (byte)'\\']);
    }

    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    public static bool EqualsAscii(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> upperAscii)
    {
        if (bytes.Length != upperAscii.Length)
        {
            return false;
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b is >= (byte)'a' and <= (byte)'z')
            {
                b -= 32;
            }

            if (b != upperAscii[i])
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryHex(byte b, out int value)
    {
        value = b switch
        {
            >= (byte)'0' and <= (byte)'9' => b - '0',
            >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }
}
