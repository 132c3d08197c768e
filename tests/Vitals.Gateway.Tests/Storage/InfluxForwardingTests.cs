using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Gateway.Alarms;
using Vitals.Storage.Sqlite;
using Vitals.Storage.Tests.Influx;
using Xunit.Abstractions;

namespace Vitals.Gateway.Tests.Storage;

/// <summary>The gateway forwarding to a real influxd 1.6 on loopback.</summary>
public sealed class InfluxForwardingTests : IDisposable
{
    // Condition waits, not budgets: a child gateway starting and forwarding on a busy 2-core machine only gets slower.
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(3);
    private readonly InfluxdServer influx = new();
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-fwd-").FullName;
    private readonly ITestOutputHelper output;

    public InfluxForwardingTests(ITestOutputHelper output)
    {
        this.output = output;
        influx.Start();
    }

    public void Dispose()
    {
        influx.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Demo_WithInflux_ForwardsReadingsAlarmsAndFeedStatusAndReportsHealth()
    {
        await influx.CreateDatabaseAsync("vitals");
        var options = GatewayHost.OneChair("bradycardia", 60);
        options.Influx = influx.Url("vitals");
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromMilliseconds(20), dir);

        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(60), async () => await influx.ScalarAsync("vitals", "SELECT count(hr) FROM vitals") > 100
            && await influx.ScalarAsync("vitals", "SELECT count(state) FROM alarms") > 0
            && await influx.ScalarAsync("vitals", "SELECT count(frames_ok) FROM feed_status") > 0);
        var tags = await influx.RowsAsync("vitals", "SELECT hr, chair, site, device FROM vitals LIMIT 1");
        Assert.Equal("chair-1", tags[0]["chair"].GetString());
        Assert.Equal("test-site", tags[0]["site"].GetString());
        Assert.Equal("sim-1", tags[0]["device"].GetString());

        // Technical alarms (a device condition at a chair) and gateway alarms (no chair's, no sign) travel the same
        // path, raised and cleared; they used to be quarantined for their missing sign.
        var alarms = host.App.Services.GetRequiredService<AlarmService>();
        foreach (var (active, points) in new[] { (true, 1), (false, 2) })
        {
            // One transition at a time: InfluxDB keeps one point per series and millisecond.
            await alarms.RunAsync((engine, now, events) =>
            {
                engine.ReportTechnical("chair-1", "sensor_off", "SpO2: sensor off patient", active, now, events);
                engine.ReportGatewayFault("probe", "A gateway fault raised by the test", active, now, events, AlarmPriority.High);
                return 0;
            }, default);
            await GatewayHost.WaitUntil(TimeSpan.FromSeconds(60), async () =>
                await influx.ScalarAsync("vitals", "SELECT count(state) FROM alarms WHERE kind = 'technical' AND chair = 'chair-1'") >= points
                && await influx.ScalarAsync("vitals", "SELECT count(state) FROM alarms WHERE kind = 'technical' AND rule = 'gateway.probe'") >= points);
        }

