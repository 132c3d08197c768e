using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;
using static Vitals.Mqtt.Tests.Broker.TestClients;

namespace Vitals.Mqtt.Tests;

/// <summary>The client against a real mosquitto on loopback.</summary>
public class MqttClientBrokerTests(MosquittoFixture fixture) : IClassFixture<MosquittoFixture>
{
    private readonly MosquittoBroker _broker = fixture.Broker;

    [Theory]
    [InlineData(MqttQualityOfService.AtMostOnce)]
    [InlineData(MqttQualityOfService.AtLeastOnce)]
    public async Task PublishAsync_ToOwnSubscription_MessageReceivedWithPayloadAndQos(MqttQualityOfService qos)
    {
        var topic = UniqueTopic("chair1/obs");
        await using var subscriber = await ConnectedAsync(Options(_broker.Port));
        await using var publisher = await ConnectedAsync(Options(_broker.Port));
        await subscriber.SubscribeAsync(topic.Replace("chair1", "+", StringComparison.Ordinal), qos);

        await publisher.PublishAsync(topic, Bytes("{\"hr\":72}"), qos);
        var message = await subscriber.ReceiveAsync();

        Assert.Equal(topic, message.Topic);
        Assert.Equal("{\"hr\":72}", message.Text());
        Assert.Equal(qos, message.Qos);
        Assert.False(message.Retain);
        await publisher.FlushAsync().WaitAsync(TestTimeout);
        Assert.Equal(0, publisher.PendingQos1Count);
    }

