namespace Vitals.Mqtt;

/// <summary>Parses <c>mqtt://[user[:pass]@]host[:port]</c> and <c>mqtts://...</c> into <see cref="MqttClientOptions"/>.</summary>
public static class MqttUrl
{
    /// <summary>
    /// Parses <paramref name="url"/>. When <paramref name="passwordEnvironmentVariable"/> is given, the password is read
    /// from that environment variable (and must be set) so it stays out of command lines and config files; a password
    /// in the URL is then an error, to avoid two sources of truth. User and password may be percent-encoded.
    /// </summary>
    /// <param name="url">The broker URL; default ports are 1883 (mqtt) and 8883 (mqtts).</param>
    /// <param name="passwordEnvironmentVariable">Name of an environment variable holding the password, or null.</param>
    /// <param name="getEnvironmentVariable">Lookup used for the variable; defaults to <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    public static MqttClientOptions Parse(string url, string? passwordEnvironmentVariable = null, Func<string, string?>? getEnvironmentVariable = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new FormatException($"\"{Redact(url)}\" is not an MQTT URL; expected mqtt://[user:pass@]host[:port] or mqtts://...");
        }

        var tls = uri.Scheme switch
        {
            "mqtt" => false,
            "mqtts" => true,
            _ => throw new FormatException($"MQTT URL scheme must be mqtt or mqtts, not \"{uri.Scheme}\"."),
        };

        if (string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException("MQTT URL has no host.");
        }

        if (uri.AbsolutePath is not ("/" or "") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new FormatException("MQTT URL must not have a path, query or fragment.");
        }

        string? user = null;
        string? password = null;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }

        if (passwordEnvironmentVariable is not null)
        {
            if (password is not null)
            {
                throw new FormatException($"MQTT URL has a password and {passwordEnvironmentVariable} was also named; use one.");
            }

            password = (getEnvironmentVariable ?? Environment.GetEnvironmentVariable)(passwordEnvironmentVariable)
                ?? throw new FormatException($"Environment variable {passwordEnvironmentVariable} for the MQTT password is not set.");
            if (user is null)
            {
                throw new FormatException("An MQTT password needs a user name in the URL (mqtt://user@host).");
            }
        }

        // IPv6 hosts come back bracketed from Uri.Host; sockets want them bare.
        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        return new MqttClientOptions
        {
            Host = host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? (tls ? MqttClientOptions.DefaultTlsPort : MqttClientOptions.DefaultPort) : uri.Port,
            UseTls = tls,
            Username = user,
            Password = password,
        };
    }

    /// <summary>Hides anything before '@' so error messages never echo a password.</summary>
    private static string Redact(string url)
    {
        var at = url.LastIndexOf('@');
        if (at < 0)
        {
            return url;
        }

        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var start = scheme >= 0 && scheme < at ? scheme + 3 : 0;
        return url[..start] + "***" + url[at..];
    }
}
