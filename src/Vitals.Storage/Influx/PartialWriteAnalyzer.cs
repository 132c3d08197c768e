using System.Globalization;

namespace Vitals.Storage.Influx;

/// <summary>
/// Finds which lines of a batch InfluxDB refused, from the text of a 400 "partial write" error.
/// InfluxDB 1.6 answers, for example (observed on influxd 1.6.7 here):
/// <c>partial write: unable to parse 'LINE': invalid field format\nunable to parse 'LINE2': bad timestamp dropped=0</c>
/// or <c>partial write: field type conflict: input field "hr" on measurement "vitals" is type string, already exists as type float dropped=2</c>.
/// Parse errors quote the line; a type conflict names only the first conflicting field, with the number
/// of points dropped. The analysis is <see cref="PartialWriteAnalysis.Complete"/> only when every
/// message part was understood and the lines found account for <c>dropped=N</c>; otherwise the caller
/// must isolate the bad lines another way (the forwarder bisects the batch).
/// </summary>
public static class PartialWriteAnalyzer
{
    private const string ParsePrefix = "unable to parse '";
    private const string ConflictPrefix = "field type conflict: input field \"";

    /// <summary>Analyses <paramref name="error"/> against <paramref name="lines"/> (the batch sent, without newlines).</summary>
    public static PartialWriteAnalysis Analyze(string error, IReadOnlyList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(lines);
        var bad = new SortedSet<int>();
        var complete = true;
        var conflictLines = 0;
        long? dropped = null;
        Dictionary<string, int>? byText = null;

        var text = error.Trim();
        var droppedAt = text.LastIndexOf(" dropped=", StringComparison.Ordinal);
        if (droppedAt >= 0 && long.TryParse(text.AsSpan(droppedAt + 9), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            dropped = n;
            text = text[..droppedAt];
        }

        if (text.StartsWith("partial write:", StringComparison.Ordinal))
        {
            text = text["partial write:".Length..].TrimStart();
        }

        foreach (var part in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith(ParsePrefix, StringComparison.Ordinal))
            {
                // The quoted line may itself contain "': ", so try every candidate end.
                byText ??= Index(lines);
                var found = false;
                for (var end = part.IndexOf("': ", ParsePrefix.Length, StringComparison.Ordinal);
                     end >= 0;
                     end = part.IndexOf("': ", end + 1, StringComparison.Ordinal))
                {
                    if (byText.TryGetValue(part[ParsePrefix.Length..end], out var index))
                    {
                        bad.Add(index);
                        found = true;
                        break;
                    }
                }

                complete &= found;
            }
            else if (part.StartsWith(ConflictPrefix, StringComparison.Ordinal) && TryParseConflict(part, out var field, out var measurement, out var existing))
            {
                for (var i = 0; i < lines.Count; i++)
                {
                    if (LineInspector.FieldTypeIfMeasurement(lines[i], measurement, field) is { } type && type != existing)
                    {
                        bad.Add(i);
                        conflictLines++;
                    }
                }
            }
            else
            {
                complete = false;
            }
        }

        // dropped=N counts points refused after parsing (type conflicts, retention); parse failures are not in it.
        if (dropped is { } d && d != conflictLines)
        {
            complete = false;
        }

        return new PartialWriteAnalysis([.. bad], complete);
    }

    private static Dictionary<string, int> Index(IReadOnlyList<string> lines)
    {
        var map = new Dictionary<string, int>(lines.Count, StringComparer.Ordinal);
        for (var i = 0; i < lines.Count; i++)
        {
            map.TryAdd(lines[i], i);
        }

        return map;
    }

    private static bool TryParseConflict(string part, out string field, out string measurement, out string existing)
    {
        // field type conflict: input field "F" on measurement "M" is type T, already exists as type U
        field = measurement = existing = string.Empty;
        var fieldEnd = part.IndexOf("\" on measurement \"", ConflictPrefix.Length, StringComparison.Ordinal);
        if (fieldEnd < 0)
        {
            return false;
        }

        var measurementStart = fieldEnd + "\" on measurement \"".Length;
        var measurementEnd = part.IndexOf("\" is type ", measurementStart, StringComparison.Ordinal);
        var existsAt = part.LastIndexOf("already exists as type ", StringComparison.Ordinal);
        if (measurementEnd < 0 || existsAt < 0)
        {
            return false;
        }

        field = part[ConflictPrefix.Length..fieldEnd];
        measurement = part[measurementStart..measurementEnd];
        existing = part[(existsAt + "already exists as type ".Length)..].Trim();
        return true;
    }
}

/// <summary>Result of <see cref="PartialWriteAnalyzer.Analyze"/>.</summary>
/// <param name="BadLines">Indexes of lines the server refused, ascending.</param>
/// <param name="Complete">True when these are known to be all the refused lines.</param>
public sealed record PartialWriteAnalysis(IReadOnlyList<int> BadLines, bool Complete);

/// <summary>Reads back just enough of a line we wrote to tell a field's type.</summary>
internal static class LineInspector
{
    /// <summary>
    /// The InfluxDB type name (float, integer, unsigned, string, boolean) of <paramref name="field"/> in
    /// <paramref name="line"/> if the line's measurement is <paramref name="measurement"/>; null otherwise.
    /// </summary>
    public static string? FieldTypeIfMeasurement(string line, string measurement, string field)
    {
        var i = 0;
        var m = ReadUntil(line, ref i, ',', ' ');
        if (!string.Equals(m, measurement, StringComparison.Ordinal))
        {
            return null;
        }

        // Skip the tag set up to the first unescaped space.
        while (i < line.Length && line[i] != ' ')
        {
            i += line[i] == '\\' ? 2 : 1;
        }

        i++;
        while (i < line.Length)
        {
            var key = ReadUntil(line, ref i, '=', '=');
            i++;
            var valueStart = i;
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (i < line.Length && line[i] != '"')
                {
                    i += line[i] == '\\' ? 2 : 1;
                }

                i++;
            }
            else
            {
                while (i < line.Length && line[i] != ',' && line[i] != ' ')
                {
                    i++;
                }
            }

            if (string.Equals(key, field, StringComparison.Ordinal))
            {
                return TypeOf(line.AsSpan(valueStart, Math.Min(i, line.Length) - valueStart));
            }

            if (i >= line.Length || line[i] == ' ')
            {
                return null;
            }

            i++;
        }

        return null;
    }

    private static string TypeOf(ReadOnlySpan<char> value)
    {
        if (value.Length > 0 && value[0] == '"')
        {
            return "string";
        }

        if (value is "t" or "T" or "true" or "True" or "TRUE" or "f" or "F" or "false" or "False" or "FALSE")
        {
            return "boolean";
        }

        return value.Length > 0 && value[^1] == 'i' ? "integer" : value.Length > 0 && value[^1] == 'u' ? "unsigned" : "float";
    }

    private static string ReadUntil(string line, ref int i, char stop1, char stop2)
    {
        var sb = new System.Text.StringBuilder();
        while (i < line.Length && line[i] != stop1 && line[i] != stop2)
        {
            if (line[i] == '\\' && i + 1 < line.Length)
            {
                i++;
            }

            sb.Append(line[i]);
            i++;
        }

        return sb.ToString();
    }
}
