using System.Net.Http.Headers;
using System.Text;

namespace Vitals.Storage.Influx;

/// <summary>Which InfluxDB write API an endpoint speaks.</summary>
public enum InfluxApiVersion
{
    /// <summary>InfluxDB 1.x: <c>POST /write?db=&amp;rp=&amp;precision=ms</c>, user and password.</summary>
    V1,

    /// <summary>InfluxDB 2.x/3.x: <c>POST /api/v2/write?org=&amp;bucket=&amp;precision=ms</c>, <c>Authorization: Token</c>.</summary>
    V2,
}

/// <summary>Thrown when an <c>--influx</c> URL or its credentials are unusable; the message names the key to fix.</summary>
public sealed class InfluxConfigurationException(string message) : Exception(message);

/// <summary>
/// Where and how to write: parsed from <c>--influx http://host:port/?db=NAME[&amp;rp=RP]</c> (1.x) or
/// <c>http://host:port/?org=ORG&amp;bucket=BUCKET</c> (2.x/3.x). Credentials never come from the URL
/// (it ends up in shell history, process lists and logs): they come from options or the environment
/// variables <see cref="UsernameVariable"/>, <see cref="PasswordVariable"/>, <see cref="TokenVariable"/>.
/// <see cref="ToString"/> redacts them.
/// </summary>
public sealed class InfluxEndpoint
{
    /// <summary>Environment variable holding the 1.x user name.</summary>
    public const string UsernameVariable = "VITALS_INFLUX_USERNAME";

    /// <summary>Environment variable holding the 1.x password.</summary>
    public const string PasswordVariable = "VITALS_INFLUX_PASSWORD";

    /// <summary>Environment variable holding the 2.x/3.x API token.</summary>
    public const string TokenVariable = "VITALS_INFLUX_TOKEN";

    private InfluxEndpoint(Uri baseAddress, InfluxApiVersion api)
    {
        BaseAddress = baseAddress;
        Api = api;
    }

    /// <summary>Scheme, host, port and path prefix, ending with '/'.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The write API.</summary>
    public InfluxApiVersion Api { get; }

    /// <summary>1.x database.</summary>
    public string? Database { get; private init; }

    /// <summary>1.x retention policy (null = the database default).</summary>
    public string? RetentionPolicy { get; private init; }

    /// <summary>2.x organisation.</summary>
    public string? Org { get; private init; }

    /// <summary>2.x bucket.</summary>
    public string? Bucket { get; private init; }

    /// <summary>1.x user name, if authentication is used.</summary>
    public string? Username { get; private init; }

    /// <summary>1.x password. Never logged.</summary>
    public string? Password { get; private init; }

    /// <summary>2.x/3.x token. Never logged.</summary>
    public string? Token { get; private init; }

    /// <summary>What to call the target in messages: <c>database 'x'</c> or <c>bucket 'y'</c>.</summary>
    public string TargetDescription => Api == InfluxApiVersion.V1
        ? $"database '{Database}'" + (RetentionPolicy is null ? string.Empty : $" (retention policy '{RetentionPolicy}')")
        : $"bucket '{Bucket}' of org '{Org}'";

    /// <summary>Which settings hold the credentials, for error messages.</summary>
    public string CredentialHint => Api == InfluxApiVersion.V1
        ? $"check {UsernameVariable}/{PasswordVariable}"
        : $"check {TokenVariable}";

    /// <summary>The full write URI with <c>precision=ms</c>.</summary>
    public Uri WriteUri
    {
        get
        {
            var query = new StringBuilder();
            if (Api == InfluxApiVersion.V1)
            {
                query.Append("write?db=").Append(Uri.EscapeDataString(Database!));
                if (RetentionPolicy is not null)
                {
                    query.Append("&rp=").Append(Uri.EscapeDataString(RetentionPolicy));
                }
            }
            else
            {
                query.Append("api/v2/write?org=").Append(Uri.EscapeDataString(Org!))
                    .Append("&bucket=").Append(Uri.EscapeDataString(Bucket!));
            }

            query.Append("&precision=ms");
            return new Uri(BaseAddress, query.ToString());
        }
    }

