using System.Diagnostics;
using Vitals.Mqtt.Tests.Broker;
using Xunit.Abstractions;
using static Vitals.Gateway.Tests.Mqtt.MqttTestSupport;

namespace Vitals.Gateway.Tests.Topology;

/// <summary>
/// The bridged deployment end to end: two real gateways with simulated chairs, each on its own site mosquitto bridged
/// to a central mosquitto, and a real <c>vitals central</c> reading the central broker. Gateway 1 is a child process so
/// it can be SIGKILLed (its broker then publishes its last will); gateway 2 runs in this process.
/// </summary>
public sealed class CentralTopologyTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-topology-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task TwoBridgedSites_AlarmAtSite2ShownAtCentral_SigkilledGateway1Offline_RestartRecovers()
    {
        var prefix = NewPrefix();
        await using var brokers = await BridgedBrokers.StartAsync(2, prefix);
        await using var central = await CentralHost.StartAsync(brokers.Central.Port, prefix);
        var config = await WriteConfigAsync("north", prefix, brokers.Sites[0].Port);
        var northData = Directory.CreateDirectory(Path.Combine(dir, "north")).FullName;
        var north = await GatewayProcess.StartAsync(config, northData);
        try
        {
            await using var south = await StartAsync(SimulatedChairs("south", prefix, brokers.Sites[1].Port));
            await Eventually.TrueAsync(async () => await central.SiteLiveAsync("north", 2) && await central.SiteLiveAsync("south", 2), "both sites live at central with every chair's values", TimeSpan.FromSeconds(90));

            // An alarm raised at site 2 appears in central's alarm list, with its site.
            await RaiseTechnicalAsync(south, "chair-2", "probe");
            await Eventually.TrueAsync(() => central.HasAlarmAsync("south", "device.probe", "chair-2"), "site 2's alarm at central");
            Assert.False(await central.HasAlarmAsync("north", "device.probe"));

            // SIGKILL: no DISCONNECT, so site 1's broker publishes the last will, which the bridge carries to central.
            north.Kill();
            var killed = Stopwatch.StartNew();
            await Eventually.TrueAsync(
                async () => await central.SiteAsync("north") is { } s && s.GetProperty("gateway") is var g
                    && !g.GetProperty("live").GetBoolean() && g.GetProperty("state").GetString() == "offline",
                "site 1 offline at central after its gateway was killed");
            output.WriteLine($"site 1 offline at central {killed.ElapsedMilliseconds} ms after SIGKILL of its gateway");
            Assert.True(await central.HasAlarmAsync("north", "central.site_offline"));
            Assert.True(await central.SiteLiveAsync("south", 2), "site 2 stays live");

            // The same gateway started again: online, live, and central's offline alarm is gone.
            north.Dispose();
            north = await GatewayProcess.StartAsync(config, northData);
            await Eventually.TrueAsync(() => central.SiteLiveAsync("north", 2), "site 1 live again at central after its gateway restarted", TimeSpan.FromSeconds(90));
            await Eventually.TrueAsync(async () => !await central.HasAlarmAsync("north", "central.site_offline"), "central's offline alarm of site 1 to clear");
            Assert.Equal("online", (await central.SiteAsync("north"))!.Value.GetProperty("gateway").GetProperty("state").GetString());
        }
        finally
        {
            north.Dispose();
        }
    }

    [Fact]
    public async Task SiteBrokerRestartAndBridgeOutage_CentralShowsSilenceThenRecovers_AlarmsRaisedMeanwhileShown()
    {
        var prefix = NewPrefix();
        await using var brokers = await BridgedBrokers.StartAsync(2, prefix);
        await using var central = await CentralHost.StartAsync(brokers.Central.Port, prefix, silentSeconds: 5);
        await using var north = await StartAsync(SimulatedChairs("north", prefix, brokers.Sites[0].Port));
        await using var south = await StartAsync(SimulatedChairs("south", prefix, brokers.Sites[1].Port));
        await Eventually.TrueAsync(async () => await central.SiteLiveAsync("north", 2) && await central.SiteLiveAsync("south", 2), "both sites live at central", TimeSpan.FromSeconds(90));

        // Site 1's broker down: no will can be published (the broker holding it is gone), so central sees silence.
        await brokers.Sites[0].StopAsync();
        var stopped = Stopwatch.StartNew();
        await RaiseTechnicalAsync(north, "chair-1", "during-site-outage");
        await Eventually.TrueAsync(() => central.HasAlarmAsync("north", "central.site_offline"), "central to mark the silent site 1 offline");
        output.WriteLine($"silent site 1 offline at central {stopped.ElapsedMilliseconds} ms after its broker stopped (silence limit 5 s)");
        Assert.True(await central.SiteLiveAsync("south", 2), "site 2 stays live");
        await brokers.Sites[0].RestartAsync();
        await Eventually.TrueAsync(() => central.SiteLiveAsync("north", 2), "site 1 live again after its broker restarted", TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(() => central.HasAlarmAsync("north", "device.during-site-outage", "chair-1"), "the alarm raised while site 1's broker was down");
        await Eventually.TrueAsync(async () => !await central.HasAlarmAsync("north", "central.site_offline"), "central's offline alarm of site 1 to clear");

        // The central broker down: every bridge is cut and central itself is disconnected; alarms raised meanwhile
        // wait in the site brokers' bridge queues.
        await brokers.Central.StopAsync();
        await RaiseTechnicalAsync(south, "chair-2", "during-bridge-outage");
        await RaiseTechnicalAsync(north, "chair-2", "during-bridge-outage");
        await brokers.Central.RestartAsync();
        await Eventually.TrueAsync(
            async () => await central.HasAlarmAsync("south", "device.during-bridge-outage", "chair-2") && await central.HasAlarmAsync("north", "device.during-bridge-outage", "chair-2"),
            "both sites' alarms raised during the bridge outage at central",
            TimeSpan.FromSeconds(90));
        await Eventually.TrueAsync(async () => await central.SiteLiveAsync("north", 2) && await central.SiteLiveAsync("south", 2), "both sites live after the bridge outage", TimeSpan.FromSeconds(90));
    }

    /// <summary>A <c>vitals run</c> config: two simulated chairs, state republished every 2 s, on the given site broker.</summary>
    private async Task<string> WriteConfigAsync(string site, string prefix, int port)
    {
        var path = Path.Combine(dir, $"{site}.json");
        await File.WriteAllTextAsync(path, $$"""
            { "site": "{{site}}",
              "mqtt": { "url": "mqtt://127.0.0.1:{{port}}", "topicPrefix": "{{prefix}}", "stateRepublishSeconds": 2 },
              "chairs": [
                { "id": "chair-1", "devices": [ { "id": "sim-1", "kind": "simulator", "scenario": "stable", "seed": 1, "timeScale": 1 } ] },
                { "id": "chair-2", "devices": [ { "id": "sim-2", "kind": "simulator", "scenario": "stable", "seed": 2, "timeScale": 1 } ] } ] }
            """);
        return path;
    }
}
