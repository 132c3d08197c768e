using Vitals.Gateway.Tests.Mqtt;
using Vitals.Mqtt.Tests.Broker;
using static Vitals.Gateway.Tests.Mqtt.MqttTestSupport;

namespace Vitals.Gateway.Tests.Topology;

/// <summary>
/// Real gateways with simulated chairs publishing to their own site mosquitto, each bridged to a central mosquitto with
/// mosquitto's own bridge; a central-style subscriber (persistent session) on the central broker. Brokers are
/// restarted and the bridges cut while alarms are raised: every QoS 1 alarm still arrives, and state flows again.
/// </summary>
public sealed class BridgedBrokersTests
{
    [Fact]
    public async Task TwoSites_StateAlarmAndStatus_ArriveAtCentralBroker()
    {
        var prefix = NewPrefix();
        await using var brokers = await BridgedBrokers.StartAsync(2, prefix);
        await using var central = await CentralAsync(brokers);
        await using var site1 = await StartAsync(SimulatedChairs("north", prefix, brokers.Sites[0].Port));
        await using var site2 = await StartAsync(SimulatedChairs("south", prefix, brokers.Sites[1].Port));

        foreach (var site in new[] { "north", "south" })
        {
            await central.WaitForAsync($"{prefix}/{site}/gateway/status", fragments: "\"state\":\"online\"");
            foreach (var chair in new[] { "chair-1", "chair-2" })
            {
                await central.WaitForAsync($"{prefix}/{site}/{chair}/state", fragments: [$"\"site\":\"{site}\"", "\"hr\":{"]);
            }
        }

        await RaiseTechnicalAsync(site2, "chair-2", "probe-south");
        await central.WaitForAsync($"{prefix}/south/chair-2/alarm", fragments: ["\"site\":\"south\"", "\"rule\":\"device.probe-south\"", "\"state\":\"raised\""]);
        Assert.DoesNotContain(central.Messages, m => m.Topic.StartsWith($"{prefix}/north/", StringComparison.Ordinal) && m.Topic.EndsWith("/alarm", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SiteBrokerRestart_AlarmsRaisedWhileDownArrive_AndStateFlowsAgain()
    {
        var prefix = NewPrefix();
        await using var brokers = await BridgedBrokers.StartAsync(1, prefix);
        await using var central = await CentralAsync(brokers);
        await using var site = await StartAsync(SimulatedChairs("north", prefix, brokers.Sites[0].Port));
        await central.WaitForAsync($"{prefix}/north/chair-1/state");

        await brokers.Sites[0].StopAsync();
        await Eventually.TrueAsync(() => site.Bridge().Status()!.State != "connected", "the gateway to see its broker gone");
        for (var i = 0; i < 5; i++)
        {
            await RaiseTechnicalAsync(site, "chair-1", $"outage{i}"); // queued in the gateway's MQTT client
        }

        await brokers.Sites[0].RestartAsync();
        for (var i = 0; i < 5; i++)
        {
            await central.WaitForAsync($"{prefix}/north/chair-1/alarm", fragments: [$"\"rule\":\"device.outage{i}\"", "\"state\":\"raised\""]);
        }

        // The reconnect announced itself (an online status of a later connect), and live state arrives again after it.
        await Eventually.TrueAsync(
            () => central.On($"{prefix}/north/gateway/status", "\"state\":\"online\"").Select(m => m.Payload).Distinct().Count() >= 2,
            "the online status of the gateway's reconnect at central");
        var before = central.On($"{prefix}/north/chair-2/state").Count;
        await central.WaitForAsync($"{prefix}/north/chair-2/state", count: before + 2);
        Assert.Equal(0, site.Bridge().Status()!.PendingQos1);
    }

    [Fact]
    public async Task CentralBrokerOutage_Qos1AlarmsQueuedAtSiteBridge_ArriveAfterwards()
    {
        var prefix = NewPrefix();
        await using var brokers = await BridgedBrokers.StartAsync(1, prefix);
        await using var central = await CentralAsync(brokers);
        await using var site = await StartAsync(SimulatedChairs("north", prefix, brokers.Sites[0].Port));
        await central.WaitForAsync($"{prefix}/north/chair-1/state");

        // The bridge is down; the gateway stays connected to its site broker, which queues for the bridge.
        await brokers.Central.StopAsync();
        for (var i = 0; i < 20; i++)
        {
            await RaiseTechnicalAsync(site, "chair-1", $"cut{i}");
        }

        await Eventually.TrueAsync(() => site.Bridge().Status()!.PendingQos1 == 0, "the site broker to acknowledge every alarm");
        Assert.Equal("connected", site.Bridge().Status()!.State);

        await brokers.Central.RestartAsync();
        for (var i = 0; i < 20; i++)
        {
            await central.WaitForAsync($"{prefix}/north/chair-1/alarm", fragments: [$"\"rule\":\"device.cut{i}\"", "\"state\":\"raised\""]);
        }

        var before = central.On($"{prefix}/north/chair-2/state").Count;
        await central.WaitForAsync($"{prefix}/north/chair-2/state", count: before + 2);
    }

    /// <summary>A subscriber on the central broker with central's subscriptions and a persistent session.</summary>
    private static Task<TopicRecorder> CentralAsync(BridgedBrokers brokers) =>
        TopicRecorder.StartAsync(
            brokers.Central.Port,
            [$"{brokers.Prefix}/+/+/state", $"{brokers.Prefix}/+/+/alarm", $"{brokers.Prefix}/+/gateway/status"],
            "central-" + brokers.Prefix,
            persistent: true);
}
