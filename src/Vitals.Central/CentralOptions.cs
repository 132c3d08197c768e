using Vitals.Storage.Influx;

namespace Vitals.Central;

/// <summary>Settings of <c>vitals central</c>, from the command line; validated at startup.</summary>
public sealed class CentralOptions : IWebAccessOptions
{
    /// <summary>Default listen address: loopback, one port above the gateway's default.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5090";

    /// <summary>Default directory of central's own store (users, sessions, audit).</summary>
    public const string DefaultData = "./central-data";

    /// <summary>Default seconds without any message from a site before it counts as offline (three of the gateway's 10 s state republishes).</summary>
    public const int DefaultSilentSeconds = 30;

    /// <summary>Default seconds an alarm may stay unacknowledged at its site before central highlights it.</summary>
    public const int DefaultUnackedSeconds = 120;

    /// <summary>Largest message payload central reads; larger ones are counted and skipped.</summary>
    public const int DefaultMaxPayloadBytes = 256 * 1024;

    /// <summary>Where the overview and API listen (<c>;</c>-separated).</summary>
    public string Urls { get; set; } = DefaultUrls;

    /// <summary>Directory of central's SQLite store.</summary>
    public string Data { get; set; } = DefaultData;

    /// <summary>The broker (or cluster node) every site's gateway publishes to, directly or through a bridge.</summary>
    public MqttOptions Mqtt { get; set; } = new();

    /// <summary>
    /// Client id of central's persistent broker session; null: <c>vitals-central-&lt;random&gt;</c>, generated once and kept
    /// in <see cref="Data"/>. One id per central: a second client with the same id takes the session over.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>The shared InfluxDB the sites forward to (trends on the chair page); null: live values only.</summary>
    public string? Influx { get; set; }

    /// <summary>A site that sends nothing (no state, no status) for this long is offline.</summary>
    public int SilentSeconds { get; set; } = DefaultSilentSeconds;

    /// <summary>An alarm unacknowledged at its site for this long is highlighted.</summary>
    public int UnackedSeconds { get; set; } = DefaultUnackedSeconds;

    /// <summary>Largest payload read; see <see cref="DefaultMaxPayloadBytes"/>.</summary>
    public int MaxPayloadBytes { get; set; } = DefaultMaxPayloadBytes;

    /// <inheritdoc/>
    public int LoginAttemptsPerMinute { get; set; } = 10;

    /// <summary>Central has no demo mode: it shows real sites, so every page needs a login.</summary>
    public bool Demo => false;

    /// <summary>Checks every setting; one message per problem naming the option and the fix.</summary>
    public List<string> Validate(Func<string, string?> environment)
    {
        var errors = new List<string>();
        Mqtt.Validate("central", environment, errors);
        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
            {
                errors.Add($"--urls: '{url}' is not an http(s) URL. Fix: use a form like {DefaultUrls}.");
            }
        }

        if (string.IsNullOrWhiteSpace(Data))
        {
            errors.Add($"--data: must name a directory. Fix: pass a writable directory such as {DefaultData}.");
        }

        if (ClientId is not null && (ClientId.Length is 0 or > 64 || ClientId.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
        {
            errors.Add("--mqtt-client-id: must be 1-64 printable characters without spaces. Fix: leave it out to use an id generated once and kept in --data.");
        }

        if (SilentSeconds is < 5 or > 3600)
        {
            errors.Add($"--site-silent-after: {SilentSeconds} is out of range. Fix: use 5 to 3600 seconds (default {DefaultSilentSeconds}; above the gateways' state republish interval).");
        }

        if (UnackedSeconds is < 10 or > 86_400)
        {
            errors.Add($"--unacked-after: {UnackedSeconds} is out of range. Fix: use 10 to 86400 seconds (default {DefaultUnackedSeconds}).");
        }

        if (Influx is { } influx)
        {
            try
            {
                InfluxEndpoint.Parse(influx, environment);
            }
            catch (InfluxConfigurationException e)
            {
                errors.Add($"{e.Message} Fix: use http://host:8086/?db=NAME (1.x) or http://host:8086/?org=ORG&bucket=BUCKET (2.x).");
            }
        }

        return errors;
    }
}
