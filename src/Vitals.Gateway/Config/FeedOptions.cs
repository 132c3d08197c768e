using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Line;
using Vitals.Devices.Mllp;
using Vitals.Devices.Serial;

namespace Vitals.Gateway.Config;

/// <summary>Gateway-level feed settings: the HL7/MLLP listener and per-sign stale thresholds.</summary>
public sealed partial class GatewayOptions
{
    /// <summary>The HL7 over MLLP listener; started when this section exists or any device has kind <c>hl7</c>.</summary>
    public Hl7Options? Hl7 { get; set; }

    /// <summary>
    /// Seconds without a value of a sign, while its chair's feed is otherwise alive, before the sign is listed as stale
    /// (keys are sign names such as <c>spo2</c>; 0 turns the check off). Unlisted signs keep their defaults.
    /// </summary>
    public Dictionary<string, double>? StaleSeconds { get; set; }

    /// <summary>
    /// Seconds a reading's device time may lie ahead of the gateway's clock; a reading dated further ahead is re-stamped
    /// with its receive time, marked questionable, and raises "monitor clock wrong" (<see cref="DeviceClockPolicy"/>).
    /// </summary>
    public double ClockSkewSeconds { get; set; } = DeviceClockPolicy.DefaultMaxAhead.TotalSeconds;

    /// <summary>Hours a reading may be old on arrival before it is treated the same way (a wrong or reset monitor clock).</summary>
    public double ClockMaxAgeHours { get; set; } = DeviceClockPolicy.DefaultMaxBehind.TotalHours;

    /// <summary>The device-clock policy of <see cref="ClockSkewSeconds"/> and <see cref="ClockMaxAgeHours"/>.</summary>
    public DeviceClockPolicy DeviceClock() => new(TimeSpan.FromSeconds(ClockSkewSeconds), TimeSpan.FromHours(ClockMaxAgeHours));

    /// <summary>Directory of the config file, for relative <c>lineConfig</c> paths (null: the working directory).</summary>
    [JsonIgnore]
    public string? BaseDirectory { get; set; }

    /// <summary>
    /// Folder that line-device files named in the admin view's bindings must be in (config key <c>lineConfigDirectory</c>,
    /// relative to the config file's folder; default: the config file's folder). Without a config file (demo), admin
    /// bindings take line-device settings inline only.
    /// </summary>
    public string? LineConfigDirectory { get; set; }

    /// <summary>The full path of <see cref="LineConfigDirectory"/>, or null when admins may give inline settings only.</summary>
    public string? AdminLineConfigDirectory() =>
        BaseDirectory is null && LineConfigDirectory is null ? null
            : Path.GetFullPath(Path.Combine(BaseDirectory ?? Directory.GetCurrentDirectory(), LineConfigDirectory ?? "."));

    /// <summary>True when the gateway runs an MLLP listener.</summary>
    public bool HasHl7Listener => Hl7 is not null || AllDevices().Any(d => d.Device.Kind == DeviceOptions.Hl7Kind);

    /// <summary>Every device with its chair and its config path (for messages).</summary>
    public IEnumerable<(ChairOptions Chair, DeviceOptions Device, string Path)> AllDevices()
    {
        for (var c = 0; c < Chairs.Count; c++)
        {
            for (var d = 0; d < Chairs[c].Devices.Count; d++)
            {
                yield return (Chairs[c], Chairs[c].Devices[d], $"chairs[{c}].devices[{d}]");
            }
        }
    }

