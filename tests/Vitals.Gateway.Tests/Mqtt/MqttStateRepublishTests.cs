using Vitals.Mqtt.Tests.Broker;
using static Vitals.Gateway.Tests.Mqtt.MqttTestSupport;

namespace Vitals.Gateway.Tests.Mqtt;

/// <summary>
/// <c>mqtt.stateRepublishSeconds</c>: unchanged chair state and the <c>online</c> status are published again every period,
/// so subscribers of brokers that do not hand out retained messages (per-node retained stores, wildcard subscriptions
/// on RabbitMQ) still converge. The RabbitMQ cluster itself is exercised in the topology tests.
/// </summary>
public sealed class MqttStateRepublishTests(MosquittoFixture fixture) : IClassFixture<MosquittoFixture>
{
    [Fact]
    public async Task UnchangedState_RepublishedEveryPeriod_AndOnlyOnChangeWhenOff()
    {
        var prefix = NewPrefix();
        var port = fixture.Broker.Port;

        // Subscribed before either gateway starts, so every message either of them sends is counted.
        await using var sub = await TopicRecorder.StartAsync(port, [$"{prefix}/+/+/state", $"{prefix}/+/gateway/status"]);
        await using var every = await StartAsync(QuietChairs("every-second", prefix, port, republishSeconds: 1));
        await using var onChange = await StartAsync(QuietChairs("on-change", prefix, port, republishSeconds: 0));
        await every.WaitConnectedAsync();
        await onChange.WaitConnectedAsync();
        foreach (var site in new[] { "every-second", "on-change" })
        {
            await Eventually.TrueAsync(
                () =>
                {
                    PubAsync(port, $"{prefix}/{site}/chair-1/obs", """{"device":"mon-1","readings":[{"sign":"hr","value":77}]}""").Wait();
                    return Copies(sub, $"{prefix}/{site}/chair-1/state", "\"hr\":{\"value\":77") > 0;
                },
                $"{site}'s chair-1 state with the reading");
        }

        // Three identical copies of each message: the state did not change, it was published again.
        await Eventually.TrueAsync(
            () => Copies(sub, $"{prefix}/every-second/chair-1/state", "\"hr\":{\"value\":77") >= 3
                && Copies(sub, $"{prefix}/every-second/chair-2/state", "\"chair\":\"chair-2\"") >= 3
                && Copies(sub, $"{prefix}/every-second/gateway/status", "\"state\":\"online\"") >= 3,
            "three identical copies of every-second's chair states and online status");

        // Meanwhile the gateway with republishing off, connected as long, sent its never-changing chair-2 once.
        Assert.Equal(1, Copies(sub, $"{prefix}/on-change/chair-2/state", "\"chair\":\"chair-2\""));
        Assert.Equal(1, Copies(sub, $"{prefix}/on-change/gateway/status", "\"state\":\"online\""));
    }

    /// <summary>How many identical copies of the most repeated payload on <paramref name="topic"/> containing <paramref name="fragment"/> arrived.</summary>
    private static int Copies(TopicRecorder sub, string topic, string fragment) =>
        sub.On(topic, fragment).CountBy(m => m.Payload).Select(c => c.Value).DefaultIfEmpty(0).Max();
}
