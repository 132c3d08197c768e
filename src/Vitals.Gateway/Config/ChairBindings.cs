using System.Text.Json;
using System.Text.RegularExpressions;
using Vitals.Storage;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Config;

/// <summary>Copies of the options with one chair's devices replaced (admin binding edits).</summary>
public sealed partial class GatewayOptions
{
    /// <summary>A shallow copy whose chair <paramref name="chairId"/> has <paramref name="devices"/> instead of its own.</summary>
    public GatewayOptions WithChairDevices(string chairId, List<DeviceOptions> devices)
    {
        var copy = (GatewayOptions)MemberwiseClone();
        copy.Chairs = [.. Chairs.Select(c => c.Id == chairId ? new ChairOptions { Id = c.Id, Name = c.Name, Devices = devices } : c)];
        return copy;
    }
}

/// <summary>
/// Chair to device bindings edited by an admin: stored per chair in the SQLite config table as JSON, validated with the
/// same rules as the config file, and applied over the file's <c>devices</c> at every start.
/// </summary>
public static partial class ChairBindings
{
    /// <summary>Config table key prefix; the chair id follows.</summary>
    public const string KeyPrefix = "bindings.chair.";

    /// <summary>True when two device entries have the same settings, so the feed running for one serves the other unchanged.</summary>
    public static bool SameDevice(DeviceOptions a, DeviceOptions b) =>
        JsonSerializer.Serialize(a, ConfigLoader.JsonOptions.TypeInfo<DeviceOptions>()) == JsonSerializer.Serialize(b, ConfigLoader.JsonOptions.TypeInfo<DeviceOptions>());

    /// <summary>The stored device list of a chair, or null when the config file's applies.</summary>
    public static List<DeviceOptions>? Load(SqliteStore store, string chairId)
    {
        ArgumentNullException.ThrowIfNull(store);
        var json = store.GetConfig(KeyPrefix + chairId);
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(json, ConfigLoader.JsonOptions.TypeInfo<List<DeviceOptions>>());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Stores a chair's device list.</summary>
    public static void Save(SqliteStore store, string chairId, List<DeviceOptions> devices, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(store);
        store.SetConfig(KeyPrefix + chairId, JsonSerializer.Serialize(devices, ConfigLoader.JsonOptions.TypeInfo<List<DeviceOptions>>()), at);
    }

    /// <summary>
    /// Replaces each chair's devices with its stored binding. A stored binding that no longer validates against the
    /// rest of the configuration is skipped (the file's devices keep the chair monitored) and reported in the result.
    /// </summary>
    public static List<string> ApplyStored(GatewayOptions options, SqliteStore store)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        foreach (var chair in options.Chairs.ToList())
        {
            if (Load(store, chair.Id) is not { } devices)
            {
                continue;
            }

            var errors = Validate(options, chair.Id, devices);
            if (errors.Count > 0)
            {
                problems.Add($"chair '{chair.Id}': the binding saved in the admin view is not valid with this configuration ({string.Join(" ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")))}); the config file's devices are used instead. Fix: save the chair's bindings again in the admin view.");
                continue;
            }

            chair.Devices = devices;
        }

        return problems;
    }

    /// <summary>
    /// Validates a chair's new device list with the config file's rules (including ports and HL7 match keys shared with
    /// other chairs). Errors are keyed by field path relative to the request body, for example <c>devices[0].port</c>.
    /// </summary>
    public static Dictionary<string, string[]> Validate(GatewayOptions options, string chairId, List<DeviceOptions> devices)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(devices);
        if (LineFileProblems(options, devices) is { Count: > 0 } fileProblems)
        {
            return fileProblems;
        }

