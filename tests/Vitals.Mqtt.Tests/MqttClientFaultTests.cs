using System.Net;
using System.Net.Sockets;
using Vitals.Mqtt.Packets;
using static Vitals.Mqtt.Tests.Broker.TestClients;

namespace Vitals.Mqtt.Tests;

/// <summary>
/// Broker misbehaviour mosquitto cannot be made to show (silence, garbage), played by a hand-written fake broker on
/// loopback that accepts CONNECT, answers CONNACK, then does what the test asks.
/// </summary>
public class MqttClientFaultTests
{
    [Fact]
    public async Task KeepAlive_BrokerStopsAnswering_ConnectionDeclaredDeadAndReconnected()
    {
        await using var broker = new FakeBroker(afterConnAck: null);
        var errors = new List<Exception>();
        var options = Options(broker.Port) with { KeepAliveSeconds = 1, ResponseTimeout = TimeSpan.FromMilliseconds(500) };
        await using var client = new MqttClient(options);
        client.StateChanged += (_, e) =>
        {
            if (e.Error is not null)
            {
                lock (errors)
                {
                    errors.Add(e.Error);
                }
            }
        };

        await client.ConnectAsync().WaitAsync(TestTimeout);
        await broker.WaitForConnectionsAsync(2).WaitAsync(TestTimeout);

        lock (errors)
        {
            Assert.Contains(errors, e => e is TimeoutException && e.Message.Contains("PINGREQ", StringComparison.Ordinal));
        }

        Assert.True(broker.PingRequests >= 1);
    }

