using Vitals.Mqtt;

namespace Vitals.Web;

/// <summary>The <c>mqtt</c> section of the config file (or <c>--mqtt URL</c> and friends): the broker the gateway reads and publishes through.</summary>
public sealed class MqttOptions
{
    /// <summary>Default first topic level: <c>vitals/&lt;site&gt;/&lt;chair&gt;/obs</c>.</summary>
    public const string DefaultTopicPrefix = "vitals";

    /// <summary>Default for <see cref="StateRepublishSeconds"/>.</summary>
    public const int DefaultStateRepublishSeconds = 10;

    /// <summary>Largest accepted <see cref="StateRepublishSeconds"/>: an hour.</summary>
    public const int MaxStateRepublishSeconds = 3600;

    /// <summary>Environment variable read for the broker password when the URL names a user but no password.</summary>
    public const string DefaultPasswordEnv = "VITALS_MQTT_PASSWORD";

    /// <summary><c>mqtt://[user@]host[:port]</c> or <c>mqtts://...</c>; a password here works but belongs in <see cref="PasswordEnv"/>.</summary>
    public string Url { get; set; } = "";

    /// <summary>PEM file of the CA that signed the broker certificate (mqtts); default: the system trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>Client certificate (PEM with <see cref="ClientKeyFile"/>, or PKCS#12) for brokers that require one.</summary>
    public string? ClientCertFile { get; set; }

    /// <summary>PEM private key of <see cref="ClientCertFile"/>.</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>First topic level of every topic the gateway uses.</summary>
    public string TopicPrefix { get; set; } = DefaultTopicPrefix;

    /// <summary>Environment variable holding the password (default <see cref="DefaultPasswordEnv"/>); never logged.</summary>
    public string? PasswordEnv { get; set; }

    /// <summary>MQTT client id; default <c>vitals-&lt;site&gt;-&lt;random&gt;</c> so two gateways never take over each other's session.</summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// Every chair's retained state (and the gateway's <c>online</c> status) is published again this often even when
    /// unchanged, so a subscriber that cannot rely on retained messages (a broker cluster that keeps them per node, such
    /// as RabbitMQ's MQTT plugin; a bridge that came back) still converges; 0 publishes on change and at connect only.
    /// </summary>
    public int StateRepublishSeconds { get; set; } = DefaultStateRepublishSeconds;

    /// <summary>Checks every key, one message per problem naming it (<c>mqtt.url</c>, ...) and the fix.</summary>
    public void Validate(string site, Func<string, string?> environment, List<string> errors)
    {
        try
        {
            ToClientOptions(site, environment);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            errors.Add(e.Message);
        }

        var prefix = TopicPrefix ?? "";
        if (prefix.Length == 0 || prefix.Length > 100 || prefix.StartsWith('/') || prefix.EndsWith('/') || prefix.StartsWith('$')
            || prefix.Contains("//", StringComparison.Ordinal) || prefix.Any(c => c is '+' or '#' || char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            errors.Add($"mqtt.topicPrefix: '{prefix}' is not a usable topic prefix. Fix: use topic levels without '+', '#', spaces, a leading '$' or empty levels, such as \"{DefaultTopicPrefix}\" or \"clinic/vitals\".");
        }

        if (ClientId is not null && (ClientId.Length is 0 or > 64 || ClientId.Any(char.IsControl)))
        {
            errors.Add("mqtt.clientId: must be 1-64 printable characters. Fix: remove the key to use vitals-<site>-<random>.");
        }

        if (StateRepublishSeconds is < 0 or > MaxStateRepublishSeconds)
        {
            errors.Add($"mqtt.stateRepublishSeconds: {StateRepublishSeconds} is out of range. Fix: use whole seconds from 1 to {MaxStateRepublishSeconds} (default {DefaultStateRepublishSeconds}), or 0 to publish state only when it changes.");
        }
    }

    /// <summary>Builds the client options; throws <see cref="FormatException"/>/<see cref="ArgumentException"/> whose message names the key.</summary>
    public MqttClientOptions ToClientOptions(string site, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (string.IsNullOrWhiteSpace(Url))
        {
            throw new FormatException("mqtt.url: empty. Fix: set it to mqtt://host:1883 or mqtts://host:8883 (or pass --mqtt URL).");
        }

        MqttClientOptions client;
        try
        {
            client = MqttUrl.Parse(Url);
        }
        catch (FormatException e)
        {
            throw new FormatException($"mqtt.url: {e.Message} Fix: use mqtt://[user@]host[:port] or mqtts://[user@]host[:port].", e);
        }

        if (client.Password is not null && PasswordEnv is not null)
        {
            throw new FormatException($"mqtt.passwordEnv: the URL already has a password. Fix: remove it from mqtt.url and keep it in {PasswordEnv}.");
        }

        if (client.Password is null && client.Username is not null)
        {
            var name = PasswordEnv ?? DefaultPasswordEnv;
            var password = environment(name);
            if (password is null && PasswordEnv is not null)
            {
                throw new FormatException($"mqtt.passwordEnv: environment variable {name} is not set. Fix: export {name} with the broker password.");
            }

            client = client with { Password = password };
        }
        else if (PasswordEnv is not null && client.Username is null)
        {
            throw new FormatException("mqtt.passwordEnv: a password needs a user name. Fix: put the user in the URL, mqtt://user@host.");
        }

        if (!client.UseTls && (CaFile ?? ClientCertFile ?? ClientKeyFile) is not null)
        {
            throw new FormatException("mqtt.caFile/clientCertFile/clientKeyFile: TLS files need a TLS connection. Fix: use an mqtts:// URL.");
        }

        CheckFile("mqtt.caFile", CaFile);
        CheckFile("mqtt.clientCertFile", ClientCertFile);
        CheckFile("mqtt.clientKeyFile", ClientKeyFile);
        if (ClientKeyFile is not null && ClientCertFile is null)
        {
            throw new FormatException("mqtt.clientKeyFile: a key without a certificate. Fix: also set mqtt.clientCertFile (--mqtt-cert).");
        }

        return client with
        {
            CaFile = CaFile,
            ClientCertificateFile = ClientCertFile,
            ClientKeyFile = ClientKeyFile,
            ClientId = ClientId ?? $"vitals-{site}-{Guid.NewGuid().ToString("N")[..6]}",
        };
    }

    /// <summary>The broker as <c>host:port</c>, for logs and status (never the user or password).</summary>
    public string Broker()
    {
        try
        {
            var o = MqttUrl.Parse(Url);
            return $"{(o.UseTls ? "mqtts" : "mqtt")}://{o.Host}:{o.Port}";
        }
        catch (FormatException)
        {
            return "(invalid url)";
        }
    }

    private static void CheckFile(string key, string? path)
    {
        if (path is not null && !File.Exists(path))
        {
            throw new FormatException($"{key}: file '{path}' does not exist. Fix: give the path of a readable PEM file.");
        }
    }
}
