using Vitals.Simulator;

namespace Vitals.Gateway.Config;

/// <summary>The gateway's configuration, as read from <c>vitals run --config FILE</c> or built by <c>vitals demo</c>.</summary>
public sealed partial class GatewayOptions : IWebAccessOptions
{
    /// <summary>Default listen address: loopback only, so nothing is exposed until an admin chooses to.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>Default data directory.</summary>
    public const string DefaultData = "./data";

    /// <summary>Default site name.</summary>
    public const string DefaultSite = "clinic";

    /// <summary>Clinic site name, used as a tag on every stored and published value.</summary>
    public string Site { get; set; } = DefaultSite;

    /// <summary>URLs to listen on (semicolon separated).</summary>
    public string Urls { get; set; } = DefaultUrls;

    /// <summary>Directory for the SQLite store.</summary>
    public string Data { get; set; } = DefaultData;

    /// <summary>Login attempts allowed per client address per minute (on top of the per-account lockout).</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;

    /// <summary>InfluxDB to forward everything to (<c>http://host:port/?db=NAME</c> or <c>?org=ORG&amp;bucket=BUCKET</c>); credentials come from environment variables.</summary>
    public string? Influx { get; set; }

    /// <summary>Days of observation history kept in the local store (forwarded rows only, when InfluxDB is configured).</summary>
    public double RetentionDays { get; set; } = 7;

    /// <summary>A technical alarm is raised when InfluxDB forwarding falls this many seconds behind.</summary>
    public double InfluxLagAlarmSeconds { get; set; } = 300;

    /// <summary>
    /// Forwarding backlog (rows = frames not yet in InfluxDB) at which a high-priority technical alarm is raised; a
    /// medium one comes at 80 %. Nothing is dropped at the limit: the store keeps storing.
    /// </summary>
    public long InfluxBacklogMaxRows { get; set; } = Vitals.Storage.Sqlite.StoreRetentionOptions.DefaultMaxBacklogRows;

    /// <summary>Age of the oldest unforwarded row, in days, at which the backlog alarm is high priority (medium at 80 %).</summary>
    public double InfluxBacklogMaxDays { get; set; } = Vitals.Storage.Sqlite.StoreRetentionOptions.DefaultMaxBacklogAge.TotalDays;

    /// <summary>The infusion chairs and their monitors.</summary>
    public List<ChairOptions> Chairs { get; set; } = [];

    /// <summary>MQTT broker for monitor feeds in and alarms/state out (hardware-docs/mqtt.md); null: no MQTT.</summary>
    public MqttOptions? Mqtt { get; set; }

    /// <summary>True in <c>vitals demo</c>: simulated data, nurse view open without login.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Demo { get; set; }

    /// <summary>Checks every value, returning one message per problem naming the key and the fix.</summary>
    public List<string> Validate(Func<string, string?>? environment = null)
    {
        var errors = new List<string>();
        Mqtt?.Validate(Site, environment ?? Environment.GetEnvironmentVariable, errors);
        if (string.IsNullOrWhiteSpace(Site) || Site.Any(c => char.IsWhiteSpace(c) || c is ',' or '=' or '/' or '+' or '#'))
        {
            errors.Add($"site: '{Site}' is not a usable site name. Fix: use letters, digits, '-' or '_' (it becomes an MQTT topic level and an InfluxDB tag).");
        }

        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                errors.Add($"urls: '{url}' is not an http(s) URL. Fix: use a form like {DefaultUrls}.");
            }
        }

        if (string.IsNullOrWhiteSpace(Data))
        {
            errors.Add($"data: must name a directory. Fix: set it to a writable directory such as {DefaultData}.");
        }

        if (LoginAttemptsPerMinute is < 1 or > 1000)
        {
            errors.Add($"loginAttemptsPerMinute: {LoginAttemptsPerMinute} is out of range. Fix: use 1 to 1000 (default 10).");
        }

        if (!string.IsNullOrWhiteSpace(Influx))
        {
            try
            {
                Vitals.Storage.Influx.InfluxEndpoint.Parse(Influx);
            }
            catch (Vitals.Storage.Influx.InfluxConfigurationException e)
            {
                errors.Add($"influx: {e.Message}");
            }
        }

        if (RetentionDays is < 0.01 or > 3650 || double.IsNaN(RetentionDays))
        {
            errors.Add($"retentionDays: {RetentionDays} is out of range. Fix: use 0.01 to 3650 days (default 7).");
        }

        if (InfluxLagAlarmSeconds is < 10 or > 86_400 || double.IsNaN(InfluxLagAlarmSeconds))
        {
            errors.Add($"influxLagAlarmSeconds: {InfluxLagAlarmSeconds} is out of range. Fix: use 10 to 86400 seconds (default 300).");
        }

        if (InfluxBacklogMaxRows is < 100 or > 10_000_000_000)
        {
            errors.Add($"influxBacklogMaxRows: {InfluxBacklogMaxRows} is out of range. Fix: use 100 to 10000000000 rows (default {Vitals.Storage.Sqlite.StoreRetentionOptions.DefaultMaxBacklogRows}).");
        }

        if (InfluxBacklogMaxDays is < 0.01 or > 3650 || double.IsNaN(InfluxBacklogMaxDays))
        {
            errors.Add($"influxBacklogMaxDays: {InfluxBacklogMaxDays} is out of range. Fix: use 0.01 to 3650 days (default 7).");
        }

        if (Chairs.Count == 0)
        {
            errors.Add("chairs: no chairs are configured. Fix: add at least one chair with an id and a device.");
        }

        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Chairs.Count; i++)
        {
            Chairs[i].Validate($"chairs[{i}]", ids, errors);
        }

        ValidateFeeds(errors);

        return errors;
    }
}

