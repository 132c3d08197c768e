using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Gateway.Alarms;
using Vitals.Simulator;
using Xunit.Abstractions;

namespace Vitals.Gateway.Tests.Alarms;

/// <summary>
/// The gateway as a real process, killed with SIGKILL (no shutdown, no final save) and started again: the alarm
/// picture comes back from the last saved engine state, and the readings rate rules compare with from the store.
/// Readings arrive over HL7/MLLP, so the test decides every value.
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
    public async Task GatewayProcess_Sigkilled_AlarmsPauseSessionBaselineAndRateHistoryAreRestored()
    {
        var chairs = string.Join(",", Enumerable.Range(1, 5).Select(i =>
            $$"""{ "id": "chair-{{i}}", "devices": [ { "id": "b40-{{i}}", "kind": "hl7", "match": "BED{{i}}" } ] }"""));
        var config = Path.Combine(dir, "vitals.json");
        await File.WriteAllTextAsync(config, $$"""
            { "site": "crash-test", "hl7": { "listen": "127.0.0.1:0", "chairRule": "pv1Bed", "timeZone": "UTC" }, "chairs": [ {{chairs}} ] }
            """);

        using (var first = await GatewayProcess.StartAsync(config, dir))
        {
            await using (var mllp = await MllpClient.ConnectAsync("127.0.0.1", first.Hl7Port, TimeSpan.FromSeconds(30)))
            {
                await SendNibpAsync(mllp, "BED1", 70, "M1"); // high
                await SendNibpAsync(mllp, "BED2", 70, "M2"); // high, acknowledged below
                await SendNibpAsync(mllp, "BED3", 85, "M3"); // medium, left active
                await first.WaitUntilAsync(async () => (await Alarms(first)).Count(a => a.Rule == "nibp_sys.low") == 3, "three low-NIBP alarms", Generous);
                await SendNibpAsync(mllp, "BED1", 120, "M4"); // condition over, unacknowledged high: latched
            }

            await first.WaitUntilAsync(async () => (await Status(first, "chair-1")).Alarms.Any(a => a.Latched), "chair-1's alarm to latch", Generous);
            using (var ack = await first.SendAsync(HttpMethod.Post, "api/chairs/chair-2/alarms/nibp_sys.low/acknowledge"))
            {
                Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
            }

            using (var pause = await first.SendAsync(HttpMethod.Post, "api/chairs/chair-4/pause", new { seconds = 120 }))
            {
                Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            }

            using (var session = await first.SendAsync(HttpMethod.Post, "api/chairs/chair-4/session", new { patientPseudonym = "P-4", drug = "iron sucrose" }))
            {
                Assert.Equal(HttpStatusCode.OK, session.StatusCode);
            }

            using (var baseline = await first.SendAsync(HttpMethod.Post, "api/chairs/chair-4/baseline", new { sys = 131.0, dia = 79.0, map = 96.0, hr = 72.0 }))
            {
                Assert.Equal(HttpStatusCode.OK, baseline.StatusCode);
            }

            // Chair 5's heart rate before the crash: acknowledged (AA) only once stored, and never saved anywhere else.
            await using (var mllp = await MllpClient.ConnectAsync("127.0.0.1", first.Hl7Port, TimeSpan.FromSeconds(30)))
            {
                await SendAsync(mllp, "BED5", Sign.Hr, 70, "H1");
            }

            // The last command answered; how long until the store holds it is the bound on what a crash may lose.
            var answered = Stopwatch.StartNew();
            await first.WaitUntilAsync(() => Task.FromResult(SavedStateHoldsEverything()), "the saved engine state to hold every change", Generous);
            output.WriteLine($"engine state on disk {answered.Elapsed.TotalMilliseconds:0} ms after the last command was answered");

            first.Kill();
        }

        using var second = await GatewayProcess.StartAsync(config, dir);
        var latched = Assert.Single((await Status(second, "chair-1")).Alarms);
        Assert.Equal(("nibp_sys.low", "high", true, false), (latched.Rule, latched.Priority, latched.Latched, latched.Acknowledged));
        var acknowledged = Assert.Single((await Status(second, "chair-2")).Alarms);
        Assert.Equal(("high", true, "admin"), (acknowledged.Priority, acknowledged.Acknowledged, acknowledged.AcknowledgedBy));
        var active = Assert.Single((await Status(second, "chair-3")).Alarms);
        Assert.Equal(("medium", false, false), (active.Priority, active.Latched, active.Acknowledged));
        var paused = await Status(second, "chair-4");
        Assert.InRange(paused.PauseRemainingSeconds, 1, 120);
        Assert.Equal("P-4", paused.Session?.PatientPseudonym);
        Assert.Equal(("confirmed", 131.0, "admin"), (paused.Baseline.State, paused.Baseline.Baseline?.Sys, paused.Baseline.Baseline?.ConfirmedBy));

        // Heart rate 100 from now on: a 30/min rise within the rate rule's 5 min only against the reading before the crash.
        await using (var mllp = await MllpClient.ConnectAsync("127.0.0.1", second.Hl7Port, TimeSpan.FromSeconds(30)))
        {
            var sent = 0;
            await second.WaitUntilAsync(
                async () =>
                {
                    await SendAsync(mllp, "BED5", Sign.Hr, 100, $"H{++sent + 1}");
                    await Task.Delay(TimeSpan.FromSeconds(1));
                    return (await Status(second, "chair-5")).Alarms.Any(a => a.Rule == "hr.rate");
                },
                "chair-5's hr.rate advisory, comparing with the heart rate stored before the crash",
                Generous);
        }
    }

    private static Task<List<AlarmView>> Alarms(GatewayProcess gateway) => gateway.GetAsync<List<AlarmView>>("api/alarms");

    private static Task<StatusView> Status(GatewayProcess gateway, string chair) => gateway.GetAsync<StatusView>($"api/chairs/{chair}/status");

    private static Task SendNibpAsync(MllpClient mllp, string bed, double sys, string controlId) => SendAsync(mllp, bed, Sign.NibpSys, sys, controlId);

    private static async Task SendAsync(MllpClient mllp, string bed, Sign sign, double value, string controlId)
    {
        var message = Hl7OruWriter.Format([new SimReading(sign, value, TimeSpan.Zero)], DateTimeOffset.UtcNow, bed, controlId);
        var ack = await mllp.SendAsync(Encoding.UTF8.GetBytes(message), TimeSpan.FromSeconds(30));
        Assert.True(Hl7Ack.TryParse(ack, out var parsed) && parsed!.Code == Hl7AckCode.Accept, Encoding.UTF8.GetString(ack));
    }

    /// <summary>True once the saved engine state has chair-1 latched, chair-2 acknowledged, chair-3 active and chair-4 paused with its baseline.</summary>
    private bool SavedStateHoldsEverything()
    {
        using var conn = new SqliteConnection($"Data Source={Path.Combine(dir, "vitals.db")};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT key, value FROM config WHERE key LIKE 'alarm.engine.chair:%';";
        var rows = new Dictionary<string, SavedChair?>();
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                var row = JsonSerializer.Deserialize<SavedChair>(reader.GetString(1), TestJson.Options);
                rows[reader.GetString(0)[(reader.GetString(0).LastIndexOf('/') + 1)..]] = row;
            }
        }

        ActiveAlarm? AlarmAt(string chair) => rows.GetValueOrDefault(chair)?.Alarms.SingleOrDefault(a => a.Rule == "nibp_sys.low");
        return AlarmAt("chair-1") is { ConditionActive: false }
            && AlarmAt("chair-2") is { Acknowledged: true }
            && AlarmAt("chair-3") is not null
            && rows.GetValueOrDefault("chair-4")?.State is { PausedUntil: not null, Baseline.ConfirmedBy: not null };
    }

    private sealed record AlarmView(string Chair, string Rule, string Priority, bool Latched, bool Acknowledged, string? AcknowledgedBy);

    private sealed record StatusView(List<AlarmView> Alarms, int PauseRemainingSeconds, SessionView? Session, BaselineView Baseline);

    private sealed record SessionView(string PatientPseudonym);

    private sealed record BaselineView(string State, BaselineValues? Baseline);

    private sealed record BaselineValues(double? Sys, string? ConfirmedBy);
}