    [Fact]
    public async Task ReadLoop_MalformedPacketFromBroker_ClosesAndReconnects()
    {
        // A remaining length with a fifth continuation byte [MQTT 2.2.3].
        await using var broker = new FakeBroker(afterConnAck: [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        var protocolErrors = 0;
        await using var client = new MqttClient(Options(broker.Port));
        client.StateChanged += (_, e) => protocolErrors += e.Error is MqttProtocolException ? 1 : 0;

        await client.ConnectAsync().WaitAsync(TestTimeout);
        await broker.WaitForConnectionsAsync(2).WaitAsync(TestTimeout);

        Assert.True(protocolErrors >= 1);
    }

    [Fact]
    public async Task ReadLoop_OversizePacketFromBroker_ClosesWithoutAllocatingIt()
    {
        // SUBACK announcing 200 MB; the client must reject it from the header alone (an oversized PUBLISH is skipped instead).
        await using var broker = new FakeBroker(afterConnAck: [0x90, 0x80, 0x80, 0x80, 0x60]);
        Exception? error = null;
        await using var client = new MqttClient(Options(broker.Port) with { MaxPacketSize = 64 * 1024 });
        client.StateChanged += (_, e) => error ??= e.Error;

        await client.ConnectAsync().WaitAsync(TestTimeout);
        await broker.WaitForConnectionsAsync(2).WaitAsync(TestTimeout);

        var protocol = Assert.IsType<MqttProtocolException>(error);
        Assert.Contains("maximum packet size", protocol.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_Qos1UnackedWhenConnectionDrops_ResentWithDupAndSameId()
    {
        await using var broker = new FakeBroker(afterConnAck: null) { DropOnFirstPublish = true };
        await using var client = new MqttClient(Options(broker.Port));
        await client.ConnectAsync().WaitAsync(TestTimeout);

        await client.PublishAsync("vitals/s/c1/alarm", Bytes("{\"state\":\"raised\"}"), MqttQualityOfService.AtLeastOnce);
        await broker.WaitForPublishesAsync(2).WaitAsync(TestTimeout);

        var (firstConnection, first) = broker.Publishes[0];
        var (secondConnection, resent) = broker.Publishes[1];
        Assert.Equal((1, false), (firstConnection, first.Dup));
        Assert.Equal((2, true), (secondConnection, resent.Dup)); // [MQTT-3.3.1-1] [MQTT-4.4.0-1]
        Assert.Equal(first.PacketId, resent.PacketId);
        Assert.Equal(first.Payload.ToArray(), resent.Payload.ToArray());
        Assert.Equal(1, client.PendingQos1Count); // the fake never acknowledges
    }

    [Fact]
    public async Task Start_NothingListening_RetriesWithGrowingBackoffAndConnectsWhenBrokerAppears()
    {
        using var reserved = new ReservedPort(); // refuses connections until the broker below listens on it
        var port = reserved.Port;
        var attempts = new List<DateTimeOffset>();
        var options = Options(port) with { ReconnectDelay = TimeSpan.FromMilliseconds(50), ReconnectMaxDelay = TimeSpan.FromMilliseconds(800) };
        await using var client = new MqttClient(options);
        client.StateChanged += (_, e) =>
        {
            if (e.State == MqttConnectionState.Connecting)
            {
                lock (attempts)
                {
                    attempts.Add(TimeProvider.System.GetUtcNow());
                }
            }
        };

        client.Start();
        await Eventually.TrueAsync(
            () =>
            {
                lock (attempts)
                {
                    return attempts.Count >= 5;
                }
            },
            "five connection attempts");
        TimeSpan waited;
        lock (attempts)
        {
            waited = attempts[4] - attempts[0];
        }

        // 50 ms doubling with jitter: a single delay can come out short, but the four together average ~750 ms; a tight
        // loop would make them ~0. A busy machine only lengthens them, so this lower bound cannot fail for slowness.
        Assert.True(waited >= TimeSpan.FromMilliseconds(150), $"five attempts within {waited.TotalMilliseconds} ms");
        Assert.NotEqual(MqttConnectionState.Connected, client.State);

        await using var broker = new FakeBroker(afterConnAck: null, reserved.Socket);
        await client.WaitForStateAsync(MqttConnectionState.Connected, TestTimeout);
    }

    [Fact]
    public async Task StateChanged_HandlerThrows_ClientStillReconnects()
    {
        await using var broker = new FakeBroker(afterConnAck: null) { DropOnFirstPublish = true };
        await using var client = new MqttClient(Options(broker.Port));
        client.StateChanged += (_, _) => throw new InvalidOperationException("faulty observer");
        await client.ConnectAsync().WaitAsync(TestTimeout);

        await client.PublishAsync("a/b", Bytes("x"), MqttQualityOfService.AtLeastOnce);
        await broker.WaitForPublishesAsync(2).WaitAsync(TestTimeout);

        Assert.Equal(MqttConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task SubscribeAsync_BrokerAnswersFailure_ThrowsSubscribeException()
    {
        await using var broker = new FakeBroker(afterConnAck: null) { SubAckCode = SubAckPacket.Failure };
        await using var client = new MqttClient(Options(broker.Port));
        await client.ConnectAsync().WaitAsync(TestTimeout);

        var ex = await Assert.ThrowsAsync<MqttSubscribeException>(() => client.SubscribeAsync("vitals/secret/#").WaitAsync(TestTimeout));

        Assert.Equal("MQTT broker refused the subscription to \"vitals/secret/#\" (SUBACK 0x80).", ex.Message);
    }

    [Fact]
    public async Task ConnectAsync_SubscribedBeforeConnectAndRefused_ReportsThroughStateChanged()
    {
        await using var broker = new FakeBroker(afterConnAck: null) { SubAckCode = SubAckPacket.Failure };
        await using var client = new MqttClient(Options(broker.Port));
        var reported = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += (_, e) =>
        {
            if (e.Error is MqttSubscribeException)
            {
                reported.TrySetResult(e.Error);
            }
        };

        await client.SubscribeAsync("vitals/+/+/obs"); // not connected: recorded, sent on connect
        await client.ConnectAsync().WaitAsync(TestTimeout);
        var error = await reported.Task.WaitAsync(TestTimeout);

        Assert.Contains("\"vitals/+/+/obs\"", error.Message, StringComparison.Ordinal);
        Assert.Equal(MqttConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task Acknowledge_ManualOutOfOrder_PubAcksWaitForEarlierMessagesAndLeaveInArrivalOrder()
    {
        // Three QoS 1 messages right after CONNACK; the application acknowledges the last two first.
        var publishes = new[] { 1, 2, 3 }.SelectMany(id => MqttPacketWriter.ToArray(
            new PublishPacket("t/obs", new byte[] { (byte)id }, MqttQualityOfService.AtLeastOnce, PacketId: (ushort)id))).ToArray();
        await using var broker = new FakeBroker(afterConnAck: publishes);
        await using var client = new MqttClient(Options(broker.Port) with { AcknowledgeManually = true });
        await client.ConnectAsync().WaitAsync(TestTimeout);
        var messages = new List<MqttMessage>();
        for (var i = 0; i < 3; i++)
        {
            messages.Add(await client.Messages.ReadAsync().AsTask().WaitAsync(TestTimeout));
        }

        client.Acknowledge(messages[2]);
        client.Acknowledge(messages[1]);
        await Task.Delay(300); // room for a wrong early PUBACK to arrive
        Assert.Empty(broker.PubAcks);

        client.Acknowledge(messages[0]);
        client.Acknowledge(messages[0]); // twice: still one PUBACK
        await Eventually.TrueAsync(() => broker.PubAcks.Count >= 3, "three PUBACKs");
        await Task.Delay(300);
        Assert.Equal([1, 2, 3], broker.PubAcks.Select(id => (int)id)); // [MQTT-4.6.0-2] in the order received
    }

    /// <summary>Minimal scripted broker: CONNACK, then optional bytes, then only answers nothing (counts PINGREQs).</summary>
    private sealed class FakeBroker : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly byte[]? _afterConnAck;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accept;
        private readonly List<TcpClient> _clients = [];
        private int _connections;
        private int _pings;
        private readonly List<ushort> _pubAcks = [];

        /// <summary>Listens on <paramref name="bound"/> (a reserved port) or on a fresh loopback port.</summary>
        public FakeBroker(byte[]? afterConnAck, Socket? bound = null)
        {
            _listener = bound ?? new ReservedPort().Socket;
            _afterConnAck = afterConnAck;
            _listener.Listen();
            _accept = Task.Run(AcceptAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public int PingRequests => Volatile.Read(ref _pings);

        /// <summary>When set, SUBSCRIBE is answered with this return code for every filter.</summary>
        public byte? SubAckCode { get; init; }

        /// <summary>Close the first connection as soon as a PUBLISH arrives on it, without PUBACK.</summary>
        public bool DropOnFirstPublish { get; init; }

        /// <summary>Packet ids of the PUBACKs received, in order.</summary>
        public IReadOnlyList<ushort> PubAcks
        {
            get
            {
                lock (_pubAcks)
                {
                    return [.. _pubAcks];
                }
            }
        }

        /// <summary>PUBLISH packets received, with the 1-based connection they came on.</summary>
        public List<(int Connection, PublishPacket Packet)> Publishes { get; } = [];

        public Task WaitForPublishesAsync(int count) => Eventually.TrueAsync(
            () =>
            {
                lock (Publishes)
                {
                    return Publishes.Count >= count;
                }
            },
            $"{count} PUBLISH packets");

        public Task WaitForConnectionsAsync(int count) => Eventually.TrueAsync(() => Volatile.Read(ref _connections) >= count, $"{count} connections");

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Dispose();
            try
            {
                await _accept;
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopping.
            }

            lock (_clients)
            {
                _clients.ForEach(c => c.Dispose());
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = new TcpClient { Client = await _listener.AcceptAsync(_stop.Token) };
                lock (_clients)
                {
                    _clients.Add(client);
                }

                var index = Interlocked.Increment(ref _connections);
                _ = Task.Run(() => ServeAsync(client, index));
            }
        }

        private async Task ServeAsync(TcpClient client, int index)
        {
            try
            {
                var stream = client.GetStream();
                var reader = new MqttPacketReader();
                var buffer = new byte[4096];
                var filled = 0;
                var connected = false;
                while (true)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(filled), _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    filled += n;
                    var sequence = new System.Buffers.ReadOnlySequence<byte>(buffer, 0, filled);
                    while (reader.TryReadPacket(ref sequence, out var packet))
                    {
                        if (packet is ConnectPacket && !connected)
                        {
                            connected = true;
                            await stream.WriteAsync(MqttPacketWriter.ToArray(new ConnAckPacket(false, MqttConnectReturnCode.Accepted)), _stop.Token);
                            if (_afterConnAck is not null)
                            {
                                await stream.WriteAsync(_afterConnAck, _stop.Token);
                            }
                        }
                        else if (packet is PublishPacket publish)
                        {
                            lock (Publishes)
                            {
                                Publishes.Add((index, publish));
                            }

                            if (DropOnFirstPublish && index == 1)
                            {
                                client.Client.Close();
                                return;
                            }
                        }
                        else if (packet is SubscribePacket subscribe && SubAckCode is { } code)
                        {
                            var codes = Enumerable.Repeat(code, subscribe.Subscriptions.Count).ToArray();
                            await stream.WriteAsync(MqttPacketWriter.ToArray(new SubAckPacket(subscribe.PacketId, codes)), _stop.Token);
                        }
                        else if (packet is PubAckPacket pubAck)
                        {
                            lock (_pubAcks)
                            {
                                _pubAcks.Add(pubAck.PacketId);
                            }
                        }
                        else if (packet is PingReqPacket)
                        {
                            Interlocked.Increment(ref _pings); // and deliberately no PINGRESP
                        }
                    }

                    var rest = (int)sequence.Length;
                    Array.Copy(buffer, filled - rest, buffer, 0, rest);
                    filled = rest;
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // The client went away; that is what these tests provoke.
            }
        }
    }
}
