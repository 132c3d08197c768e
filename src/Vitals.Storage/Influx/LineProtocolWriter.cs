using System.Globalization;
using System.Text;

namespace Vitals.Storage.Influx;

/// <summary>
/// Writes InfluxDB line protocol with millisecond timestamps into a pooled buffer:
/// <c>measurement[,tag=value...] field=value[,field=value...] timestamp\n</c>.
/// Follows the InfluxDB 1.x line protocol reference ("Special characters"): measurement escapes comma
/// and space; tag keys, tag values and field keys escape comma, equals and space; string field values
/// escape double quote and backslash. Newlines are not allowed in keys or values, so CR and LF become
/// spaces. A backslash that would otherwise escape our own escape or the separator after it (a
/// trailing backslash, or one before a special character) becomes '/', because 1.x cannot escape a
/// backslash outside string fields. NaN and infinities are skipped, and a point with no field left is
/// dropped (the reference requires at least one field). Not thread-safe.
/// </summary>
public sealed class LineProtocolWriter : IDisposable
{
    private enum Escape
    {
        Measurement,
        Key,
        StringValue,
    }

    private readonly PooledByteBuffer _buffer;
    private readonly List<int> _lineStarts = [];
    private int _pointStart = -1;
    private int _fieldCount;

    /// <summary>Creates a writer with its own pooled buffer.</summary>
    public LineProtocolWriter(int initialCapacity = 64 * 1024)
    {
        _buffer = new PooledByteBuffer(initialCapacity);
    }

    /// <summary>Number of complete lines (points) written.</summary>
    public int LineCount => _lineStarts.Count;

    /// <summary>Number of bytes of complete lines.</summary>
    public int Length => _pointStart >= 0 ? _pointStart : _buffer.Length;

    /// <summary>All complete lines, each ending with '\n'.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory[..Length];

    /// <summary>Bytes of line <paramref name="index"/>, without its newline.</summary>
    public ReadOnlyMemory<byte> GetLine(int index)
    {
        var start = _lineStarts[index];
        var end = index + 1 < _lineStarts.Count ? _lineStarts[index + 1] : Length;
        return _buffer.WrittenMemory[start..(end - 1)];
    }

