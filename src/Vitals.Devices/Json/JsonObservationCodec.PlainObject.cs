using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Vitals.Devices.Json;

/// <summary>The plain-object scan in front of the <see cref="Utf8JsonReader"/> path (see <see cref="TryScanPlainObject"/>).</summary>
public sealed partial class JsonObservationCodec
{
    /// <summary>Test hook: whether <paramref name="json"/> is read by the plain-object scan (a mapping of flat names only).</summary>
    internal bool TakesPlainObjectScan(ReadOnlySpan<byte> json) =>
        flat is not null && TryScanPlainObject(json, flat, stackalloc Capture[flat.Count]);

    /// <summary>
    /// Reads the shape vendors and the harness send — one object of unescaped names and scalar values (unescaped strings,
    /// numbers, <c>true</c>, <c>false</c>, <c>null</c>) — in one pass over the bytes, noting where each mapped name's
    /// value is, as <see cref="TryScanObject"/> would. It accepts only payloads that are valid JSON by RFC 8259's grammar
    /// and that the reader would capture the same way; anything else (an escape, a control character, a nested value, an
    /// array root, any syntax error) returns false and the caller reads the payload again with the reader, which decides
    /// what it is and where it fails: errors and odd shapes take exactly the path they took before.
    /// The reader's Read was half of the decode's samples in a perf profile of the AOT gateway on the harness; with this
    /// scan the harness message costs 0.24 instead of 0.38 us (tests/Vitals.Devices.Benchmarks -- --json-mapped, JIT),
    /// ~300 instead of ~550 ns compiled AOT (README, "Per-reading costs on the Native AOT build").
    /// </summary>
    /// <remarks>The payload is valid UTF-8 (checked before), so bytes of 0x80 and up inside strings need no check here.</remarks>
    private static bool TryScanPlainObject(ReadOnlySpan<byte> json, FlatNames names, Span<Capture> found)
    {
        found.Clear();
        var i = SkipSpace(json, 0);
        if (i == json.Length || json[i] != (byte)'{')
        {
            return false;
        }

        i = SkipSpace(json, i + 1);
        if (i < json.Length && json[i] == (byte)'}')
        {
            return SkipSpace(json, i + 1) == json.Length;
        }

        while (true)
        {
            if (!TryPlainString(json, ref i, out var name))
            {
                return false;
            }

            i = SkipSpace(json, i);
            if (i == json.Length || json[i] != (byte)':')
            {
                return false;
            }

            i = SkipSpace(json, i + 1);
            if (i == json.Length)
            {
                return false;
            }

            var at = i;
            Capture value;
            switch (json[i])
            {
                case (byte)'"':
                    if (!TryPlainString(json, ref i, out var text))
                    {
                        return false;
                    }

                    value = new Capture(JsonValueKind.String, at + 1, text.Length); // after the quote, as the reader's capture
                    break;
                case (byte)'t':
                    value = new Capture(JsonValueKind.True, at, 0);
                    if (!TryLiteral(json, ref i, "true"u8))
                    {
                        return false;
                    }

                    break;
                case (byte)'f':
                    value = new Capture(JsonValueKind.False, at, 0);
                    if (!TryLiteral(json, ref i, "false"u8))
                    {
                        return false;
                    }

                    break;
                case (byte)'n':
                    value = new Capture(JsonValueKind.Null, at, 0);
                    if (!TryLiteral(json, ref i, "null"u8))
                    {
                        return false;
                    }

                    break;
                default:
                    if (!TryNumber(json, ref i))
                    {
                        return false;
                    }

                    value = new Capture(JsonValueKind.Number, at, i - at);
                    break;
            }

            // A name present twice counts with its last value, as in the reader and the document.
            if (names.IndexOf(name) is var index and >= 0)
            {
                found[index] = value;
            }

            // After a value: white space, then a comma and the next member, or the end of the object and of the payload.
            i = SkipSpace(json, i);
            if (i == json.Length)
            {
                return false;
            }

            if (json[i] == (byte)'}')
            {
                return SkipSpace(json, i + 1) == json.Length;
            }

            if (json[i] != (byte)',')
            {
                return false;
            }

            i = SkipSpace(json, i + 1);
        }
    }

    // JSON's white space: space, tab, line feed, carriage return. Inlined, as the digits below: called around every token,
    // the calls were a fifth of the scan's samples in the AOT build.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipSpace(ReadOnlySpan<byte> json, int i)
    {
        while (i < json.Length && json[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
        {
            i++;
        }

        return i;
    }

    // A string with no escape and no control character (both leave it to the reader); i on its opening quote, moved past the closing one.
    private static bool TryPlainString(ReadOnlySpan<byte> json, ref int i, out ReadOnlySpan<byte> content)
    {
        content = default;
        if (i == json.Length || json[i] != (byte)'"')
        {
            return false;
        }

        var start = i + 1;
        for (var k = start; k < json.Length; k++)
        {
            var b = json[k];
            if (b == (byte)'"')
            {
                content = json[start..k];
                i = k + 1;
                return true;
            }

            if (b is (byte)'\\' or < 0x20)
            {
                return false;
            }
        }

        return false;
    }

    private static bool TryLiteral(ReadOnlySpan<byte> json, ref int i, ReadOnlySpan<byte> literal)
    {
        if (!json[i..].StartsWith(literal))
        {
            return false;
        }

        i += literal.Length;
        return true;
    }

    // RFC 8259's number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?; what follows is checked by the caller.
    private static bool TryNumber(ReadOnlySpan<byte> json, ref int i)
    {
        var k = i;
        if (k < json.Length && json[k] == (byte)'-')
        {
            k++;
        }

        if (k == json.Length || !char.IsAsciiDigit((char)json[k]))
        {
            return false;
        }

        // A leading zero stands alone: "01" stops after the 0 and the caller finds the 1 where a comma should be.
        k = json[k] == (byte)'0' ? k + 1 : SkipDigits(json, k);
        if (k < json.Length && json[k] == (byte)'.')
        {
            var fraction = k + 1;
            k = SkipDigits(json, fraction);
            if (k == fraction)
            {
                return false;
            }
        }

        if (k < json.Length && json[k] is (byte)'e' or (byte)'E')
        {
            k++;
            if (k < json.Length && json[k] is (byte)'+' or (byte)'-')
            {
                k++;
            }

            var exponent = k;
            k = SkipDigits(json, exponent);
            if (k == exponent)
            {
                return false;
            }
        }

        i = k;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipDigits(ReadOnlySpan<byte> json, int k)
    {
        while (k < json.Length && char.IsAsciiDigit((char)json[k]))
        {
            k++;
        }

        return k;
    }
}
