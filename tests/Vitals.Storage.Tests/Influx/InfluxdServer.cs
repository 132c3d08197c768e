using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Vitals.Storage.Tests.Influx;

/// <summary>
/// A real influxd 1.6 on loopback free ports in a temp dir, started and killed by the test (shared with
/// the benchmark). No xunit dependency on purpose.
/// </summary>
public sealed class InfluxdServer : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };
    private Process? _process;

    public InfluxdServer(bool authEnabled = false, bool unlimitedBody = false)
    {
        AuthEnabled = authEnabled;
        Directory = Path.Combine(Path.GetTempPath(), "vitals-influxd-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        HttpPort = FreePort();
        RpcPort = FreePort();
        File.WriteAllText(ConfigPath, $"""
            reporting-enabled = false
            bind-address = "127.0.0.1:{RpcPort}"
            [meta]
              dir = "{Directory}/meta"
            [data]
              dir = "{Directory}/data"
              wal-dir = "{Directory}/wal"
              query-log-enabled = false
            [http]
              bind-address = "127.0.0.1:{HttpPort}"
              auth-enabled = {(authEnabled ? "true" : "false")}
              log-enabled = false
              max-body-size = {(unlimitedBody ? 0 : 25000000)}
            [logging]
              level = "error"
            [monitor]
              store-enabled = false
            [continuous_queries]
              enabled = false
            """);
        Start();
    }

    public bool AuthEnabled { get; }

    public string Directory { get; }

    public int HttpPort { get; }

    public int RpcPort { get; }

    public Uri BaseUri => new($"http://127.0.0.1:{HttpPort}/");

    public bool IsRunning => _process is { HasExited: false };

    private string ConfigPath => Path.Combine(Directory, "influxd.conf");

    public static bool Available => File.Exists("/usr/bin/influxd");

    /// <summary>The --influx URL for a database.</summary>
    public string Url(string db) => $"http://127.0.0.1:{HttpPort}/?db={db}";

    public void Start()
    {
        if (IsRunning)
        {
            return;
        }

        var psi = new ProcessStartInfo("/usr/bin/influxd", ["-config", ConfigPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(psi) ?? throw new InvalidOperationException("influxd did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"influxd exited with {_process.ExitCode} (config {ConfigPath})");
            }

            try
            {
                using var response = _http.GetAsync(new Uri(BaseUri, "ping")).GetAwaiter().GetResult();
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException($"influxd did not answer /ping within {StartTimeout}");
    }

    /// <summary>Kills influxd (SIGKILL) and waits for it to exit; the data dir stays.</summary>
    public void Kill()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit(10_000);
        _process.Dispose();
        _process = null;
    }

    /// <summary>Runs InfluxQL with POST /query and returns the JSON.</summary>
    public async Task<JsonDocument> QueryAsync(string query, string? db = null, string? user = null, string? password = null)
    {
        var form = new Dictionary<string, string> { ["q"] = query };
        if (db is not null)
        {
            form["db"] = db;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUri, "query")) { Content = new FormUrlEncodedContent(form) };
        if (user is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"query failed ({(int)response.StatusCode}): {text}");
        }

        return JsonDocument.Parse(text);
    }

    public async Task CreateDatabaseAsync(string db, string? user = null, string? password = null)
    {
        using var _ = await QueryAsync($"CREATE DATABASE \"{db}\"", null, user, password);
    }

    /// <summary>First value of the first series' first row as a long (count queries); 0 when there is no series.</summary>
    public async Task<long> ScalarAsync(string db, string query)
    {
        using var doc = await QueryAsync(query, db);
        var result = doc.RootElement.GetProperty("results")[0];
        if (result.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException(error.GetString());
        }

        if (!result.TryGetProperty("series", out var series))
        {
            return 0;
        }

        return series[0].GetProperty("values")[0][1].GetInt64();
    }

    /// <summary>Rows of a query as column-name dictionaries.</summary>
    public async Task<List<Dictionary<string, JsonElement>>> RowsAsync(string db, string query)
    {
        using var doc = await QueryAsync(query, db);
        var rows = new List<Dictionary<string, JsonElement>>();
        var result = doc.RootElement.GetProperty("results")[0];
        if (!result.TryGetProperty("series", out var series))
        {
            return rows;
        }

        foreach (var s in series.EnumerateArray())
        {
            var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToArray();
            foreach (var values in s.GetProperty("values").EnumerateArray())
            {
                var row = new Dictionary<string, JsonElement>();
                var i = 0;
                foreach (var v in values.EnumerateArray())
                {
                    row[columns[i++]] = v.Clone();
                }

                rows.Add(row);
            }
        }

        return rows;
    }

    public void Dispose()
    {
        Kill();
        _http.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