    /// <summary>Bytes of lines <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), newlines included.</summary>
    public ReadOnlyMemory<byte> GetLines(int from, int to)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, to);
        var start = from < _lineStarts.Count ? _lineStarts[from] : Length;
        var end = to < _lineStarts.Count ? _lineStarts[to] : Length;
        return _buffer.WrittenMemory[start..end];
    }

    /// <summary>Text of line <paramref name="index"/>, without its newline.</summary>
    public string GetLineText(int index) => Encoding.UTF8.GetString(GetLine(index).Span);

    /// <summary>Forgets everything written; keeps the pooled array.</summary>
    public void Clear()
    {
        _buffer.Clear();
        _lineStarts.Clear();
        _pointStart = -1;
        _fieldCount = 0;
    }

    /// <summary>Starts a point. Must be followed by tags, fields and <see cref="EndPoint(long)"/>.</summary>
    public LineProtocolWriter BeginPoint(string measurement)
    {
        ArgumentException.ThrowIfNullOrEmpty(measurement);
        if (_pointStart >= 0)
        {
            throw new InvalidOperationException("The previous point was not ended.");
        }

        _pointStart = _buffer.Length;
        _fieldCount = 0;
        WriteEscaped(measurement, Escape.Measurement);
        return this;
    }

    /// <summary>Adds a tag. Tags must come before fields; an empty or null value omits the tag (the reference forbids empty tag values).</summary>
    public LineProtocolWriter Tag(string key, string? value)
    {
        EnsureInPoint();
        if (_fieldCount > 0)
        {
            throw new InvalidOperationException("Tags must be written before fields.");
        }

        if (string.IsNullOrEmpty(value))
        {
            return this;
        }

        WriteByte((byte)',');
        WriteEscaped(key, Escape.Key);
        WriteByte((byte)'=');
        WriteEscaped(value, Escape.Key);
        return this;
    }

    /// <summary>Adds a float field; NaN and infinities are skipped.</summary>
    public LineProtocolWriter Field(string key, double value)
    {
        EnsureInPoint();
        if (!double.IsFinite(value))
        {
            return this;
        }

        StartField(key);
        // Shortest round-trip form in invariant culture ("72", "36.6", "1E+20"): all parse as floats
        // because none carries the "i" integer suffix.
        var span = _buffer.GetSpan(32);
        if (!value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("A double did not fit in 32 bytes.");
        }

        _buffer.Advance(written);
        return this;
    }

    /// <summary>Adds a float field if <paramref name="value"/> has a value.</summary>
    public LineProtocolWriter Field(string key, double? value) => value is { } v ? Field(key, v) : this;

    /// <summary>Adds a string field; null skips it.</summary>
    public LineProtocolWriter Field(string key, string? value)
    {
        EnsureInPoint();
        if (value is null)
        {
            return this;
        }

        StartField(key);
        WriteByte((byte)'"');
        WriteEscaped(value, Escape.StringValue);
        WriteByte((byte)'"');
        return this;
    }

    /// <summary>Adds a boolean field.</summary>
    public LineProtocolWriter Field(string key, bool value)
    {
        EnsureInPoint();
        StartField(key);
        _buffer.Write(value ? "true"u8 : "false"u8);
        return this;
    }

    /// <summary>Ends the point with a Unix-epoch millisecond timestamp. Returns false (and writes nothing) when the point had no field.</summary>
    public bool EndPoint(long unixMilliseconds)
    {
        EnsureInPoint();
        var start = _pointStart;
        _pointStart = -1;
        if (_fieldCount == 0)
        {
            _buffer.Truncate(start);
            return false;
        }

        WriteByte((byte)' ');
        var span = _buffer.GetSpan(24);
        unixMilliseconds.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        _buffer.Advance(written);
        WriteByte((byte)'\n');
        _lineStarts.Add(start);
        return true;
    }

    /// <summary>Ends the point at <paramref name="time"/> (millisecond precision).</summary>
    public bool EndPoint(DateTimeOffset time) => EndPoint(time.ToUnixTimeMilliseconds());

    /// <inheritdoc/>
    public void Dispose() => _buffer.Dispose();

    private void StartField(string key)
    {
        WriteByte(_fieldCount == 0 ? (byte)' ' : (byte)',');
        WriteEscaped(key, Escape.Key);
        WriteByte((byte)'=');
        _fieldCount++;
    }

    private void EnsureInPoint()
    {
        if (_pointStart < 0)
        {
            throw new InvalidOperationException("BeginPoint was not called.");
        }
    }

    private void WriteByte(byte b)
    {
        _buffer.GetSpan(1)[0] = b;
        _buffer.Advance(1);
    }

    private static bool NeedsEscape(char c, Escape kind) => kind switch
    {
        Escape.Measurement => c is ',' or ' ',
        Escape.Key => c is ',' or '=' or ' ',
        _ => c is '"' or '\\',
    };

    private void WriteEscaped(string text, Escape kind)
    {
        // Worst case: every char escaped, UTF-8 up to 3 bytes per UTF-16 unit.
        var span = _buffer.GetSpan((text.Length * 3) + 2);
        var pos = 0;
        var runStart = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            byte? replacement = null;
            var escape = NeedsEscape(c, kind);
            if (c is '\n' or '\r')
            {
                replacement = (byte)' ';
                escape = kind != Escape.StringValue;
            }
            else if (c == '\\' && kind != Escape.StringValue
                     && (i + 1 == text.Length || NeedsEscape(text[i + 1], kind) || text[i + 1] is '\n' or '\r'))
            {
                replacement = (byte)'/';
                escape = false;
            }

            if (!escape && replacement is null)
            {
                continue;
            }

            pos += Encoding.UTF8.GetBytes(text.AsSpan(runStart, i - runStart), span[pos..]);
            if (escape)
            {
                span[pos++] = (byte)'\\';
            }

            span[pos++] = replacement ?? (byte)c;
            runStart = i + 1;
        }

        pos += Encoding.UTF8.GetBytes(text.AsSpan(runStart), span[pos..]);
        _buffer.Advance(pos);
    }
}