    /// <summary>The line-device configuration JSON of a serial <c>line</c> device: inline object or file contents.</summary>
    /// <exception cref="ConfigException">The file cannot be read.</exception>
    public string? LineConfigJson(DeviceOptions device, string path)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.LineConfig is not { } element)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            return element.GetRawText();
        }

        var file = element.GetString() ?? "";
        var full = Path.IsPathRooted(file) ? file : Path.Combine(BaseDirectory ?? Directory.GetCurrentDirectory(), file);
        try
        {
            return File.ReadAllText(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}.lineConfig: cannot read '{full}': {e.Message.TrimEnd('.')}. Fix: give the path of a readable line-device JSON file (relative paths start at the config file's folder), or write the object inline.");
        }
    }

    /// <summary>
    /// The HL7 codec settings the gateway decodes with: the chair map of the chairs' <c>hl7</c> devices and the
    /// <c>hl7</c> section's rule. With no hl7 device there is nothing to map to, so the rule is <see cref="Hl7ChairRule.Feed"/>
    /// and every message is answered AE (never AA for data that would be dropped).
    /// </summary>
    public Hl7CodecOptions Hl7CodecOptions()
    {
        var map = Hl7ChairMap();
        return new Hl7CodecOptions { ChairRule = map.Count == 0 ? Hl7ChairRule.Feed : (Hl7 ?? new Hl7Options()).Rule, ChairMap = map };
    }

    /// <summary>The HL7 chair map built from the chairs' <c>hl7</c> devices (match key to chair id).</summary>
    public Dictionary<string, string> Hl7ChairMap() =>
        AllDevices().Where(d => d.Device.Kind == DeviceOptions.Hl7Kind && !string.IsNullOrWhiteSpace(d.Device.Match))
            .GroupBy(d => d.Device.Match!.Trim(), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Chair.Id, StringComparer.OrdinalIgnoreCase);

    private void ValidateFeeds(List<string> errors)
    {
        Hl7?.Validate("hl7", errors);

        if (double.IsNaN(ClockSkewSeconds) || ClockSkewSeconds is < 1 or > 86_400)
        {
            errors.Add($"clockSkewSeconds: {ClockSkewSeconds} is out of range. Fix: use 1 to 86400 seconds (default {DeviceClockPolicy.DefaultMaxAhead.TotalSeconds:0}).");
        }

        if (double.IsNaN(ClockMaxAgeHours) || ClockMaxAgeHours is < 0.1 or > 8760)
        {
            errors.Add($"clockMaxAgeHours: {ClockMaxAgeHours} is out of range. Fix: use 0.1 to 8760 hours (default {DeviceClockPolicy.DefaultMaxBehind.TotalHours:0}).");
        }

        if (StaleSeconds is not null)
        {
            foreach (var (key, seconds) in StaleSeconds)
            {
                if (!Signs.TryParse(key, out _))
                {
                    errors.Add($"staleSeconds.{key}: unknown sign. Fix: use one of {string.Join(", ", Signs.All.Select(s => s.ShortName))}.");
                }
                else if (double.IsNaN(seconds) || seconds < 0 || seconds > 86_400)
                {
                    errors.Add($"staleSeconds.{key}: {seconds} is out of range. Fix: use 1 to 86400 seconds, or 0 to turn the check off.");
                }
            }
        }

        var ports = new Dictionary<string, string>(StringComparer.Ordinal);
        var matches = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (_, device, path) in AllDevices())
        {
            if (device.Kind == DeviceOptions.SerialKind && !string.IsNullOrWhiteSpace(device.Port))
            {
                if (ports.TryGetValue(device.Port, out var other))
                {
                    errors.Add($"{path}.port: '{device.Port}' is already used by {other}. Fix: give every serial device its own port (one monitor per tty).");
                }
                else
                {
                    ports[device.Port] = path;
                }

                if (device.Codec == "line" && device.LineConfig is not null)
                {
                    try
                    {
                        _ = LineCodecs.Create("line", LineConfigJson(device, path));
                    }
                    catch (ConfigException e)
                    {
                        errors.Add(e.Message);
                    }
                    catch (Exception e) when (e is LineConfigException or ArgumentException or JsonException)
                    {
                        errors.Add($"{path}.lineConfig: {e.Message} Fix: see the line-device keys in hardware-docs/serial-and-usb.md.");
                    }
                }
            }

            if (device.Kind == DeviceOptions.Hl7Kind && !string.IsNullOrWhiteSpace(device.Match))
            {
                if (matches.TryGetValue(device.Match.Trim(), out var other))
                {
                    errors.Add($"{path}.match: '{device.Match}' is already the match key of {other}. Fix: every hl7 device needs its own key (bed, sending application or equipment id).");
                }
                else
                {
                    matches[device.Match.Trim()] = path;
                }
            }
        }
    }
}