        var index = options.Chairs.FindIndex(c => c.Id == chairId);
        var prefix = $"chairs[{index}].";
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string key, string message) => (result.TryGetValue(key, out var list) ? list : result[key] = []).Add(message);

        foreach (var error in options.WithChairDevices(chairId, devices).Validate(_ => null))
        {
            var split = error.IndexOf(": ", StringComparison.Ordinal);
            if (split < 0)
            {
                continue;
            }

            var path = error[..split];
            var message = error[(split + 2)..];
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                // Name another chair's device by chair id, not by its position in the file.
                var text = DevicePath().Replace(message, m =>
                    m.Groups["chair"].Value == index.ToString(System.Globalization.CultureInfo.InvariantCulture)
                        ? $"devices[{m.Groups["device"].Value}]"
                        : $"chair '{options.Chairs[int.Parse(m.Groups["chair"].Value, System.Globalization.CultureInfo.InvariantCulture)].Id}' ({m.Value})");
                var key = path[prefix.Length..];
                Add(key, IsLineFileKey(key, devices) ? LineFileInvalid : text);
            }
            else if (OtherChairConflict().Match(error) is { Success: true } m && m.Groups["chair"].Value == index.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                // Another chair's device, listed later, uses the same port or match key: report it at our field.
                var other = m.Groups["other"].Value;
                var otherChair = options.Chairs[int.Parse(m.Groups["otherChair"].Value, System.Globalization.CultureInfo.InvariantCulture)].Id;
                Add($"devices[{m.Groups["device"].Value}].{m.Groups["key"].Value}", $"'{m.Groups["value"].Value}' is already used by chair '{otherChair}' ({other}). Fix: every serial port and hl7 match key belongs to one device.");
            }
        }

        return result.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }

    private const string LineFileInvalid =
        "the line-device file is not valid. Fix: check it with 'vitals decode --protocol line --map FILE' on the gateway (the problem is not shown here, so file content never reaches the browser), or write the settings inline.";

    /// <summary>
    /// Line-device files named in an admin binding must be relative paths inside <see cref="GatewayOptions.AdminLineConfigDirectory"/>,
    /// so the admin view can never read other files on the host.
    /// </summary>
    private static Dictionary<string, string[]> LineFileProblems(GatewayOptions options, List<DeviceOptions> devices)
    {
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var dir = options.AdminLineConfigDirectory();
        for (var i = 0; i < devices.Count; i++)
        {
            if (devices[i].LineConfig is not { ValueKind: JsonValueKind.String } element)
            {
                continue;
            }

            var file = element.GetString() ?? "";
            var full = dir is null || file.Length == 0 || Path.IsPathRooted(file) ? null : Path.GetFullPath(Path.Combine(dir, file));
            if (full is null || !full.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                problems[$"devices[{i}].lineConfig"] = [dir is null
                    ? "this gateway has no line-device folder (it runs without a config file). Fix: write the line-device settings inline as an object."
                    : $"give the name of a file in the line-device folder {dir} (set by lineConfigDirectory in the config file), or write the settings inline."];
            }
        }

        return problems;
    }

    private static bool IsLineFileKey(string key, List<DeviceOptions> devices) =>
        LineConfigIndex().Match(key) is { Success: true } m
        && int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) is var i && i < devices.Count
        && devices[i].LineConfig is { ValueKind: JsonValueKind.String };

    [GeneratedRegex(@"^devices\[(\d+)\]\.lineConfig$", RegexOptions.None, 100)]
    private static partial Regex LineConfigIndex();

    /// <summary>A one-line summary of a device list for the audit log: ids, kinds and the binding key, never mappings or line configs.</summary>
    public static string Summary(IEnumerable<DeviceOptions> devices) =>
        string.Join(", ", devices.Select(d => d.Kind switch
        {
            "simulator" => $"{d.Id} simulator {d.Scenario} seed {d.Seed}",
            DeviceOptions.SerialKind => $"{d.Id} serial {d.Codec} {d.Port} {d.Baud}",
            DeviceOptions.Hl7Kind => $"{d.Id} hl7 match {d.Match}",
            _ => $"{d.Id} {d.Kind}{(d.Mapping is null ? "" : " (vendor mapping)")}",
        })) is { Length: > 0 } s ? s : "(none)";

    [GeneratedRegex(@"chairs\[(?<chair>\d+)\]\.devices\[(?<device>\d+)\]")]
    private static partial Regex DevicePath();

    [GeneratedRegex(@"^(?<other>chairs\[(?<otherChair>\d+)\]\.devices\[\d+\])\.(?<key>port|match): '(?<value>[^']*)' is already (used by|the match key of) chairs\[(?<chair>\d+)\]\.devices\[(?<device>\d+)\]")]
    private static partial Regex OtherChairConflict();
}