/// <summary>One infusion chair and the monitors bound to it.</summary>
public sealed class ChairOptions
{
    /// <summary>Stable chair id (topic level, tag and URL segment).</summary>
    public string Id { get; set; } = "";

    /// <summary>Name shown to nurses; defaults to the id.</summary>
    public string? Name { get; set; }

    /// <summary>Monitors feeding this chair.</summary>
    public List<DeviceOptions> Devices { get; set; } = [];

    /// <summary>The name shown on screens.</summary>
    public string DisplayName => string.IsNullOrWhiteSpace(Name) ? Id : Name;

    internal void Validate(string path, HashSet<string> ids, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(Id) || !Id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            errors.Add($"{path}.id: '{Id}' is not a valid chair id. Fix: use letters, digits, '-' or '_', for example \"chair-1\".");
        }
        else if (!ids.Add(Id))
        {
            errors.Add($"{path}.id: chair id '{Id}' is used twice. Fix: give every chair its own id.");
        }

        if (Devices.Count == 0)
        {
            errors.Add($"{path}.devices: chair '{Id}' has no device. Fix: add a device, for example {{ \"id\": \"sim-1\", \"kind\": \"simulator\" }}.");
        }

        for (var i = 0; i < Devices.Count; i++)
        {
            Devices[i].Validate($"{path}.devices[{i}]", errors);
        }
    }
}

/// <summary>A monitor bound to a chair.</summary>
public sealed partial class DeviceOptions
{
    /// <summary>Kinds of device this build can read.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["simulator", "serial", "hl7", "mqtt"];

    /// <summary>Device id (serial number or a name), stored with every value.</summary>
    public string Id { get; set; } = "";

    /// <summary>How the device is read: <c>simulator</c>, <c>serial</c>, <c>hl7</c> or <c>mqtt</c> (JSON on <c>&lt;prefix&gt;/&lt;site&gt;/&lt;chair&gt;/obs</c>).</summary>
    public string Kind { get; set; } = "simulator";

    /// <summary>For <c>simulator</c>: the scenario to play.</summary>
    public string Scenario { get; set; } = "stable";

    /// <summary>For <c>simulator</c>: random seed; the same seed replays the same values.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>For <c>simulator</c>: scenario minutes per real minute.</summary>
    public double TimeScale { get; set; } = 1;

    /// <summary>For <c>simulator</c>: NIBP cuff cycle in scenario minutes.</summary>
    public double NibpCycleMinutes { get; set; } = 5;

    /// <summary>For <c>mqtt</c>: how to read a vendor's JSON; null: the Vitals JSON schema (hardware-docs/mqtt.md).</summary>
    public Vitals.Devices.Json.JsonMapping? Mapping { get; set; }

    /// <summary>For <c>simulator</c>: the simulated monitor these options describe (scenario names are checked at startup).</summary>
    public SimulatorOptions ToSimulatorOptions()
    {
        Scenarios.TryParse(Scenario, out var scenario);
        return new SimulatorOptions(scenario, Seed, TimeScale, TimeSpan.FromMinutes(NibpCycleMinutes));
    }

    internal void Validate(string path, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(Id))
        {
            errors.Add($"{path}.id: every device needs an id. Fix: set it to the monitor's serial number or a name such as \"monitor-1\".");
        }

        if (!Kinds.Contains(Kind))
        {
            errors.Add($"{path}.kind: '{Kind}' is not a device kind this build reads. Fix: use one of {string.Join(", ", Kinds)}.");
            return;
        }

        if (Kind == "mqtt")
        {
            errors.AddRange(Mapping?.Validate($"{path}.mapping") ?? []);
            return;
        }

        if (Mapping is not null)
        {
            errors.Add($"{path}.mapping: only mqtt devices read vendor JSON. Fix: remove the key or set kind to mqtt.");
        }

        if (Kind != "simulator")
        {
            ValidateFeed(path, errors);
            return;
        }

        if (!Scenarios.TryParse(Scenario, out _))
        {
            errors.Add($"{path}.scenario: unknown scenario '{Scenario}'. Fix: use one of {string.Join(", ", Scenarios.Names)}.");
        }

        if (TimeScale is <= 0 or > 10_000 || double.IsNaN(TimeScale))
        {
            errors.Add($"{path}.timeScale: {TimeScale} is out of range. Fix: use a number above 0 and at most 10000 (1 = real time).");
        }

        if (NibpCycleMinutes is < 1 or > 120 || double.IsNaN(NibpCycleMinutes))
        {
            errors.Add($"{path}.nibpCycleMinutes: {NibpCycleMinutes} is out of range. Fix: use 1 to 120 minutes.");
        }
    }
}
