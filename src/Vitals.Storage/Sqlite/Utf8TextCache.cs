using System.Text;
using SQLitePCL;
using Vitals.Core;

namespace Vitals.Storage.Sqlite;

/// <summary>
/// Turns the repeated text columns of one outbox read (site, chair, device, source) into strings
/// without allocating per row: each distinct value is decoded once and its string reused, and a source
/// name is parsed once. Meant for one read on one thread; bounded, so unusual data cannot grow it.
/// </summary>
internal sealed class Utf8TextCache
{
    private const int MaxEntries = 1024;
    private const int MaxCachedBytes = 256;
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly Dictionary<string, SourceProtocol?> _sources = new(StringComparer.Ordinal);

    public Utf8TextCache() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The text of <paramref name="column"/> in the current row.</summary>
    public string Get(sqlite3_stmt stmt, int column)
    {
        // For a TEXT value SQLite hands out its UTF-8 bytes; decode them onto the stack to look the string up.
        var bytes = raw.sqlite3_column_blob(stmt, column);
        if (bytes.Length > MaxCachedBytes)
        {
            return Encoding.UTF8.GetString(bytes);
        }

        Span<char> chars = stackalloc char[MaxCachedBytes]; // UTF-8 never decodes to more chars than bytes
        chars = chars[..Encoding.UTF8.GetChars(bytes, chars)];
        if (_lookup.TryGetValue(chars, out var text))
        {
            return text;
        }

        text = new string(chars);
        if (_strings.Count < MaxEntries)
        {
            _strings[text] = text;
        }

        return text;
    }

    /// <summary>The source protocol named in <paramref name="column"/>, or null for a name this build does not know.</summary>
    public SourceProtocol? Source(sqlite3_stmt stmt, int column)
    {
        var name = Get(stmt, column);
        if (!_sources.TryGetValue(name, out var source))
        {
            source = Enum.TryParse<SourceProtocol>(name, out var parsed) ? parsed : null;
            if (_sources.Count < MaxEntries)
            {
                _sources[name] = source;
            }
        }

        return source;
    }
}
