using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Vitals.Storage.Tests.Influx;

/// <summary>
/// A real influxd 1.6 on loopback in a temp dir, started and killed by the test (shared with the benchmark). It binds
/// port 0 and the port it got is read from its own "Listening on HTTP" log line, so no port picked in advance can be
/// taken by another process before influxd binds it; a restart after <see cref="Kill"/> reuses that port (the forwarder
/// under test keeps its URL). No xunit dependency on purpose.
/// </summary>
public sealed partial class InfluxdServer : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private const int KeptLogLines = 50;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };
    private readonly Queue<string> _log = new();
    private readonly bool _unlimitedBody;
    private Process? _process;

    public InfluxdServer(bool authEnabled = false, bool unlimitedBody = false)
    {
        AuthEnabled = authEnabled;
        _unlimitedBody = unlimitedBody;
        Directory = Path.Combine(Path.GetTempPath(), "vitals-influxd-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        WriteConfig(httpPort: 0);
        Start();
    }

    public bool AuthEnabled { get; }

    public string Directory { get; }

    /// <summary>The HTTP port influxd bound on its first start.</summary>
    public int HttpPort { get; private set; }

    public Uri BaseUri => new($"http://127.0.0.1:{HttpPort}/");

    public bool IsRunning => _process is { HasExited: false };

    private string ConfigPath => Path.Combine(Directory, "influxd.conf");

    public static bool Available => File.Exists("/usr/bin/influxd");

    /// <summary>The --influx URL for a database.</summary>
    public string Url(string db) => $"http://127.0.0.1:{HttpPort}/?db={db}";

    private void WriteConfig(int httpPort)
    {
        // The RPC (backup) port is never used by the tests: port 0 always. Info logging for the "Listening on HTTP" line.
        File.WriteAllText(ConfigPath, $"""
            reporting-enabled = false
            bind-address = "127.0.0.1:0"
            [meta]
              dir = "{Directory}/meta"
            [data]
              dir = "{Directory}/data"
              wal-dir = "{Directory}/wal"
              query-log-enabled = false
            [http]
              bind-address = "127.0.0.1:{httpPort}"
              auth-enabled = {(AuthEnabled ? "true" : "false")}
              log-enabled = false
              max-body-size = {(_unlimitedBody ? 0 : 25000000)}
            [logging]
              level = "info"
            [monitor]
              store-enabled = false
            [continuous_queries]
              enabled = false
            """);
    }

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
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_log)
        {
            _log.Clear();
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("influxd did not start");
        _process.OutputDataReceived += (_, e) => Keep(e.Data, listening);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data, listening);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // drains the output into the log
                throw new InvalidOperationException($"influxd exited with {_process.ExitCode} (config {ConfigPath}): {Log}");
            }

            // Only a port our own influxd reported is pinged: another server on a reused port must never pass for it.
            if (!listening.Task.IsCompleted)
            {
                Thread.Sleep(50);
                continue;
            }

            if (HttpPort == 0)
            {
                HttpPort = listening.Task.Result;
                WriteConfig(HttpPort); // a restart binds the same port
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

        throw new TimeoutException($"influxd did not answer /ping within {StartTimeout}: {Log}");
    }

    private string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join('\n', _log);
            }
        }
    }

    // influxd 1.6: msg="Listening on HTTP" log_id=... service=httpd addr=127.0.0.1:41329 https=false
    [GeneratedRegex(@"msg=""Listening on HTTP"".* addr=127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex ListeningLine();

    private void Keep(string? line, TaskCompletionSource<int> listening)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Enqueue(line);
            if (_log.Count > KeptLogLines)
            {
                _log.Dequeue();
            }
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            listening.TrySetResult(int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
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
}
