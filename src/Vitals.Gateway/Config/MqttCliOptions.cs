using System.CommandLine;

namespace Vitals.Gateway.Config;

/// <summary><c>--mqtt URL</c>, <c>--mqtt-ca</c>, <c>--mqtt-cert</c>, <c>--mqtt-key</c>, shared by <c>demo</c> and <c>run</c>; they override the config file's <c>mqtt</c> section.</summary>
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

    /// <summary>Copies any given option into <paramref name="options"/>, creating its <c>mqtt</c> section when needed.</summary>
    public void Apply(ParseResult parse, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(options);
        var (u, c, k, s) = (parse.GetValue(url), parse.GetValue(cert), parse.GetValue(key), parse.GetValue(ca));
        if (u is null && c is null && k is null && s is null)
        {
            return;
        }

        options.Mqtt ??= new MqttOptions();
        options.Mqtt.Url = u ?? options.Mqtt.Url;
        options.Mqtt.CaFile = s ?? options.Mqtt.CaFile;
        options.Mqtt.ClientCertFile = c ?? options.Mqtt.ClientCertFile;
        options.Mqtt.ClientKeyFile = k ?? options.Mqtt.ClientKeyFile;
    }
}