        var gateway = await influx.RowsAsync("vitals", "SELECT state, chair, priority FROM alarms WHERE rule = 'gateway.probe'");
        Assert.Equal(["raised", "cleared"], gateway.Select(r => r["state"].GetString()));
        Assert.All(gateway, r => Assert.Equal(("gateway", "high"), (r["chair"].GetString(), r["priority"].GetString())));

        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        var storage = status.RootElement.GetProperty("storage");
        Assert.True(storage.GetProperty("forwarding").GetBoolean());
        Assert.Equal(2, storage.GetProperty("forwarders").GetArrayLength());
        Assert.Equal(0, storage.GetProperty("quarantined").GetInt64());
    }

    [Fact]
    public async Task Gateway_KilledWithSigkillMidForwardAndRestarted_EveryStoredLineAcknowledgedOnce()
    {
        await influx.CreateDatabaseAsync("vitals");
        using var proxy = new CountingInfluxProxy(influx.BaseUri); // counts on the wire: InfluxDB's overwrite hides duplicates

        // Lines of a measurement with a timestamp (ms, the line's last token) up to ms that influxd acknowledged; for
        // vitals, the readings (sign fields) on them: one point carries a device's readings of one millisecond, also when
        // the store kept them in two rows (a frame split by another feed's readings in between, its halves then written
        // side by side), so readings, not lines, are what must each arrive once.
        int Acknowledged(string measurement, long ms) =>
            proxy.AcceptedLines(measurement).Where(l => long.Parse(l.AsSpan(l.LastIndexOf(' ') + 1), CultureInfo.InvariantCulture) <= ms)
                .Sum(l => measurement == "vitals" ? SignFields(l) : 1);
        var config = Path.Combine(dir, "vitals.json");
        var chairs = string.Join(",", Enumerable.Range(1, 4).Select(i =>
            $$"""{ "id": "chair-{{i}}", "devices": [ { "id": "sim-{{i}}", "kind": "simulator", "scenario": "stable", "seed": {{i}} } ] }"""));
        await File.WriteAllTextAsync(config, $$"""{ "site": "kill-test", "influx": "{{proxy.Url("vitals")}}", "influxLagAlarmSeconds": 10, "chairs": [ {{chairs}} ] }""");

        var phase = Stopwatch.StartNew();
        using (var first = await GatewayProcess.StartAsync(config, dir, signIn: false))
        {
            output.WriteLine($"first gateway started in {phase.Elapsed.TotalSeconds:0.0} s");
            await first.WaitUntilAsync(
                () => Task.FromResult(proxy.AcceptedLines("vitals").Count >= 8 && proxy.AcceptedLines("feed_status").Count > 0),
                "the first readings and feed status forwarded", Generous);
            output.WriteLine($"first lines forwarded at {phase.Elapsed.TotalSeconds:0.0} s");

            // InfluxDB goes away, so the gateway builds a backlog of readings and alarm transitions (its own forwarding-lag
            // alarm) it has not forwarded; then it is killed without any chance to flush or commit.
            influx.Kill();
            await first.WaitUntilAsync(
                () => Task.FromResult(StoredRows() >= 40 && StoredEvents(AlarmType) > 0), "a backlog with a forwarding-lag alarm", Generous);
            output.WriteLine($"backlog built at {phase.Elapsed.TotalSeconds:0.0} s");
            first.Kill();
        }

        var killedAt = StoredFrames().Max(f => f.Frame[0].MeasuredAt.ToUnixTimeMilliseconds());
        var eventsKilledAt = Sql("SELECT max(at_ms) FROM events WHERE at_ms <= $ms;", long.MaxValue);
        var stored = (Vitals: (int)StoredReadings(), Alarms: (int)StoredEvents(AlarmType), FeedStatus: (int)StoredEvents(FeedStatusType));
        Assert.True(Acknowledged("vitals", killedAt) < stored.Vitals, "the kill should leave readings not yet forwarded");
        Assert.True(Acknowledged("alarms", eventsKilledAt) < stored.Alarms, "the kill should leave alarm transitions not yet forwarded");
        phase.Restart();
        influx.Start();
        output.WriteLine($"influxd restarted in {phase.Elapsed.TotalSeconds:0.0} s");

        string? notDrained = null;
        using (var second = await GatewayProcess.StartAsync(config, dir, signIn: false))
        {
            output.WriteLine($"second gateway started at {phase.Elapsed.TotalSeconds:0.0} s");
            try
            {
                await second.WaitUntilAsync(
                    () => Task.FromResult(Acknowledged("vitals", killedAt) >= stored.Vitals && Acknowledged("alarms", eventsKilledAt) >= stored.Alarms
                        && Acknowledged("feed_status", eventsKilledAt) >= stored.FeedStatus),
                    "the first run's backlog forwarded", Generous);
                output.WriteLine($"backlog drained at {phase.Elapsed.TotalSeconds:0.0} s");
            }
            catch (TimeoutException e)
            {
                notDrained = e.Message; // the counts below say which backlog did not arrive
            }

            second.Kill();
        }

        // Every frame, alarm transition and feed status the first run stored was acknowledged by InfluxDB exactly once.
        Assert.Equal(stored, (Acknowledged("vitals", killedAt), Acknowledged("alarms", eventsKilledAt), Acknowledged("feed_status", eventsKilledAt)));
        Assert.True(notDrained is null, notDrained);
        Assert.Empty(proxy.AcknowledgedTwice());
        Assert.True(proxy.UnacknowledgedPosts > 0, "the outage must have cost at least one write");
    }

    private const string AlarmType = "alarm";
    private const string FeedStatusType = "feed_status";

    private List<(long Id, Observation[] Frame)> StoredFrames() => SqliteStore.ReadAllFrames(Path.Combine(dir, "vitals.db"));

    private long StoredRows() => StoredFrames().Count;

    /// <summary>Sign values stored (readings, not frames).</summary>
    private long StoredReadings() => StoredFrames().Sum(f => f.Frame.Length);

    /// <summary>The sign fields (readings) of a vitals line: <c>hr=72,spo2=97</c> between the tags and the timestamp.</summary>
    private static int SignFields(string line)
    {
        var fields = line.Split(' ')[1].Split(',').Select(f => f[..f.IndexOf('=', StringComparison.Ordinal)]);
        return fields.Count(f => Signs.All.Any(s => s.ShortName == f));
    }

    private long StoredEvents(string type) => Sql($"SELECT count(*) FROM events WHERE type = '{type}' AND at_ms <= $ms;", long.MaxValue);

    private long Sql(string sql, long ms)
    {
        using var conn = new SqliteConnection($"Data Source={Path.Combine(dir, "vitals.db")};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$ms", ms);
        return cmd.ExecuteScalar() is long n ? n : 0;
    }
}
