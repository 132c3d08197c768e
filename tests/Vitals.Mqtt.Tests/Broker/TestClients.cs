using System.Text;

namespace Vitals.Mqtt.Tests.Broker;

/// <summary>Short timeouts and small helpers so no broker test can hang.</summary>
internal static class TestClients
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    public static MqttClientOptions Options(int port, string? clientId = null) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        ClientId = clientId ?? "test-" + Guid.NewGuid().ToString("N")[..10],
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ReconnectDelay = TimeSpan.FromMilliseconds(100),
        ReconnectMaxDelay = TimeSpan.FromSeconds(1),
        KeepAliveSeconds = 10,
    };

    public static async Task<MqttClient> ConnectedAsync(MqttClientOptions options)
    {
        var client = new MqttClient(options);
        await client.ConnectAsync().WaitAsync(TestTimeout);
        return client;
    }

    public static async Task<MqttMessage> ReceiveAsync(this IMqttClient client, TimeSpan? timeout = null) =>
        await client.Messages.ReadAsync().AsTask().WaitAsync(timeout ?? TestTimeout);

    public static string Text(this MqttMessage message) => Encoding.UTF8.GetString(message.Payload.Span);

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string UniqueTopic(string name) => $"test/{Guid.NewGuid():N}/{name}";

    /// <summary>Completes when the client reaches <paramref name="state"/> (or times out).</summary>
    public static async Task WaitForStateAsync(this IMqttClient client, MqttConnectionState state, TimeSpan? timeout = null)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChange(object? sender, MqttConnectionStateChangedEventArgs e)
        {
            if (e.State == state)
            {
                reached.TrySetResult();
            }
        }

        client.StateChanged += OnChange;
        try
        {
            if (client.State == state)
            {
                return;
            }

            await reached.Task.WaitAsync(timeout ?? TestTimeout);
        }
        finally
        {
            client.StateChanged -= OnChange;
        }
    }
}
