using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;
using static Vitals.Mqtt.Tests.Broker.TestClients;

namespace Vitals.Mqtt.Tests;

/// <summary>Broker outages: a persistent mosquitto is stopped and restarted on the same ports.</summary>
public class MqttClientReconnectTests(PersistentMosquittoFixture fixture) : IClassFixture<PersistentMosquittoFixture>
{
    private readonly MosquittoBroker _broker = fixture.Broker;

    [Fact]
    public async Task PublishAsync_Qos1WhileBrokerDown_DeliveredAfterRestart()
    {
        var topic = UniqueTopic("chair1/alarm");

        // The receiver keeps a persistent session, so the restarted broker queues for it even before it is back.
        await using var receiver = await ConnectedAsync(Options(_broker.Port, "receiver-" + Guid.NewGuid().ToString("N")[..8]) with { CleanSession = false });
        await receiver.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
        await using var gateway = await ConnectedAsync(Options(_broker.Port));

        await _broker.StopAsync();
        await gateway.WaitForStateAsync(MqttConnectionState.Disconnected);
        for (var i = 0; i < 20; i++)
        {
            await gateway.PublishAsync(topic, Bytes($"alarm {i}"), MqttQualityOfService.AtLeastOnce);
        }

        Assert.Equal(20, gateway.PendingQos1Count);
        await _broker.RestartAsync();
        await gateway.FlushAsync().WaitAsync(TestTimeout);

        var received = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            received.Add((await receiver.ReceiveAsync()).Text());
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"alarm {i}"), received);
        Assert.Equal(0, gateway.PendingQos1Count);
    }

    [Fact]
    public async Task SubscribeAsync_BrokerRestarted_ResubscribesAndReceives()
    {
        var topic = UniqueTopic("chair2/obs");
        await using var client = await ConnectedAsync(Options(_broker.Port)); // clean session: the broker forgets it
        await client.SubscribeAsync(topic);
        var reconnected = client.WaitForStateAsync(MqttConnectionState.Connected, TimeSpan.FromSeconds(15));

        await _broker.StopAsync();
        await client.WaitForStateAsync(MqttConnectionState.Disconnected);
        await _broker.RestartAsync();
        await reconnected;

        // Publish from an independent client until the resubscription is in place.
        var port = _broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var receive = client.ReceiveAsync(TimeSpan.FromSeconds(10));
        while (!receive.IsCompleted)
        {
            await MosquittoBroker.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", port, "-t", topic, "-m", "after restart"]);
            await Task.WhenAny(receive, Task.Delay(100));
        }

        Assert.Equal("after restart", (await receive).Text());
    }
}
