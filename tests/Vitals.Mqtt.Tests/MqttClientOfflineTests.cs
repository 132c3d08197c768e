using Vitals.Mqtt.Packets;
using static Vitals.Mqtt.Tests.Broker.TestClients;

namespace Vitals.Mqtt.Tests;

/// <summary>Argument checks and queue policy, which need no broker.</summary>
public class MqttClientOfflineTests
{
    [Fact]
    public async Task SubscribeAsync_Qos2_ThrowsClearError()
    {
        await using var client = new MqttClient(Options(1));

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.SubscribeAsync("a/b", MqttQualityOfService.ExactlyOnce));

        Assert.Contains("QoS 2 subscription to \"a/b\" refused", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_Qos2_ThrowsArgumentException()
    {
        await using var client = new MqttClient(Options(1));

        await Assert.ThrowsAsync<ArgumentException>(() => client.PublishAsync("a/b", Bytes("x"), MqttQualityOfService.ExactlyOnce));
    }

    [Theory]
    [InlineData("a/+")]
    [InlineData("")]
    public async Task PublishAsync_InvalidTopic_ThrowsArgumentException(string topic)
    {
        await using var client = new MqttClient(Options(1));

        await Assert.ThrowsAsync<ArgumentException>(() => client.PublishAsync(topic, Bytes("x")));
    }

    [Fact]
    public async Task SubscribeAsync_InvalidFilter_ThrowsArgumentException()
    {
        await using var client = new MqttClient(Options(1));

        await Assert.ThrowsAsync<ArgumentException>(() => client.SubscribeAsync("a/#/b"));
    }

    [Fact]
    public async Task PublishAsync_Qos1QueueFull_ThrowsQueueFullAndKeepsQueued()
    {
        await using var client = new MqttClient(Options(1) with { MaxPendingQos1 = 3 });
        for (var i = 0; i < 3; i++)
        {
            await client.PublishAsync("alarm", Bytes("a"), MqttQualityOfService.AtLeastOnce);
        }

        var ex = await Assert.ThrowsAsync<MqttQueueFullException>(() => client.PublishAsync("alarm", Bytes("a"), MqttQualityOfService.AtLeastOnce));

        Assert.Contains("3 messages not yet acknowledged", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, client.PendingQos1Count);
    }

    [Fact]
    public async Task PublishAsync_Qos0QueueFull_DropsOldestAndCounts()
    {
        await using var client = new MqttClient(Options(1) with { MaxQueuedQos0 = 2 });

        for (var i = 0; i < 5; i++)
        {
            await client.PublishAsync("state", Bytes("s"));
        }

        Assert.Equal(3, client.DroppedQos0Count);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsClearly()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MqttClient(Options(1) with { Password = "p" }));

        Assert.Contains("needs a user name", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new MqttClient(Options(1) with { CaFile = "/nonexistent/ca.crt" }));
    }
}
