using System.Text;
using System.Text.Json;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Simulator.Cli;

namespace Vitals.Simulator.Tests;

/// <summary><c>vitals-sim mqtt</c> against a real mosquitto on 127.0.0.1.</summary>
public sealed class MqttCommandTests(MosquittoFixture mosquitto) : IClassFixture<MosquittoFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public async Task Mqtt_Count_PublishesExactlyThatManyMessagesAndExitsZero(int count)
    {
        using var cts = new CancellationTokenSource(Timeout);
        string chair = $"chair-count-{count}";
        string topic = $"vitals/clinic/{chair}/obs";
        await using var subscriber = new MqttClient(MqttUrl.Parse($"mqtt://127.0.0.1:{mosquitto.Broker.Port}") with { ClientId = $"count-test-{count}" });
        await subscriber.ConnectAsync(cts.Token);
        await subscriber.SubscribeAsync(topic, cancellationToken: cts.Token);

        var error = new StringWriter();
        int code = await MqttCommand.Create(error)
            .Parse(["--broker", $"mqtt://127.0.0.1:{mosquitto.Broker.Port}", "--chair", chair, "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--step-ms", "0"])
            .InvokeAsync(cancellationToken: cts.Token);

        Assert.Equal(0, code);
        Assert.Contains($"published {count} messages to {topic}", error.ToString(), StringComparison.Ordinal);

        // The command waited for its PUBACKs before exiting, so the broker routed all of them before this end marker:
        // everything between subscribing and the marker is what the command published.
        await using (var marker = new MqttClient(MqttUrl.Parse($"mqtt://127.0.0.1:{mosquitto.Broker.Port}") with { ClientId = $"count-marker-{count}" }))
        {
            await marker.ConnectAsync(cts.Token);
            await marker.PublishAsync(topic, "end"u8.ToArray(), MqttQualityOfService.AtLeastOnce, cancellationToken: cts.Token);
            await marker.FlushAsync(cts.Token);
        }

        var received = new List<string>();
        await foreach (var message in subscriber.Messages.ReadAllAsync(cts.Token))
        {
            string text = Encoding.UTF8.GetString(message.Payload.Span);
            if (text == "end")
            {
                break;
            }

            received.Add(text);
        }

        Assert.Equal(count, received.Count);
        Assert.All(received, json =>
        {
            using var doc = JsonDocument.Parse(json);
            Assert.Equal("sim-mqtt", doc.RootElement.GetProperty("device").GetString());
            Assert.NotEqual(0, doc.RootElement.GetProperty("readings").GetArrayLength());
        });
    }

    [Theory]
    [InlineData("--count", "-1", "--count: -1 is not a count. Fix:")]
    [InlineData("--step-ms", "-5", "--step-ms: -5 is out of range. Fix:")]
    [InlineData("--chair", "chair/+", "--topic-prefix/--site/--chair: 'vitals/clinic/chair/+/obs' is not a topic")]
    public async Task Mqtt_BadArgument_ExitsTwoWithAClearErrorAndPublishesNothing(string option, string value, string expected)
    {
        var error = new StringWriter();
        int code = await MqttCommand.Create(error)
            .Parse(["--broker", $"mqtt://127.0.0.1:{mosquitto.Broker.Port}", option, value])
            .InvokeAsync();

        Assert.Equal(2, code);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("published", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mqtt_BrokerUrlWithWrongScheme_NamesTheOption()
    {
        var error = new StringWriter();
        int code = await MqttCommand.Create(error).Parse(["--broker", "http://127.0.0.1:1883"]).InvokeAsync();

        Assert.Equal(2, code);
        Assert.Contains("--broker", error.ToString(), StringComparison.Ordinal);
    }
}
