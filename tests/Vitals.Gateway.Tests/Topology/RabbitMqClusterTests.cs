using Vitals.Gateway.Tests.Mqtt;
using Vitals.Mqtt.Tests.Broker;
using Xunit.Abstractions;
using static Vitals.Gateway.Tests.Mqtt.MqttTestSupport;

namespace Vitals.Gateway.Tests.Topology;

/// <summary>
/// Gateways on node A of a two-node RabbitMQ cluster, a central-style subscriber on node B. RabbitMQ keeps retained MQTT
/// messages on the node that received them (and gives none to wildcard subscriptions), so node B converges to every
/// chair's state only because gateways republish it; live traffic (alarms, status) crosses the cluster.
/// </summary>
public sealed class RabbitMqClusterTests(RabbitMqClusterFixture fixture, ITestOutputHelper output) : IClassFixture<RabbitMqClusterFixture>
{
    private int NodeA => fixture.Cluster.MqttPorts[0];

    private int NodeB => fixture.Cluster.MqttPorts[1];

    [Fact]
    public async Task SubscriberOnOtherNode_ConnectingAfterPublish_ConvergesThroughRepublishOnly()
    {
        output.WriteLine($"two-node cluster started and joined in {fixture.Cluster.StartTime.TotalSeconds:0.0} s");
        var prefix = NewPrefix();
        await using var republishing = await StartAsync(QuietChairs("republishing", prefix, NodeA, republishSeconds: 1));
        await using var onChange = await StartAsync(QuietChairs("on-change", prefix, NodeA, republishSeconds: 0));
        await republishing.WaitConnectedAsync();
        await onChange.WaitConnectedAsync();

        // Both gateways' states are retained on node A: a subscriber there to the exact topic gets them.
        foreach (var site in new[] { "republishing", "on-change" })
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    await using var a = await TopicRecorder.StartAsync(NodeA, [$"{prefix}/{site}/chair-2/state"]);
                    await Task.Delay(200);
                    return a.Messages.Any(m => m.Retain);
                },
                $"{site}'s chair-2 state retained on node A");
        }

        // Central's subscriptions on node B, made after the states were published, plus the exact topic of one chair.
        await using var b = await TopicRecorder.StartAsync(NodeB, [$"{prefix}/+/+/state", $"{prefix}/+/gateway/status", $"{prefix}/on-change/chair-2/state"]);
        foreach (var chair in new[] { "chair-1", "chair-2" })
        {
            await b.WaitForAsync($"{prefix}/republishing/{chair}/state", fragments: $"\"chair\":\"{chair}\"");
        }

        await b.WaitForAsync($"{prefix}/republishing/gateway/status", fragments: "\"state\":\"online\"");

        // Two more republish rounds reach node B; the gateway that only publishes on change, connected as long, shows
        // nothing there: its retained copies stayed on node A.
        await b.WaitForAsync($"{prefix}/republishing/chair-2/state", count: 3);
        Assert.DoesNotContain(b.Messages, m => m.Topic.StartsWith($"{prefix}/on-change/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Central_OnNodeB_StartedAfterGatewaysPublishedOnNodeA_ConvergesThroughRepublish()
    {
        var prefix = NewPrefix();
        await using var republishing = await StartAsync(SimulatedChairs("north", prefix, NodeA));
        await using var onChange = await StartAsync(QuietChairs("on-change", prefix, NodeA, republishSeconds: 0));
        await republishing.WaitConnectedAsync();
        await onChange.WaitConnectedAsync();
        await Eventually.TrueAsync(() => onChange.Bridge().Status()!.Published >= 3, "the on-change gateway's status and chair states published");

        await using var central = await CentralHost.StartAsync(NodeB, prefix);
        await Eventually.TrueAsync(() => central.SiteLiveAsync("north", 2), "central on node B to show site north live with every chair's values");
        await RaiseTechnicalAsync(republishing, "chair-1", "probe");
        await Eventually.TrueAsync(() => central.HasAlarmAsync("north", "device.probe", "chair-1"), "the alarm raised on node A at central on node B");

        // The gateway that publishes only on change, connected all along, never reaches central: its retained status
        // and states stayed on node A.
        Assert.Null(await central.SiteAsync("on-change"));
    }

    [Fact]
    public async Task AlarmAndStatus_PublishedOnNodeA_ReachSubscriberOnNodeB()
    {
        var prefix = NewPrefix();
        await using var b = await TopicRecorder.StartAsync(NodeB, [$"{prefix}/+/+/alarm", $"{prefix}/+/gateway/status"], "central-" + prefix, persistent: true);
        var host = await StartAsync(QuietChairs("site-a", prefix, NodeA, republishSeconds: 1));
        try
        {
            await host.WaitConnectedAsync();
            await b.WaitForAsync($"{prefix}/site-a/gateway/status", fragments: "\"state\":\"online\"");
            await RaiseTechnicalAsync(host, "chair-1", "probe");
            await b.WaitForAsync($"{prefix}/site-a/chair-1/alarm", fragments: ["\"rule\":\"device.probe\"", "\"state\":\"raised\""]);
        }
        finally
        {
            await host.DisposeAsync();
        }

        await b.WaitForAsync($"{prefix}/site-a/gateway/status", fragments: "\"state\":\"offline\"");
    }
}