/// <summary>The <c>hl7</c> section: where monitors and vendor gateways send HL7 v2 ORU^R01 over MLLP.</summary>
public sealed class Hl7Options
{
    /// <summary>Default listen address: loopback on the IANA HL7/MLLP port.</summary>
    public const string DefaultListen = "127.0.0.1:2575";

    /// <summary>Default chair rule.</summary>
    public const string DefaultChairRule = "pv1Bed";

    /// <summary>Accepted <see cref="ChairRule"/> values.</summary>
    public static readonly IReadOnlyList<string> ChairRules = ["pv1Bed", "sendingApplication", "equipmentId"];

    /// <summary><c>address:port</c> to listen on; port 0 picks a free port (tests).</summary>
    public string Listen { get; set; } = DefaultListen;

    /// <summary>Which message field is matched against the devices' <c>match</c> keys.</summary>
    public string ChairRule { get; set; } = DefaultChairRule;

    /// <summary>IANA time zone for message times without a UTC offset (default: the gateway's).</summary>
    public string? TimeZone { get; set; }

    /// <summary>Largest accepted message in bytes.</summary>
    public int MaxFrameBytes { get; set; } = MllpFrameReader.DefaultMaxFrameSize;

    /// <summary>Seconds a connection may go without a complete message before it is closed (the sender reconnects with its next one).</summary>
    public int IdleTimeoutSeconds { get; set; } = (int)MllpListenerOptions.DefaultIdleTimeout.TotalSeconds;

    /// <summary>Seconds writing one ACK may take before the connection is closed: the sender stopped reading its ACKs.</summary>
    public int AckWriteTimeoutSeconds { get; set; } = (int)MllpListenerOptions.DefaultAckWriteTimeout.TotalSeconds;

    /// <summary>Simultaneous connections from one address; beyond it that address's longest-idle connection is closed.</summary>
    public int MaxConnectionsPerSource { get; set; } = MllpListenerOptions.DefaultMaxConnectionsPerSource;

    /// <summary>The parsed listen endpoint (call after validation).</summary>
    [JsonIgnore]
    public IPEndPoint ListenEndPoint => IPEndPoint.Parse(Listen);

    /// <summary>The parsed chair rule.</summary>
    [JsonIgnore]
    public Hl7ChairRule Rule => ChairRule switch
    {
        "sendingApplication" => Hl7ChairRule.SendingApplication,
        "equipmentId" => Hl7ChairRule.EquipmentId,
        _ => Hl7ChairRule.Pv1Bed,
    };

