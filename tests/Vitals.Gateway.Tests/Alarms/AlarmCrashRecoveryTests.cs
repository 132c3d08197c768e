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

        using (var first = await VitalsProcess.RunAsync(config, dir))
        {
            await using (var mllp = await MllpClient.ConnectAsync("127.0.0.1", hl7Port, TimeSpan.FromSeconds(10)))
            {
                await SendNibpAsync(mllp, "BED1", 70, "M1"); // high
                await SendNibpAsync(mllp, "BED2", 70, "M2"); // high, acknowledged below
                await SendNibpAsync(mllp, "BED3", 85, "M3"); // medium, left active
                await WaitUntil(async () => (await first.GetJsonAsync<List<AlarmView>>("api/alarms")).Count(a => a.Rule == "nibp_sys.low") == 3);
                await SendNibpAsync(mllp, "BED1", 120, "M4"); // condition over, unacknowledged high: latched
            }

            await WaitUntil(async () => (await first.GetJsonAsync<StatusView>("api/chairs/chair-1/status")).Alarms.Any(a => a.Latched));
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

        using var second = await VitalsProcess.RunAsync(config, dir);
        var latched = Assert.Single((await second.GetJsonAsync<StatusView>("api/chairs/chair-1/status")).Alarms);
        Assert.Equal(("nibp_sys.low", "high", true, false), (latched.Rule, latched.Priority, latched.Latched, latched.Acknowledged));
        var acknowledged = Assert.Single((await second.GetJsonAsync<StatusView>("api/chairs/chair-2/status")).Alarms);
        Assert.Equal(("high", true, "admin"), (acknowledged.Priority, acknowledged.Acknowledged, acknowledged.AcknowledgedBy));
        var active = Assert.Single((await second.GetJsonAsync<StatusView>("api/chairs/chair-3/status")).Alarms);
        Assert.Equal(("medium", false, false), (active.Priority, active.Latched, active.Acknowledged));
        var paused = await second.GetJsonAsync<StatusView>("api/chairs/chair-4/status");
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
}