    [Fact]
    public async Task PublishAsync_ManyQos1Messages_AllArriveInOrder()
    {
        var topic = UniqueTopic("burst");
        await using var subscriber = await ConnectedAsync(Options(_broker.Port));
        await using var publisher = await ConnectedAsync(Options(_broker.Port));
        await subscriber.SubscribeAsync(topic);

        // 1000 fits mosquitto's default per-client limits (20 in flight + 1000 queued); beyond that the broker drops.
        for (var i = 0; i < 1000; i++)
        {
            await publisher.PublishAsync(topic, Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), MqttQualityOfService.AtLeastOnce);
        }

        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), (await subscriber.ReceiveAsync()).Text());
        }

        await publisher.FlushAsync().WaitAsync(TestTimeout);
    }

    [Fact]
    public async Task Messages_Qos1Received_IsAcknowledgedSoPersistentSessionDoesNotRedeliverIt()
    {
        var topic = UniqueTopic("acked");
        var options = Options(_broker.Port, "persistent-" + Guid.NewGuid().ToString("N")[..8]) with { CleanSession = false };
        await using var publisher = await ConnectedAsync(Options(_broker.Port));
        await using (var first = await ConnectedAsync(options))
        {
            await first.SubscribeAsync(topic);
            await publisher.PublishAsync(topic, Bytes("one"), MqttQualityOfService.AtLeastOnce);
            Assert.Equal("one", (await first.ReceiveAsync()).Text());
            await first.FlushAsync().WaitAsync(TestTimeout); // the PUBACK is written
        }

        await publisher.PublishAsync(topic, Bytes("two"), MqttQualityOfService.AtLeastOnce); // queued by the broker for the offline session
        await publisher.FlushAsync().WaitAsync(TestTimeout);
        await using var again = await ConnectedAsync(options);

        // [MQTT-4.3.2-2] "one" was acknowledged, so the broker's session holds only "two".
        var next = await again.ReceiveAsync();
        Assert.Equal("two", next.Text());
    }

    [Fact]
    public async Task OnMessages_ManyQos1Messages_HandedOverInOrderNotThroughTheChannel()
    {
        var topic = UniqueTopic("handed");
        var texts = new List<string>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscriber = new MqttClient(Options(_broker.Port))
        {
            OnMessages = (messages, _) =>
            {
                texts.AddRange(messages.Select(m => m.Text())); // the list is reused after the call: copied here
                if (texts.Count >= 1000)
                {
                    all.TrySetResult();
                }

                return ValueTask.CompletedTask;
            },
        };
        await subscriber.ConnectAsync().WaitAsync(TestTimeout);
        await using var publisher = await ConnectedAsync(Options(_broker.Port));
        await subscriber.SubscribeAsync(topic);

        for (var i = 0; i < 1000; i++)
        {
            await publisher.PublishAsync(topic, Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), MqttQualityOfService.AtLeastOnce);
        }

        await all.Task.WaitAsync(TestTimeout);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), texts);
        Assert.False(subscriber.Messages.TryRead(out _));
    }

    [Fact]
    public async Task OnMessages_PayloadsReadAfterTheHandlerAwaits_AreIntact()
    {
        // Payloads are lent from the receive buffer: the client must not read into it again before the handler completes.
        var topic = UniqueTopic("lent");
        var texts = new List<string>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscriber = new MqttClient(Options(_broker.Port))
        {
            OnMessages = async (messages, ct) =>
            {
                await Task.Delay(5, ct); // more messages arrive at the socket meanwhile
                texts.AddRange(messages.Select(m => m.Text()));
                if (texts.Count >= 1000)
                {
                    all.TrySetResult();
                }
            },
        };
        await subscriber.ConnectAsync().WaitAsync(TestTimeout);
        await using var publisher = await ConnectedAsync(Options(_broker.Port));
        await subscriber.SubscribeAsync(topic);

        for (var i = 0; i < 1000; i++)
        {
            await publisher.PublishAsync(topic, Bytes("message " + i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)), MqttQualityOfService.AtLeastOnce);
        }

        await all.Task.WaitAsync(TestTimeout);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => "message " + i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)), texts);
    }

    [Fact]
    public async Task OnMessages_Qos1_AcknowledgedOnlyOnceTheHandlerCompletes()
    {
        var topic = UniqueTopic("held");
        var options = Options(_broker.Port, "persistent-" + Guid.NewGuid().ToString("N")[..8]) with { CleanSession = false };
        await using var publisher = await ConnectedAsync(Options(_broker.Port));
        var handed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource();
        await using var holding = new MqttClient(options)
        {
            OnMessages = async (messages, ct) =>
            {
                handed.TrySetResult(messages[0].Text());
                await never.Task.WaitAsync(ct); // as a gateway whose store never commits
            },
        };
        await holding.ConnectAsync().WaitAsync(TestTimeout);
        await holding.SubscribeAsync(topic);
        await publisher.PublishAsync(topic, Bytes("one"), MqttQualityOfService.AtLeastOnce);
        Assert.Equal("one", await handed.Task.WaitAsync(TestTimeout));
        await holding.AbortAsync(); // gone before its handler finished: no PUBACK was owed yet

        var texts = new List<string>();
        var redelivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var again = new MqttClient(options)
        {
            OnMessages = (messages, _) =>
            {
                texts.AddRange(messages.Select(m => m.Text()));
                redelivered.TrySetResult();
                return ValueTask.CompletedTask;
            },
        })
        {
            await again.ConnectAsync().WaitAsync(TestTimeout);
            await redelivered.Task.WaitAsync(TestTimeout);
            Assert.Equal(["one"], texts); // [MQTT-4.4.0-1] the session still held it
            await again.FlushAsync().WaitAsync(TestTimeout); // this time the handler completed: the PUBACK is written
        }

        await publisher.PublishAsync(topic, Bytes("two"), MqttQualityOfService.AtLeastOnce);
        await publisher.FlushAsync().WaitAsync(TestTimeout);
        await using var third = await ConnectedAsync(options);
        Assert.Equal("two", (await third.ReceiveAsync()).Text());
    }

    [Fact]
    public async Task ConnectAsync_WrongPassword_ThrowsClearRefusal()
    {
        var options = Options(_broker.PasswordPort) with { Username = MosquittoBroker.User, Password = "wrong" };
        await using var client = new MqttClient(options);

        var ex = await Assert.ThrowsAsync<MqttConnectException>(() => client.ConnectAsync().WaitAsync(TestTimeout));

        // mosquitto 2.0 answers a wrong password with "not authorized" (5); some brokers use 4.
        Assert.Contains(ex.ReturnCode, new MqttConnectReturnCode?[] { MqttConnectReturnCode.BadUserNameOrPassword, MqttConnectReturnCode.NotAuthorized });
        Assert.StartsWith("MQTT broker refused the connection: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"(CONNACK {(int)ex.ReturnCode!})", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", ex.Message, StringComparison.Ordinal);
        Assert.Equal(MqttConnectionState.Disconnected, client.State);
    }

    [Fact]
    public async Task ConnectAsync_NoCredentialsOnPasswordListener_ThrowsNotAuthorized()
    {
        await using var client = new MqttClient(Options(_broker.PasswordPort));

        var ex = await Assert.ThrowsAsync<MqttConnectException>(() => client.ConnectAsync().WaitAsync(TestTimeout));

        Assert.Equal(MqttConnectReturnCode.NotAuthorized, ex.ReturnCode);
        Assert.Equal("MQTT broker refused the connection: not authorized (CONNACK 5)", ex.Message);
    }

    [Fact]
    public async Task ConnectAsync_RightPassword_ConnectsAndDelivers()
    {
        var topic = UniqueTopic("auth");
        var options = Options(_broker.PasswordPort) with { Username = MosquittoBroker.User, Password = MosquittoBroker.Password };
        await using var client = await ConnectedAsync(options);
        await client.SubscribeAsync(topic);

        await client.PublishAsync(topic, Bytes("ok"), MqttQualityOfService.AtLeastOnce);

        Assert.Equal(MqttConnectionState.Connected, client.State);
        Assert.Equal("ok", (await client.ReceiveAsync()).Text());
    }

    [Fact]
    public async Task ConnectAsync_BrokerNotListening_ThrowsCannotReach()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var port = broker.Port;
        await broker.StopAsync();
        await using var client = new MqttClient(Options(port));

        var ex = await Assert.ThrowsAsync<MqttConnectException>(() => client.ConnectAsync().WaitAsync(TestTimeout));

        Assert.Contains($"Cannot reach MQTT broker 127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.ReturnCode);
    }

    [Fact]
    public async Task ConnectAsync_TlsWithTestCa_ConnectsAndDelivers()
    {
        var topic = UniqueTopic("tls");
        var options = Options(_broker.TlsPort) with { UseTls = true, CaFile = _broker.CaFile };
        await using var client = await ConnectedAsync(options);
        await client.SubscribeAsync(topic);

        await client.PublishAsync(topic, Bytes("over tls"), MqttQualityOfService.AtLeastOnce);

        Assert.Equal("over tls", (await client.ReceiveAsync()).Text());
    }

    [Fact]
    public async Task ConnectAsync_TlsWithLocalhostName_ConnectsBySubjectAltName()
    {
        var options = Options(_broker.TlsPort) with { Host = "localhost", UseTls = true, CaFile = _broker.CaFile };
        await using var client = await ConnectedAsync(options);

        Assert.Equal(MqttConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task ConnectAsync_TlsWithWrongCa_ThrowsUntrustedCertificate()
    {
        var options = Options(_broker.TlsPort) with { UseTls = true, CaFile = _broker.WrongCaFile };
        await using var client = new MqttClient(options);

        var ex = await Assert.ThrowsAsync<MqttConnectException>(() => client.ConnectAsync().WaitAsync(TestTimeout));

        Assert.Contains("TLS handshake with MQTT broker", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not signed by the CA in", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_broker.WrongCaFile, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_TlsWithWrongServerName_ThrowsNameMismatch()
    {
        var options = Options(_broker.TlsPort) with { UseTls = true, CaFile = _broker.CaFile, TlsServerName = "broker.example" };
        await using var client = new MqttClient(options);

        var ex = await Assert.ThrowsAsync<MqttConnectException>(() => client.ConnectAsync().WaitAsync(TestTimeout));

        Assert.Contains("does not name \"broker.example\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_ClientCertificateRequired_ConnectsWithCertificate()
    {
        var topic = UniqueTopic("mtls");
        var options = Options(_broker.MutualTlsPort) with
        {
            UseTls = true,
            CaFile = _broker.CaFile,
            ClientCertificateFile = _broker.ClientCertificateFile,
            ClientKeyFile = _broker.ClientKeyFile,
        };
        await using var client = await ConnectedAsync(options);
        await client.SubscribeAsync(topic);

        await client.PublishAsync(topic, Bytes("mutual tls"), MqttQualityOfService.AtLeastOnce);

        Assert.Equal("mutual tls", (await client.ReceiveAsync()).Text());
    }

    [Fact]
    public async Task ConnectAsync_ClientCertificateRequiredButMissing_Fails()
    {
        var options = Options(_broker.MutualTlsPort) with { UseTls = true, CaFile = _broker.CaFile };
        await using var client = new MqttClient(options);

        var ex = await Assert.ThrowsAsync<MqttConnectException>(() => client.ConnectAsync().WaitAsync(TestTimeout));

        Assert.Contains($"127.0.0.1:{_broker.MutualTlsPort}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_PlainMqttToTlsPort_FailsClearly()
    {
        await using var client = new MqttClient(Options(_broker.TlsPort) with { ConnectTimeout = TimeSpan.FromSeconds(2) });

        var ex = await Assert.ThrowsAsync<MqttConnectException>(() => client.ConnectAsync().WaitAsync(TestTimeout));

        Assert.Contains("before CONNACK", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_Retained_NewSubscriberGetsItWithRetainFlag()
    {
        var topic = UniqueTopic("chair2/state");
        await using (var publisher = await ConnectedAsync(Options(_broker.Port)))
        {
            await publisher.PublishAsync(topic, Bytes("{\"hr\":80}"), MqttQualityOfService.AtLeastOnce, retain: true);
            await publisher.FlushAsync().WaitAsync(TestTimeout);
        }

        await using var late = await ConnectedAsync(Options(_broker.Port));
        await late.SubscribeAsync(topic);
        var message = await late.ReceiveAsync();

        Assert.True(message.Retain);
        Assert.Equal("{\"hr\":80}", message.Text());
    }

    [Fact]
    public async Task Subscribe_RetainedMessageOverMaxPacketSize_SkippedAndCountedConnectionStaysUp()
    {
        // A retained message above the limit comes back on every subscribe: it must not cost the connection each time.
        var prefix = UniqueTopic("site");
        await using (var publisher = await ConnectedAsync(Options(_broker.Port) with { MaxPacketSize = 4 * 1024 * 1024 }))
        {
            await publisher.PublishAsync($"{prefix}/chair-x/obs", new byte[1536 * 1024], MqttQualityOfService.AtLeastOnce, retain: true);
            await publisher.PublishAsync($"{prefix}/chair-1/obs", Bytes("{\"hr\":70}"), MqttQualityOfService.AtLeastOnce, retain: true);
            await publisher.FlushAsync().WaitAsync(TestTimeout);
        }

        await using var subscriber = await ConnectedAsync(Options(_broker.Port));
        var errors = 0;
        subscriber.StateChanged += (_, e) => Interlocked.Add(ref errors, e.Error is null ? 0 : 1);
        await subscriber.SubscribeAsync($"{prefix}/+/obs");

        Assert.Equal("{\"hr\":70}", (await subscriber.ReceiveAsync()).Text());
        await using (var live = await ConnectedAsync(Options(_broker.Port)))
        {
            await live.PublishAsync($"{prefix}/chair-x/obs", Bytes("{\"hr\":71}"), MqttQualityOfService.AtLeastOnce);
            await live.FlushAsync().WaitAsync(TestTimeout);
        }

        Assert.Equal("{\"hr\":71}", (await subscriber.ReceiveAsync()).Text());
        Assert.Equal(1, subscriber.OversizedSkippedCount);
        Assert.Equal($"{prefix}/chair-x/obs ({(1536 * 1024) + 2 + 2 + 4 + prefix.Length + "/chair-x/obs".Length} bytes)", subscriber.LastOversized);
        Assert.Equal(MqttConnectionState.Connected, subscriber.State);
        Assert.Equal(0, Volatile.Read(ref errors));
    }

    [Fact]
    public async Task Messages_Qos1OverMaxPacketSize_AcknowledgedSoPersistentSessionDoesNotRedeliverIt()
    {
        var topic = UniqueTopic("big");
        var options = Options(_broker.Port, "persistent-" + Guid.NewGuid().ToString("N")[..8]) with { CleanSession = false, MaxPacketSize = 64 * 1024 };
        await using (var first = await ConnectedAsync(options))
        {
            await first.SubscribeAsync(topic);
        }

        await using var publisher = await ConnectedAsync(Options(_broker.Port));
        await publisher.PublishAsync(topic, new byte[100 * 1024], MqttQualityOfService.AtLeastOnce); // queued for the offline session
        await publisher.FlushAsync().WaitAsync(TestTimeout);
        await using (var second = await ConnectedAsync(options))
        {
            await publisher.PublishAsync(topic, Bytes("after"), MqttQualityOfService.AtLeastOnce);
            Assert.Equal("after", (await second.ReceiveAsync()).Text());
            Assert.Equal(1, second.OversizedSkippedCount);
            await second.FlushAsync().WaitAsync(TestTimeout); // the PUBACKs are written
        }

        await publisher.PublishAsync(topic, Bytes("third"), MqttQualityOfService.AtLeastOnce);
        await publisher.FlushAsync().WaitAsync(TestTimeout);
        await using var third = await ConnectedAsync(options);

        Assert.Equal("third", (await third.ReceiveAsync()).Text());
        Assert.Equal(0, third.OversizedSkippedCount);
    }

    [Fact]
    public async Task Will_ClientSocketKilled_BrokerPublishesLastWill()
    {
        var topic = UniqueTopic("gateway/status");
        await using var watcher = await ConnectedAsync(Options(_broker.Port));
        await watcher.SubscribeAsync(topic);
        var options = Options(_broker.Port) with { Will = new MqttWill(topic, Bytes("offline"), MqttQualityOfService.AtLeastOnce) };
        await using var gateway = await ConnectedAsync(options);

        await gateway.AbortAsync();
        var will = await watcher.ReceiveAsync();

        Assert.Equal(topic, will.Topic);
        Assert.Equal("offline", will.Text());
    }

    [Fact]
    public async Task Will_GracefulDispose_NoLastWill()
    {
        var topic = UniqueTopic("gateway/status");
        await using var watcher = await ConnectedAsync(Options(_broker.Port));
        await watcher.SubscribeAsync(topic + "/#");
        var options = Options(_broker.Port) with { Will = new MqttWill(topic, Bytes("offline")) };
        var gateway = await ConnectedAsync(options);

        await gateway.DisposeAsync();
        await watcher.PublishAsync(topic + "/marker", Bytes("marker"));
        var first = await watcher.ReceiveAsync();

        // [MQTT-3.14.4-3] DISCONNECT discards the will, so the marker published afterwards is the first message.
        Assert.Equal("marker", first.Text());
    }

    [Fact]
    public async Task PublishAsync_ToMosquittoSub_InteropReceivesPayload()
    {
        var topic = UniqueTopic("to-sub");
        await using var client = await ConnectedAsync(Options(_broker.Port));
        var port = _broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sub = MosquittoBroker.Run("mosquitto_sub", ["-h", "127.0.0.1", "-p", port, "-t", topic, "-q", "1", "-C", "1", "-W", "10", "-v"]);

        // mosquitto_sub needs a moment to subscribe; keep publishing until it has its message.
        while (!sub.IsCompleted)
        {
            await client.PublishAsync(topic, Bytes("from vitals"), MqttQualityOfService.AtLeastOnce);
            await Task.WhenAny(sub, Task.Delay(100));
        }

        Assert.Equal($"{topic} from vitals", (await sub).Trim());
    }

    [Fact]
    public async Task SubscribeAsync_FromMosquittoPub_InteropReceivesPayload()
    {
        var topic = UniqueTopic("from-pub");
        await using var client = await ConnectedAsync(Options(_broker.Port));
        await client.SubscribeAsync(topic);

        await MosquittoBroker.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", _broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-q", "1", "-m", "{\"spo2\":97}"]);
        var message = await client.ReceiveAsync();

        Assert.Equal("{\"spo2\":97}", message.Text());
        Assert.Equal(MqttQualityOfService.AtLeastOnce, message.Qos);
    }

    [Fact]
    public async Task UnsubscribeAsync_AfterUnsubscribe_NoMoreMessages()
    {
        var topic = UniqueTopic("unsub");
        await using var client = await ConnectedAsync(Options(_broker.Port));
        await client.SubscribeAsync(topic);
        await client.SubscribeAsync(topic + "/marker");

        await client.UnsubscribeAsync(topic);
        await client.PublishAsync(topic, Bytes("ignored"), MqttQualityOfService.AtLeastOnce);
        await client.PublishAsync(topic + "/marker", Bytes("marker"), MqttQualityOfService.AtLeastOnce);

        Assert.Equal("marker", (await client.ReceiveAsync()).Text());
    }

    [Fact]
    public async Task KeepAlive_IdleLongerThanKeepAlive_StaysConnected()
    {
        var topic = UniqueTopic("idle");
        var options = Options(_broker.Port) with { KeepAliveSeconds = 1 };
        await using var client = await ConnectedAsync(options);
        var drops = 0;
        client.StateChanged += (_, e) => drops += e.State == MqttConnectionState.Disconnected ? 1 : 0;
        await client.SubscribeAsync(topic);

        // mosquitto drops a client silent for 1.5 keep-alive periods [MQTT-3.1.2-24]; our PINGREQs prevent that.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await client.PublishAsync(topic, Bytes("still here"));

        Assert.Equal("still here", (await client.ReceiveAsync()).Text());
        Assert.Equal(0, drops);
    }
}