    internal void Validate(string path, List<string> errors)
    {
        if (!IPEndPoint.TryParse(Listen ?? "", out var endPoint) || !(Listen ?? "").Contains(':', StringComparison.Ordinal))
        {
            errors.Add($"{path}.listen: '{Listen}' is not address:port. Fix: use an IP address and port such as {DefaultListen} (loopback) or 0.0.0.0:2575 (every interface).");
        }
        else if (endPoint.Port == 0 && !Listen!.EndsWith(":0", StringComparison.Ordinal))
        {
            errors.Add($"{path}.listen: '{Listen}' has no port. Fix: add one, for example {DefaultListen}.");
        }

        if (!ChairRules.Contains(ChairRule))
        {
            errors.Add($"{path}.chairRule: '{ChairRule}' is not a chair rule. Fix: use pv1Bed (PV1-3 bed), sendingApplication (MSH-3) or equipmentId (OBX-18).");
        }

        if (TimeZone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
        {
            errors.Add($"{path}.timeZone: '{TimeZone}' is not a known time zone. Fix: use an IANA id such as Europe/London or UTC.");
        }

        if (IdleTimeoutSeconds is < 5 or > 86_400)
        {
            errors.Add($"{path}.idleTimeoutSeconds: {IdleTimeoutSeconds} is out of range. Fix: use 5 to 86400 (default {MllpListenerOptions.DefaultIdleTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}); make it longer than your monitors' longest send interval if they keep one connection.");
        }

        if (AckWriteTimeoutSeconds is < 1 or > 3600)
        {
            errors.Add($"{path}.ackWriteTimeoutSeconds: {AckWriteTimeoutSeconds} is out of range. Fix: use 1 to 3600 (default {MllpListenerOptions.DefaultAckWriteTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}); a sender that reads its ACKs never comes near it.");
        }

        if (MaxConnectionsPerSource is < 1 or > MllpListenerOptions.DefaultMaxConnections)
        {
            errors.Add($"{path}.maxConnectionsPerSource: {MaxConnectionsPerSource} is out of range. Fix: use 1 to {MllpListenerOptions.DefaultMaxConnections.ToString(CultureInfo.InvariantCulture)} (default {MllpListenerOptions.DefaultMaxConnectionsPerSource.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (MaxFrameBytes is < 1024 or > 16 * 1024 * 1024)
        {
            errors.Add($"{path}.maxFrameBytes: {MaxFrameBytes} is out of range. Fix: use 1024 to 16777216 (default {MllpFrameReader.DefaultMaxFrameSize.ToString(CultureInfo.InvariantCulture)}).");
        }
    }
}

/// <summary>Serial and HL7 device settings.</summary>
public sealed partial class DeviceOptions
{
    /// <summary>Kind of a monitor on a serial or USB-serial tty.</summary>
    public const string SerialKind = "serial";

    /// <summary>Kind of a monitor that sends HL7 to the gateway's MLLP listener.</summary>
    public const string Hl7Kind = "hl7";

    /// <summary>Codec of a serial device that sends HL7 v2 ORU^R01 in MLLP blocks and reads the ACKs on the same port.</summary>
    public const string Hl7Codec = "hl7";

    /// <summary>Codecs a serial device can use.</summary>
    public static readonly IReadOnlyList<string> Codecs = ["masimo", "line", Hl7Codec];

    /// <summary>
    /// For <c>serial</c>: <c>masimo</c> (Masimo ASCII 1), <c>line</c> (configured line device) or <c>hl7</c>
    /// (HL7 v2 ORU^R01 over MLLP, ACKed on the same port; every message belongs to the device's chair).
    /// </summary>
    public string Codec { get; set; } = "masimo";

    /// <summary>For <c>serial</c> with codec <c>line</c>: the line-device configuration, inline or as a file path.</summary>
    public JsonElement? LineConfig { get; set; }

    /// <summary>For <c>serial</c>: the tty, for example <c>/dev/ttyUSB0</c> or a <c>/dev/serial/by-id/...</c> link.</summary>
    public string? Port { get; set; }

    /// <summary>For <c>serial</c>: baud rate.</summary>
    public int Baud { get; set; } = SerialPortSettings.DefaultBaudRate;

    /// <summary>For <c>serial</c>: data bits, 7 or 8.</summary>
    public int DataBits { get; set; } = 8;

    /// <summary>For <c>serial</c>: <c>none</c>, <c>even</c> or <c>odd</c>.</summary>
    public string Parity { get; set; } = "none";

    /// <summary>For <c>serial</c>: stop bits, 1 or 2.</summary>
    public int StopBits { get; set; } = 1;

    /// <summary>For <c>serial</c>: <c>none</c>, <c>rtsCts</c> or <c>xonXoff</c>.</summary>
    public string FlowControl { get; set; } = "none";

    /// <summary>For <c>serial</c>: IANA time zone of the monitor's clock (default: the gateway's).</summary>
    public string? TimeZone { get; set; }

    /// <summary>For <c>hl7</c>: the key the <c>hl7.chairRule</c> field must equal (bed, MSH-3 application or OBX-18 equipment id).</summary>
    public string? Match { get; set; }

    /// <summary>The port settings of a validated serial device.</summary>
    /// <param name="configPath">Where the device sits in the configuration (<c>chairs[0].devices[1]</c>), named in port errors.</param>
    public SerialPortSettings ToPortSettings(string? configPath = null) => new()
    {
        Path = Port ?? "",
        BaudRate = Baud,
        BaudRateKey = configPath is null ? "baud" : $"{configPath}.baud",
        DataBits = DataBits,
        StopBits = StopBits,
        Parity = Enum.Parse<Vitals.Devices.Serial.Parity>(Parity, ignoreCase: true),
        FlowControl = Enum.Parse<Vitals.Devices.Serial.FlowControl>(FlowControl, ignoreCase: true),
    };

    /// <summary>The monitor clock's time zone.</summary>
    public TimeZoneInfo DeviceTimeZone() => ResolveZone(TimeZone);

    /// <summary>Resolves an IANA id, or the gateway's zone when none is given.</summary>
    public static TimeZoneInfo ResolveZone(string? id) =>
        id is null ? TimeZoneInfo.Local : TimeZoneInfo.FindSystemTimeZoneById(id);

    private void ValidateFeed(string path, List<string> errors)
    {
        if (Kind == Hl7Kind)
        {
            if (string.IsNullOrWhiteSpace(Match))
            {
                errors.Add($"{path}.match: an hl7 device needs the key its messages carry. Fix: set it to the PV1-3 bed, MSH-3 sending application or OBX-18 equipment id, per hl7.chairRule (default pv1Bed), for example \"match\": \"BED3\".");
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(Port) || !Port.StartsWith('/'))
        {
            errors.Add($"{path}.port: '{Port}' is not a device path. Fix: set it to the tty, for example \"/dev/ttyUSB0\" or a stable \"/dev/serial/by-id/...\" link (`ls /dev/serial/by-id`).");
        }

        if (!Codecs.Contains(Codec))
        {
            errors.Add($"{path}.codec: '{Codec}' is not a serial codec. Fix: use masimo (Masimo ASCII 1), line (a configured line device with lineConfig) or hl7 (HL7 v2 ORU^R01 in MLLP blocks, ACKed on the same port).");
        }
        else if (Codec == "line" && LineConfig is null)
        {
            errors.Add($"{path}.lineConfig: codec 'line' needs a line-device configuration. Fix: write it inline as an object, or give the path of its JSON file.");
        }
        else if (LineConfig is { } config && config.ValueKind is not (JsonValueKind.Object or JsonValueKind.String))
        {
            errors.Add($"{path}.lineConfig: must be an object or a file path string. Fix: write {{ \"format\": \"keyValue\", \"fields\": [ ... ] }} or \"nonin.json\".");
        }
        else if (Codec != "line" && LineConfig is not null)
        {
            errors.Add($"{path}.lineConfig: only used with codec 'line'. Fix: remove it or set \"codec\": \"line\".");
        }

        if (Baud is < SerialPortSettings.MinBaudRate or > SerialPortSettings.MaxBaudRate)
        {
            errors.Add($"{path}.baud: {Baud} is out of range. Fix: use {SerialPortSettings.MinBaudRate} to {SerialPortSettings.MaxBaudRate} as set on the monitor (Masimo: 9600).");
        }

        if (DataBits is not (7 or 8))
        {
            errors.Add($"{path}.dataBits: {DataBits} is not supported. Fix: use 7 or 8.");
        }

        if (StopBits is not (1 or 2))
        {
            errors.Add($"{path}.stopBits: {StopBits} is not supported. Fix: use 1 or 2.");
        }

        if (!Enum.TryParse<Vitals.Devices.Serial.Parity>(Parity, ignoreCase: true, out _) || int.TryParse(Parity, out _))
        {
            errors.Add($"{path}.parity: '{Parity}' is not a parity. Fix: use none, even or odd.");
        }

        if (!Enum.TryParse<Vitals.Devices.Serial.FlowControl>(FlowControl, ignoreCase: true, out _) || int.TryParse(FlowControl, out _))
        {
            errors.Add($"{path}.flowControl: '{FlowControl}' is not a flow control. Fix: use none, rtsCts or xonXoff.");
        }

        if (TimeZone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
        {
            errors.Add($"{path}.timeZone: '{TimeZone}' is not a known time zone. Fix: use an IANA id such as Europe/London or UTC.");
        }
    }
}
