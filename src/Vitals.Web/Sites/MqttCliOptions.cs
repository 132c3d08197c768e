using System.CommandLine;

namespace Vitals.Web;

/// <summary><c>--mqtt URL</c>, <c>--mqtt-ca</c>, <c>--mqtt-cert</c>, <c>--mqtt-key</c>, shared by <c>demo</c>, <c>run</c> and <c>central</c>; they override the config file's <c>mqtt</c> section.</summary>
public sealed class MqttCliOptions
{
    private readonly Option<string?> url = new("--mqtt")
    {
        Description = "MQTT broker for monitor feeds in and alarms/state out: mqtt://[user@]host[:port] or mqtts://... "
            + $"The password comes from {MqttOptions.DefaultPasswordEnv} (or mqtt.passwordEnv), never logged.",
    };

    private readonly Option<string?> ca = new("--mqtt-ca") { Description = "PEM file of the CA that signed the broker's certificate (mqtts)." };

    private readonly Option<string?> cert = new("--mqtt-cert") { Description = "Client certificate (PEM, with --mqtt-key, or PKCS#12) for brokers that require one." };

    private readonly Option<string?> key = new("--mqtt-key") { Description = "PEM private key of --mqtt-cert." };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(url);
        command.Options.Add(ca);
        command.Options.Add(cert);
        command.Options.Add(key);
    }

    /// <summary>Copies any given option into <paramref name="current"/>, creating an <c>mqtt</c> section when needed; returns the section.</summary>
    public MqttOptions? Apply(ParseResult parse, MqttOptions? current)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var (u, c, k, s) = (parse.GetValue(url), parse.GetValue(cert), parse.GetValue(key), parse.GetValue(ca));
        if (u is null && c is null && k is null && s is null)
        {
            return current;
        }

        var mqtt = current ?? new MqttOptions();
        mqtt.Url = u ?? mqtt.Url;
        mqtt.CaFile = s ?? mqtt.CaFile;
        mqtt.ClientCertFile = c ?? mqtt.ClientCertFile;
        mqtt.ClientKeyFile = k ?? mqtt.ClientKeyFile;
        return mqtt;
    }
}
