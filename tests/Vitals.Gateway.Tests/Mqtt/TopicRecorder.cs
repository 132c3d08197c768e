using System.Collections.Concurrent;
using System.Text;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;

namespace Vitals.Gateway.Tests.Mqtt;

/// <summary>
/// An independent MQTT subscriber that records every message it receives (topic, payload text, retain flag), as a
/// central station would see them. With a fixed <c>clientId</c> and <c>persistent</c> its session outlives its
/// connection and broker restarts (with broker persistence), so QoS 1 messages published meanwhile are queued for it.
/// </summary>
internal sealed class TopicRecorder : IAsyncDisposable
{
    private readonly MqttClient client;
    private readonly ConcurrentQueue<Recorded> messages = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task reader;

    private TopicRecorder(MqttClient client)
    {
        this.client = client;
        reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var m in client.Messages.ReadAllAsync(stop.Token))
                {
                    messages.Enqueue(new Recorded(m.Topic, Encoding.UTF8.GetString(m.Payload.Span), m.Retain));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    /// <summary>One received message.</summary>
    public sealed record Recorded(string Topic, string Payload, bool Retain);

    /// <summary>The client, for its connection state.</summary>
    public MqttClient Client => client;

    /// <summary>Everything received so far, in arrival order.</summary>
    public IReadOnlyList<Recorded> Messages => [.. messages];

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> and subscribes to <paramref name="filters"/> at QoS 1.</summary>
    public static async Task<TopicRecorder> StartAsync(int port, IEnumerable<string> filters, string? clientId = null, bool persistent = false)
    {
        var client = new MqttClient(TestClients.Options(port, clientId) with { CleanSession = !persistent });
        try
        {
            await client.ConnectAsync().WaitAsync(TestClients.TestTimeout);
            foreach (var filter in filters)
            {
                await client.SubscribeAsync(filter, MqttQualityOfService.AtLeastOnce).WaitAsync(TestClients.TestTimeout);
            }
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        return new TopicRecorder(client);
    }

    /// <summary>Messages on <paramref name="topic"/> whose payload contains every one of <paramref name="fragments"/>.</summary>
    public IReadOnlyList<Recorded> On(string topic, params string[] fragments) =>
        [.. messages.Where(m => m.Topic == topic && fragments.All(f => m.Payload.Contains(f, StringComparison.Ordinal)))];

    /// <summary>Waits until <see cref="On"/> finds at least <paramref name="count"/> messages.</summary>
    public Task WaitForAsync(string topic, int count = 1, TimeSpan? timeout = null, params string[] fragments) =>
        Eventually.TrueAsync(() => On(topic, fragments).Count >= count, $"{count} message(s) on {topic} containing {string.Join(", ", fragments)}", timeout ?? TimeSpan.FromSeconds(60));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await reader;
        await client.DisposeAsync();
        stop.Dispose();
    }
}
