using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Gateway.Alarms;
using Vitals.Simulator;
using Xunit.Abstractions;

namespace Vitals.Gateway.Tests.Alarms;

/// <summary>
/// The gateway as a real process, killed with SIGKILL (no shutdown, no final save) and started again: the alarm
/// picture comes back from the last saved engine state. Readings arrive over HL7/MLLP, so the test decides every value.
/// </summary>
public sealed class AlarmCrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-crash-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task GatewayProcess_Sigkilled_ActiveLatchedAcknowledgedAlarmsAndPauseAreRestored()
    {
        var hl7Port = FreePort();
        var chairs = string.Join(",", Enumerable.Range(1, 4).Select(i =>
            $$"""{ "id": "chair-{{i}}", "devices": [ { "id": "b40-{{i}}", "kind": "hl7", "match": "BED{{i}}" } ] }"""));
        var config = Path.Combine(dir, "vitals.json");
        await File.WriteAllTextAsync(config, $$"""
            { "site": "crash-test", "hl7": { "listen": "127.0.0.1:{{hl7Port}}", "chairRule": "pv1Bed", "timeZone": "UTC" }, "chairs": [ {{chairs}} ] }
            """);

        using (var first = await GatewayProcess.StartAsync(config, dir))
        {
            await using (var mllp = await MllpClient.ConnectAsync("127.0.0.1", hl7Port, TimeSpan.FromSeconds(10)))
            {
                await SendNibpAsync(mllp, "BED1", 70, "M1"); // high
                await SendNibpAsync(mllp, "BED2", 70, "M2"); // high, acknowledged below
                await SendNibpAsync(mllp, "BED3", 85, "M3"); // medium, left active
                await WaitUntil(async () => (await first.AlarmsAsync()).Count(a => a.Rule == "nibp_sys.low") == 3);
                await SendNibpAsync(mllp, "BED1", 120, "M4"); // condition over, unacknowledged high: latched
            }

            await WaitUntil(async () => (await first.StatusAsync("chair-1")).Alarms.Any(a => a.Latched));
            using (var ack = await first.SendAsync(HttpMethod.Post, "api/chairs/chair-2/alarms/nibp_sys.low/acknowledge"))
            {
                Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
            }

            using (var pause = await first.SendAsync(HttpMethod.Post, "api/chairs/chair-4/pause", new { seconds = 120 }))
            {
                Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            }

            // The last command answered; how long until the store holds it is the bound on what a crash may lose.
            var answered = Stopwatch.StartNew();
            await WaitUntil(() => Task.FromResult(SavedStateHoldsEverything()));
            output.WriteLine($"engine state on disk {answered.Elapsed.TotalMilliseconds:0} ms after the last command was answered");

            first.Kill();
        }

        using var second = await GatewayProcess.StartAsync(config, dir);
        var latched = Assert.Single((await second.StatusAsync("chair-1")).Alarms);
        Assert.Equal(("nibp_sys.low", "high", true, false), (latched.Rule, latched.Priority, latched.Latched, latched.Acknowledged));
        var acknowledged = Assert.Single((await second.StatusAsync("chair-2")).Alarms);
        Assert.Equal(("high", true, "admin"), (acknowledged.Priority, acknowledged.Acknowledged, acknowledged.AcknowledgedBy));
        var active = Assert.Single((await second.StatusAsync("chair-3")).Alarms);
        Assert.Equal(("medium", false, false), (active.Priority, active.Latched, active.Acknowledged));
        var paused = await second.StatusAsync("chair-4");
        Assert.InRange(paused.PauseRemainingSeconds, 1, 120);
    }

    private static async Task SendNibpAsync(MllpClient mllp, string bed, double sys, string controlId)
    {
        var message = Hl7OruWriter.Format([new SimReading(Sign.NibpSys, sys, TimeSpan.Zero)], DateTimeOffset.UtcNow, bed, controlId);
        var ack = await mllp.SendAsync(Encoding.UTF8.GetBytes(message), TimeSpan.FromSeconds(10));
        Assert.True(Hl7Ack.TryParse(ack, out var parsed) && parsed!.Code == Hl7AckCode.Accept, Encoding.UTF8.GetString(ack));
    }

    /// <summary>True once the saved engine state has chair-1 latched, chair-2 acknowledged, chair-3 active and chair-4 paused.</summary>
    private bool SavedStateHoldsEverything()
    {
        using var conn = new SqliteConnection($"Data Source={Path.Combine(dir, "vitals.db")};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT value FROM config WHERE key = $key;";
        cmd.Parameters.AddWithValue("$key", AlarmService.SnapshotKey);
        if (cmd.ExecuteScalar() is not string json)
        {
            return false;
        }

        using var doc = JsonDocument.Parse(json);
        var alarms = doc.RootElement.GetProperty("alarms").EnumerateArray().ToDictionary(a => a.GetProperty("chair").GetString()!);
        return alarms.TryGetValue("chair-1", out var c1) && !c1.GetProperty("conditionActive").GetBoolean()
            && alarms.TryGetValue("chair-2", out var c2) && c2.GetProperty("acknowledged").GetBoolean()
            && alarms.ContainsKey("chair-3")
            && doc.RootElement.GetProperty("chairs").EnumerateArray().Any(c => c.GetProperty("chair").GetString() == "chair-4"
                && c.TryGetProperty("pausedUntil", out var until) && until.ValueKind == JsonValueKind.String);
    }

    private static Task WaitUntil(Func<Task<bool>> condition) => GatewayHost.WaitUntil(Generous, condition);

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed record AlarmView(string Chair, string Rule, string Priority, bool Latched, bool Acknowledged, string? AcknowledgedBy);

    private sealed record StatusView(List<AlarmView> Alarms, int PauseRemainingSeconds);

    /// <summary><c>vitals run</c> as a child process on a free port, signed in as admin.</summary>
    private sealed class GatewayProcess : IDisposable
    {
        private readonly Process process;
        private readonly HttpClient http;

        private GatewayProcess(Process process, HttpClient http)
        {
            this.process = process;
            this.http = http;
        }

        public static async Task<GatewayProcess> StartAsync(string config, string data)
        {
            var port = FreePort();
            var psi = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { Path.Combine(AppContext.BaseDirectory, "vitals.dll"), "run", "--config", config, "--data", data, "--urls", $"http://127.0.0.1:{port}" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["VITALS_ADMIN_PASSWORD"] = GatewayHost.AdminPassword },
            };
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
                Timeout = TimeSpan.FromSeconds(30),
            };
            var gateway = new GatewayProcess(process, http);

            // A child process starting the whole gateway on a busy 2-core machine gets more time than an in-process one.
            await WaitUntil(async () =>
            {
                Assert.False(process.HasExited, $"the gateway exited with code {(process.HasExited ? process.ExitCode : 0)}");
                try
                {
                    using var health = await http.GetAsync(new Uri("healthz", UriKind.Relative));
                    return health.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            });
            using var login = await gateway.SendAsync(HttpMethod.Post, "api/auth/login", new { name = "admin", password = GatewayHost.AdminPassword });
            Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
            return gateway;
        }

        public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null) => GatewayHost.SendAsync(http, method, path, body);

        public async Task<List<AlarmView>> AlarmsAsync() =>
            JsonSerializer.Deserialize<List<AlarmView>>(await http.GetStringAsync(new Uri("api/alarms", UriKind.Relative)), Json.Options)!;

        public async Task<StatusView> StatusAsync(string chair) =>
            JsonSerializer.Deserialize<StatusView>(await http.GetStringAsync(new Uri($"api/chairs/{chair}/status", UriKind.Relative)), Json.Options)!;

        /// <summary>SIGKILL: no shutdown hook runs, nothing is flushed.</summary>
        public void Kill()
        {
            process.Kill();
            process.WaitForExit();
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                Kill();
            }

            http.Dispose();
            process.Dispose();
        }
    }
}