    /// <summary>
    /// The <c>Authorization</c> header for writes and queries: <c>Token</c> for 2.x/3.x, HTTP Basic for 1.x with a user
    /// (1.x accepts Basic or u/p; Basic keeps the password out of URLs and access logs), none otherwise.
    /// </summary>
    public AuthenticationHeaderValue? Authorization()
    {
        if (Api == InfluxApiVersion.V2)
        {
            return new AuthenticationHeaderValue("Token", Token);
        }

        return Username is null ? null : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}")));
    }

    /// <summary>
    /// Parses an <c>--influx</c> URL. Explicit <paramref name="username"/>, <paramref name="password"/>
    /// and <paramref name="token"/> win over <paramref name="environment"/> (default: the process
    /// environment). Throws <see cref="InfluxConfigurationException"/> naming the key at fault.
    /// </summary>
    public static InfluxEndpoint Parse(
        string url,
        Func<string, string?>? environment = null,
        string? username = null,
        string? password = null,
        string? token = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        const string Shapes = "expected http://host:port/?db=NAME[&rp=RP] for InfluxDB 1.x or http://host:port/?org=ORG&bucket=BUCKET for InfluxDB 2.x/3.x";
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new InfluxConfigurationException($"--influx is empty: {Shapes}.");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InfluxConfigurationException($"--influx '{Redact(url)}' is not an http(s) URL: {Shapes}.");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new InfluxConfigurationException(
                $"--influx must not carry credentials in the URL; set {UsernameVariable}/{PasswordVariable} (1.x) or {TokenVariable} (2.x) instead.");
        }

        var query = ParseQuery(uri.Query);
        foreach (var secret in new[] { "u", "p", "token", "password" })
        {
            if (query.ContainsKey(secret))
            {
                throw new InfluxConfigurationException(
                    $"--influx must not carry '{secret}=' in the URL; set {UsernameVariable}/{PasswordVariable} (1.x) or {TokenVariable} (2.x) instead.");
            }
        }

        var path = uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/";
        var baseAddress = new UriBuilder(uri.Scheme, uri.Host, uri.Port, path).Uri;
        var db = Value(query, "db");
        var org = Value(query, "org");
        var bucket = Value(query, "bucket");
        var user = NullIfEmpty(username) ?? NullIfEmpty(environment(UsernameVariable));
        var pass = NullIfEmpty(password) ?? NullIfEmpty(environment(PasswordVariable));
        var tok = NullIfEmpty(token) ?? NullIfEmpty(environment(TokenVariable));

        if (db is not null)
        {
            if (org is not null || bucket is not null)
            {
                throw new InfluxConfigurationException($"--influx has both db= (1.x) and org=/bucket= (2.x): {Shapes}.");
            }

            if ((user is null) != (pass is null))
            {
                var missing = user is null ? UsernameVariable : PasswordVariable;
                throw new InfluxConfigurationException($"InfluxDB 1.x credentials are incomplete: {missing} is not set.");
            }

            return new InfluxEndpoint(baseAddress, InfluxApiVersion.V1)
            {
                Database = db,
                RetentionPolicy = Value(query, "rp"),
                Username = user,
                Password = pass,
            };
        }

        if (org is not null || bucket is not null)
        {
            if (org is null || bucket is null)
            {
                throw new InfluxConfigurationException($"--influx needs both org= and bucket= for InfluxDB 2.x ({(org is null ? "org" : "bucket")} is missing).");
            }

            if (tok is null)
            {
                throw new InfluxConfigurationException($"InfluxDB 2.x needs an API token: set {TokenVariable}.");
            }

            return new InfluxEndpoint(baseAddress, InfluxApiVersion.V2) { Org = org, Bucket = bucket, Token = tok };
        }

        throw new InfluxConfigurationException($"--influx '{Redact(url)}' names no database: {Shapes}.");
    }

    /// <summary>The endpoint without secrets, safe to log.</summary>
    public override string ToString()
    {
        var auth = Api == InfluxApiVersion.V1
            ? (Username is null ? "no auth" : $"user {Username}, password ***")
            : "token ***";
        return $"InfluxDB {(Api == InfluxApiVersion.V1 ? "1.x" : "2.x")} {BaseAddress} {TargetDescription} ({auth})";
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string? Value(Dictionary<string, string> query, string key) =>
        query.TryGetValue(key, out var v) && v.Length > 0 ? v : null;

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString((eq < 0 ? part : part[..eq]).Replace('+', ' '));
            var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            result[key] = value;
        }

        return result;
    }

    private static string Redact(string url)
    {
        // Used in error messages only: keep scheme, host, port and path; drop user info and query.
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return new UriBuilder(uri.Scheme, uri.Host, uri.Port, uri.AbsolutePath).Uri.ToString();
        }

        return "(unparseable URL)";
    }
}
