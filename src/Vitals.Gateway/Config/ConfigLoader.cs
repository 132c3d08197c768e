using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Vitals.Storage;

namespace Vitals.Gateway.Config;

/// <summary>
/// Reads the JSON config file strictly: unknown keys and wrong types fail at startup with a message naming
/// the key (for example <c>chairs[0].devices[0].scenaro</c>) and the fix, instead of being ignored.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Options used for config files (camelCase keys, comments and trailing commas allowed).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNameCaseInsensitive = false,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        TypeInfoResolver = GatewayJson.Metadata,
    };

    /// <summary>Loads and validates the config file at <paramref name="path"/>.</summary>
    public static GatewayOptions Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"--config: cannot read '{path}': {e.Message.TrimEnd('.')}. Fix: pass the path of a readable JSON file.");
        }

        return Parse(text, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Parses config JSON; <paramref name="source"/> names it in messages; relative file paths in it start at <paramref name="baseDirectory"/>.</summary>
    public static GatewayOptions Parse(string json, string source, string? baseDirectory = null)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{source}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}). Fix: check the quotes, commas and brackets there.");
        }

        using (doc)
        {
            var errors = new List<string>();
            CheckKeys(doc.RootElement, JsonOptions.GetTypeInfo(typeof(GatewayOptions)), "", errors);
            if (errors.Count > 0)
            {
                throw new ConfigException(Format(source, errors));
            }

            GatewayOptions options;
            try
            {
                options = doc.RootElement.Deserialize(JsonOptions.TypeInfo<GatewayOptions>())
                    ?? throw new ConfigException($"{source}: the file is empty. Fix: write a JSON object with \"chairs\".");
            }
            catch (JsonException e)
            {
                var key = (e.Path ?? "$").TrimStart('$').TrimStart('.');
                throw new ConfigException($"{source}: {key}: wrong type of value. Fix: {ExpectedFor(e.Message)}.");
            }

            options.BaseDirectory = baseDirectory;
            errors.AddRange(options.Validate());
            if (errors.Count > 0)
            {
                throw new ConfigException(Format(source, errors));
            }

            return options;
        }
    }

    /// <summary>
    /// Reads a chair's device list (the config file's <c>devices</c> array) as strictly as the file: unknown keys and
    /// wrong types are reported per field path (<c>devices[0].port</c>) as "path: message". Returns null when there are errors.
    /// </summary>
    public static List<DeviceOptions>? ParseDevices(JsonElement devices, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (devices.ValueKind != JsonValueKind.Array)
        {
            errors.Add("devices: must be a JSON array of devices. Fix: send [ { \"id\": \"sim-1\", \"kind\": \"simulator\" } ].");
            return null;
        }

        var i = 0;
        foreach (var item in devices.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"devices[{i}]: must be a JSON object. Fix: write {{ \"id\": ..., \"kind\": ... }}.");
            }
            else
            {
                CheckKeys(item, JsonOptions.GetTypeInfo(typeof(DeviceOptions)), $"devices[{i}]", errors);
            }

            i++;
        }

        if (errors.Count > 0)
        {
            return null;
        }

        try
        {
            return devices.Deserialize(JsonOptions.TypeInfo<List<DeviceOptions>>()) ?? [];
        }
        catch (JsonException e)
        {
            var key = "devices" + (e.Path ?? "$").TrimStart('$');
            errors.Add($"{key}: wrong type of value. Fix: {ExpectedFor(e.Message)}.");
            return null;
        }
    }

    /// <summary>Formats several problems as one startup message.</summary>
    public static string Format(string source, IReadOnlyList<string> errors) =>
        $"{source} has {errors.Count} problem{(errors.Count == 1 ? "" : "s")}:\n  " + string.Join("\n  ", errors);

    private static string ExpectedFor(string message) =>
        message.Contains("Int32", StringComparison.Ordinal) ? "use a whole number"
        : message.Contains("Double", StringComparison.Ordinal) ? "use a number"
        : message.Contains("String", StringComparison.Ordinal) ? "use a quoted string"
        : message.Contains("List", StringComparison.Ordinal) ? "use a JSON array [ ... ]"
        : message.Contains("Boolean", StringComparison.Ordinal) ? "use true or false"
        : "use a JSON object { ... }";

    private static void CheckKeys(JsonElement element, JsonTypeInfo type, string path, List<string> errors)
    {
        // Only objects bound to option classes have keys to check; type mismatches are the deserializer's to report.
        // Dictionaries (staleSeconds) have free-form keys; their values are validated by the options. The keys come from
        // the generated metadata (what the deserializer binds), not from reflection, which Native AOT does not keep.
        if (element.ValueKind != JsonValueKind.Object || type.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        var properties = type.Properties
            .Where(p => p.Set is not null || p.AssociatedParameter is not null)
            .ToDictionary(p => p.Name, StringComparer.Ordinal);
        if (properties.Count == 0)
        {
            return;
        }

        foreach (var member in element.EnumerateObject())
        {
            var key = path.Length == 0 ? member.Name : $"{path}.{member.Name}";
            if (!properties.TryGetValue(member.Name, out var property))
            {
                var suggestion = properties.Keys.OrderBy(k => Distance(k, member.Name)).First();
                var hint = Distance(suggestion, member.Name) <= 3 ? $"Did you mean '{suggestion}'? " : "";
                errors.Add($"{key}: unknown key. {hint}Fix: use one of {string.Join(", ", properties.Keys)}.");
                continue;
            }

            var value = JsonOptions.GetTypeInfo(property.PropertyType);
            if (member.Value.ValueKind == JsonValueKind.Array && value is { Kind: JsonTypeInfoKind.Enumerable, ElementType: { } itemType })
            {
                var i = 0;
                foreach (var item in member.Value.EnumerateArray())
                {
                    CheckKeys(item, JsonOptions.GetTypeInfo(itemType), $"{key}[{i++}]", errors);
                }
            }
            else
            {
                CheckKeys(member.Value, value, key, errors);
            }
        }
    }

    private static int Distance(string a, string b)
    {
        // Levenshtein distance, for "did you mean" hints on misspelt keys.
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            }
        }

        return d[a.Length, b.Length];
    }
}
