using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Gateway.Pipeline;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Storage.Sqlite;
using static Vitals.Gateway.Tests.Mqtt.MqttTestSupport;

namespace Vitals.Gateway.Tests.Mqtt;

/// <summary>The gateway against a real mosquitto on loopback, with mosquitto_pub and our own client as independent peers.</summary>
public sealed class MqttGatewayTests(MosquittoFixture fixture) : IClassFixture<MosquittoFixture>
{
    private MosquittoBroker Broker => fixture.Broker;

    private MqttOptions Anonymous(string prefix) => new() { Url = $"mqtt://127.0.0.1:{Broker.Port}", TopicPrefix = prefix };

    [Fact]
    public async Task Obs_FromMosquittoPub_ReachesLiveValuesHistoryAndFeedCounters()
    {
        var prefix = NewPrefix();
        await using var host = await StartAsync(Options(Anonymous(prefix)));
        await host.WaitConnectedAsync();
        var live = host.App.Services.GetRequiredService<LiveState>();
        var ts = DateTimeOffset.UtcNow.AddMinutes(-2).ToUnixTimeMilliseconds(); // a device time the clock policy accepts

        // The SUBACK may trail CONNACK a little: publish until the reading shows.
        await Eventually.TrueAsync(
            () =>
            {
                PubAsync(Broker.Port, $"{prefix}/{Site}/chair-1/obs", """{"device":"mon-1","readings":[{"sign":"hr","value":77},{"mdc":150456,"value":96,"quality":"questionable"}]}""").Wait();
                PubAsync(Broker.Port, $"{prefix}/{Site}/chair-2/obs", $$"""{"HeartRate":64,"SpO2":"98","ts":{{ts}}}""").Wait();
                var v1 = live.Snapshot("chair-1")!.Values;
                var v2 = live.Snapshot("chair-2")!.Values;
                return v1.ContainsKey(Sign.Spo2) && v2.ContainsKey(Sign.Spo2);
            },
            "readings published with mosquitto_pub to reach live state");

        var chair1 = live.Snapshot("chair-1")!;
        Assert.Equal(77, chair1.Values[Sign.Hr].Value);
        Assert.Equal(ObservationQuality.Questionable, chair1.Values[Sign.Spo2].Quality);
        var chair2 = live.Snapshot("chair-2")!;
        Assert.Equal(64, chair2.Values[Sign.Hr].Value);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(ts), chair2.Values[Sign.Hr].At);

        var feed = Assert.Single(chair1.Feeds);
        Assert.Equal(("mqtt", "mon-1", true), (feed.Kind, feed.Device, feed.Connected));
        Assert.True(feed.FramesOk >= 1);

        var store = host.App.Services.GetRequiredService<SqliteStore>();
        var now = DateTimeOffset.UtcNow;
        await Eventually.TrueAsync(() => store.Query("chair-1", now.AddMinutes(-5), now.AddMinutes(1)).Any(o => o.Sign == Sign.Hr && o.Value == 77 && o.Source == SourceProtocol.Mqtt), "the reading in history");

        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        var mqtt = status.RootElement.GetProperty("mqtt");
        Assert.Equal("connected", mqtt.GetProperty("state").GetString());
        Assert.True(mqtt.GetProperty("received").GetInt64() >= 2);
        Assert.Equal($"mqtt://127.0.0.1:{Broker.Port}", mqtt.GetProperty("broker").GetString());
    }

    [Fact]
    public async Task Obs_RetainedMessageOverOneMiBOnUnknownChair_SkippedCountedInStatusAndReadingsStillFlow()
    {
        var prefix = NewPrefix();
        await using (var publisher = new Vitals.Mqtt.MqttClient(new Vitals.Mqtt.MqttClientOptions
        {
            Host = "127.0.0.1", Port = Broker.Port, ClientId = "big-" + prefix, MaxPacketSize = 4 * 1024 * 1024,
        }))
        {
            await publisher.ConnectAsync();
            await publisher.PublishAsync($"{prefix}/{Site}/chair-99/obs", new byte[1100 * 1024], MqttQualityOfService.AtLeastOnce, retain: true);
            await publisher.FlushAsync().WaitAsync(MqttTestSupport.Timeout);
        }

        await using var host = await StartAsync(Options(Anonymous(prefix)));
        await host.WaitConnectedAsync();
        await Eventually.TrueAsync(() => host.Bridge().Status()!.Oversized == 1, "the retained oversized message to be skipped");

        // The connection stayed: a reading published after it arrives.
        var live = host.App.Services.GetRequiredService<LiveState>();
        await Eventually.TrueAsync(
            () =>
            {
                PubAsync(Broker.Port, $"{prefix}/{Site}/chair-1/obs", """{"device":"mon-1","readings":[{"sign":"hr","value":66}]}""").Wait();
                return live.Snapshot("chair-1")!.Values.TryGetValue(Sign.Hr, out var hr) && hr.Value == 66;
            },
            "a reading after the oversized message");
        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        var mqtt = status.RootElement.GetProperty("mqtt");
        Assert.Equal("connected", mqtt.GetProperty("state").GetString());
        Assert.Equal(1, mqtt.GetProperty("oversized").GetInt64());
        Assert.StartsWith($"{prefix}/{Site}/chair-99/obs (", mqtt.GetProperty("lastOversized").GetString(), StringComparison.Ordinal); // once: never reconnected
    }

    [Fact]
    public async Task Obs_Qos1FloodWhileSimulatorFeeds_EveryMqttReadingStoredOnceInOrderAndSimulatorKeepsFlowing()
    {
        // The MQTT reader judges its readings itself (ObservationPipeline.JudgeAsync) while the simulator's go through
        // the pipeline's loop: both must get through, neither lost nor doubled, each feed in its own order.
        const int Messages = 600; // within mosquitto's default queue for one subscriber (1000)
        var prefix = NewPrefix();
        await using var host = await StartAsync(Options(Anonymous(prefix)));
        await host.WaitConnectedAsync();
        var store = host.App.Services.GetRequiredService<SqliteStore>();
        var live = host.App.Services.GetRequiredService<LiveState>();
        await Eventually.TrueAsync(() => live.Snapshot("chair-3")!.Values.ContainsKey(Sign.Hr), "the simulator's first reading");

        await using var publisher = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = Broker.Port, MaxPendingQos1 = Messages + 10 });
        await publisher.ConnectAsync().WaitAsync(MqttTestSupport.Timeout);
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(-2).ToUnixTimeSeconds()); // a device time the clock policy accepts
        var topic = $"{prefix}/{Site}/chair-2/obs";

        // The SUBACK may trail CONNACK a little: a probe first, published until it shows.
        await Eventually.TrueAsync(
            () =>
            {
                publisher.PublishAsync(topic, Encoding.UTF8.GetBytes($$"""{"HeartRate":61,"ts":{{start.AddSeconds(-1).ToUnixTimeMilliseconds()}}}"""), MqttQualityOfService.AtLeastOnce).Wait();
                return live.Snapshot("chair-2")!.Values.ContainsKey(Sign.Hr);
            },
            "the probe reading to reach live state");

        var simulatorBefore = SimulatorRows();
        for (var n = 0; n < Messages; n++)
        {
            // Reading n is measured at start + n * 10 ms, with a heart rate that names it.
            var payload = $$"""{"HeartRate":{{60 + (n % 100)}},"SpO2":"98","ts":{{start.AddMilliseconds(n * 10).ToUnixTimeMilliseconds()}}}""";
            await publisher.PublishAsync(topic, Encoding.UTF8.GetBytes(payload), MqttQualityOfService.AtLeastOnce);
        }

        await Eventually.TrueAsync(() => FloodRows().Count >= Messages, $"{Messages} flood readings stored");
        var rows = FloodRows();
        Assert.Equal(Messages, rows.Count);
        Assert.Equal(Enumerable.Range(0, Messages).Select(n => (start.AddMilliseconds(n * 10), 60.0 + (n % 100))), rows.Select(o => (o.MeasuredAt, o.Value)));
        await Eventually.TrueAsync(() => SimulatorRows() > simulatorBefore, "the simulator's readings still stored");

        List<Observation> FloodRows() =>
            [.. store.Query("chair-2", start, start.AddMinutes(1)).Where(o => o.Sign == Sign.Hr && o.Source == SourceProtocol.Mqtt).OrderBy(o => o.MeasuredAt)];

        int SimulatorRows() => store.Query("chair-3", DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5)).Count(o => o.Sign == Sign.Hr);
    }

    [Fact]
    public async Task Obs_Qos1WhileStoreLocked_BrokerKeepsSendingPastItsInFlightLimit_EveryReadingJudgedThenStoredOnce()
    {
        // mosquitto sends at most 20 unacknowledged QoS 1 messages to a client (max_inflight_messages, default). PUBACKs
        // that waited for commits of a locked store stopped the chair's readings after 20: nothing more was judged.
        const int Messages = 200;
        var prefix = NewPrefix();
        await using var host = await StartAsync(Options(Anonymous(prefix)));
        await host.WaitConnectedAsync();
        var live = host.App.Services.GetRequiredService<LiveState>();
        var writer = host.App.Services.GetRequiredService<StoreWriter>();
        await using var publisher = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = Broker.Port, MaxPendingQos1 = Messages + 10 });
        await publisher.ConnectAsync().WaitAsync(MqttTestSupport.Timeout);
        var topic = $"{prefix}/{Site}/chair-1/obs";
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(-2).ToUnixTimeSeconds()); // a device time the clock policy accepts
        byte[] Reading(int n) => Encoding.UTF8.GetBytes(
            $$"""{"device":"mon-1","time":{{start.AddMilliseconds(n * 10).ToUnixTimeMilliseconds()}},"readings":[{"sign":"hr","value":{{60 + (Math.Abs(n) % 50)}}}]}"""); // reading n is measured at start + n * 10 ms

        // The SUBACK may trail CONNACK a little: a probe first, published until it shows.
        await Eventually.TrueAsync(
            () =>
            {
                publisher.PublishAsync(topic, Reading(-1), MqttQualityOfService.AtLeastOnce).Wait();
                return live.Snapshot("chair-1")!.Values.ContainsKey(Sign.Hr);
            },
            "the probe reading to reach live state");

        // Another process takes the store's write lock; the simulated chair's readings make the writer find out.
        var path = Path.Combine(host.DataDir, "vitals.db");
        using var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        other.Open();
        using (var begin = other.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE;";
            begin.ExecuteNonQuery();
        }

        for (var n = 0; n < Messages; n++)
        {
            await publisher.PublishAsync(topic, Reading(n), MqttQualityOfService.AtLeastOnce);
        }

        // Every reading judged while not one could be committed: the latest reached live state.
        await Eventually.TrueAsync(() => live.Snapshot("chair-1")!.Values[Sign.Hr].At == start.AddMilliseconds((Messages - 1) * 10), "the last reading judged", TimeSpan.FromMinutes(2));
        Assert.NotNull(writer.Failure);
        using (var commit = other.CreateCommand())
        {
            commit.CommandText = "COMMIT;";
            commit.ExecuteNonQuery();
        }

        // Held in memory meanwhile, then written once each.
        var store = host.App.Services.GetRequiredService<SqliteStore>();
        List<DateTimeOffset> Stored() => [.. store.Query("chair-1", start, start.AddMinutes(1)).Where(o => o.Sign == Sign.Hr).Select(o => o.MeasuredAt).Order()];
        await Eventually.TrueAsync(() => Stored().Count >= Messages, "every reading stored", TimeSpan.FromMinutes(2));
        Assert.Equal(Enumerable.Range(0, Messages).Select(n => start.AddMilliseconds(n * 10)), Stored());
    }

    [Fact]
    public async Task Simulator_PublishesOverMqtt_ReadingsReachGateway()
    {
        var prefix = NewPrefix();
        await using var host = await StartAsync(Options(Anonymous(prefix)));
        await host.WaitConnectedAsync();

        await MosquittoBroker.Run("dotnet", [
            MqttOutageTests.BuiltDll("simulators/Vitals.Simulator.Cli", "vitals-sim.dll"), "mqtt", "--broker", $"mqtt://127.0.0.1:{Broker.Port}",
            "--site", Site, "--chair", "chair-1", "--topic-prefix", prefix, "--scenario", "stable", "--step-ms", "0", "--count", "5"]);

        var live = host.App.Services.GetRequiredService<LiveState>();
        await Eventually.TrueAsync(() => live.Snapshot("chair-1")!.Feeds.Single().FramesOk == 5, "all 5 simulated messages to arrive");
        var chair = live.Snapshot("chair-1")!;
        Assert.InRange(chair.Values[Sign.Hr].Value, 40, 140);
        Assert.True(chair.Values.ContainsKey(Sign.NibpSys));
        Assert.Equal(0, chair.Feeds.Single().FramesBad);
    }

    [Fact]
    public async Task Obs_BadJsonAndUnknownChair_CountedBadAndSkipped()
    {
        var prefix = NewPrefix();
        await using var host = await StartAsync(Options(Anonymous(prefix)));
        await host.WaitConnectedAsync();
        var live = host.App.Services.GetRequiredService<LiveState>();
        FeedSnapshot Feed() => live.Snapshot("chair-1")!.Feeds.Single();

        await Eventually.TrueAsync(
            () =>
            {
                PubAsync(Broker.Port, $"{prefix}/{Site}/chair-1/obs", "{\"sign\":\"hr\",\"value\":").Wait();
                return Feed().FramesBad >= 1;
            },
            "bad JSON to be counted");
        Assert.Contains("not valid JSON", host.Bridge().Status()!.LastBadMessage, StringComparison.Ordinal);

        await PubAsync(Broker.Port, $"{prefix}/{Site}/chair-9/obs", """{"sign":"hr","value":70}""");
        await PubAsync(Broker.Port, $"{prefix}/{Site}/chair-3/obs", """{"sign":"hr","value":70}""");
        await Eventually.TrueAsync(() => host.Bridge().Status()!.UnknownChair >= 2, "messages for chairs without an mqtt device to be counted");

        await PubAsync(Broker.Port, $"{prefix}/{Site}/chair-1/obs", """{"sign":"rr","value":13}""");
        await Eventually.TrueAsync(() => live.Snapshot("chair-1")!.Values.ContainsKey(Sign.Rr), "a good reading after bad ones");
        Assert.False(live.Snapshot("chair-3")!.Values.TryGetValue(Sign.Hr, out var hr) && hr.Value == 70);
        Assert.True(Feed().FramesOk >= 1);
    }

    [Fact]
    public async Task Alarm_PublishedQos1WithDocumentedJson_AndRetainedStateFollows()
    {
        var prefix = NewPrefix();
        await using var host = await StartAsync(Options(Anonymous(prefix)));
        await host.WaitConnectedAsync();
        await using var subscriber = await TestClients.ConnectedAsync(TestClients.Options(Broker.Port));
        await subscriber.SubscribeAsync($"{prefix}/{Site}/+/alarm", MqttQualityOfService.AtLeastOnce);

        await PubAsync(Broker.Port, $"{prefix}/{Site}/chair-1/obs", """{"sign":"nibp_sys","value":72,"unit":"mm[Hg]"}""");
        var (message, alarm) = await ReceiveAsync(subscriber, $"{prefix}/{Site}/chair-1/alarm", j => j.GetProperty("sign").GetString() == "nibp_sys");

        Assert.Equal(MqttQualityOfService.AtLeastOnce, message.Qos);
        Assert.False(message.Retain);
        Assert.Equal("chair-1", alarm.GetProperty("chair").GetString());
        Assert.Equal(Site, alarm.GetProperty("site").GetString());
        Assert.Equal("raised", alarm.GetProperty("state").GetString());
        Assert.Equal("physiological", alarm.GetProperty("kind").GetString());
        // The default profile (README): systolic below 80 mmHg is the high-priority band of nibp_sys.low.
        Assert.Equal("nibp_sys.low", alarm.GetProperty("rule").GetString());
        Assert.Equal("high", alarm.GetProperty("priority").GetString());
        Assert.Equal(72, alarm.GetProperty("value").GetDouble());
        Assert.Equal(80, alarm.GetProperty("limit").GetDouble());
        Assert.Contains("72", alarm.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(alarm.GetProperty("time").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));

        // A late subscriber gets the retained chair state (published within a second of the change).
        await using var late = await TestClients.ConnectedAsync(TestClients.Options(Broker.Port));
        await late.SubscribeAsync($"{prefix}/{Site}/chair-1/state", MqttQualityOfService.AtLeastOnce);
        var (stateMessage, state) = await ReceiveAsync(late, $"{prefix}/{Site}/chair-1/state", j => j.GetProperty("alarms").GetArrayLength() > 0);
        Assert.Equal("chair-1", state.GetProperty("chair").GetString());
        Assert.Equal(72, state.GetProperty("values").GetProperty("nibp_sys").GetProperty("value").GetDouble());
        Assert.Equal("mm[Hg]", state.GetProperty("values").GetProperty("nibp_sys").GetProperty("unit").GetString());
        Assert.Equal("nibp_sys", state.GetProperty("alarms")[0].GetProperty("sign").GetString());
        if (!stateMessage.Retain)
        {
            // It may have arrived live (published after our SUBSCRIBE); a fresh subscription must then see it retained.
            await using var later = await TestClients.ConnectedAsync(TestClients.Options(Broker.Port));
            await later.SubscribeAsync($"{prefix}/{Site}/chair-1/state", MqttQualityOfService.AtLeastOnce);
            Assert.True((await ReceiveAsync(later, $"{prefix}/{Site}/chair-1/state")).Message.Retain);
        }

        // The simulator chair's state is published too (state out is for every chair, not only MQTT ones).
        await using var sim = await TestClients.ConnectedAsync(TestClients.Options(Broker.Port));
        await sim.SubscribeAsync($"{prefix}/{Site}/chair-3/state", MqttQualityOfService.AtLeastOnce);
        await ReceiveAsync(sim, $"{prefix}/{Site}/chair-3/state");
    }

    [Fact]
    public async Task Status_OnlineRetained_AndOfflineOnCleanStop()
    {
        var prefix = NewPrefix();
        var host = await StartAsync(Options(Anonymous(prefix)));
        var stopped = false;
        try
        {
            await host.WaitConnectedAsync();
            await using var sub = await TestClients.ConnectedAsync(TestClients.Options(Broker.Port));
            await sub.SubscribeAsync($"{prefix}/{Site}/gateway/status", MqttQualityOfService.AtLeastOnce);
            var (online, json) = await ReceiveAsync(sub, $"{prefix}/{Site}/gateway/status", j => j.GetProperty("state").GetString() == "online");
            Assert.Equal(Site, json.GetProperty("site").GetString());
            Assert.True(json.TryGetProperty("time", out _));
            if (!online.Retain)
            {
                // Arrived live (published after our SUBSCRIBE, so RETAIN 0 [MQTT-3.3.1-9]); a fresh subscription sees it retained.
                await using var later = await TestClients.ConnectedAsync(TestClients.Options(Broker.Port));
                await later.SubscribeAsync($"{prefix}/{Site}/gateway/status", MqttQualityOfService.AtLeastOnce);
                Assert.True((await ReceiveAsync(later, $"{prefix}/{Site}/gateway/status")).Message.Retain);
            }

            // The independent mosquitto_sub sees the same retained status.
            var port = Broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var text = await MosquittoBroker.Run("mosquitto_sub", ["-h", "127.0.0.1", "-p", port, "-t", $"{prefix}/{Site}/gateway/status", "-C", "1", "-W", "5"]);
            Assert.Equal("online", JsonDocument.Parse(text).RootElement.GetProperty("state").GetString());

            stopped = true;
            await host.DisposeAsync();
            var (offline, _) = await ReceiveAsync(sub, $"{prefix}/{Site}/gateway/status", j => j.GetProperty("state").GetString() == "offline");
            Assert.Equal(MqttQualityOfService.AtLeastOnce, offline.Qos);
        }
        finally
        {
            if (!stopped)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Connect_WrongPassword_ClearStatusErrorAndNoConnection()
    {
        var options = Options(new MqttOptions { Url = $"mqtt://{MosquittoBroker.User}@127.0.0.1:{Broker.PasswordPort}", TopicPrefix = NewPrefix() });
        await using var host = await StartAsync(options, name => name == MqttOptions.DefaultPasswordEnv ? "wrong" : null);

        await Eventually.TrueAsync(() => host.Bridge().Status()!.LastError is not null, "the refusal to be reported");
        var status = host.Bridge().Status()!;
        Assert.NotEqual("connected", status.State);
        // mosquitto 2.0 answers a wrong password with "not authorized" (CONNACK 5); 3.1.1 also allows 4.
        Assert.Matches("refused the connection: (bad user name or password|not authorized)", status.LastError);
        Assert.Contains("Fix: check the user in mqtt.url and the password in VITALS_MQTT_PASSWORD", status.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", status.LastError, StringComparison.Ordinal);
        Assert.False(host.App.Services.GetRequiredService<LiveState>().Snapshot("chair-1")!.Feeds.Single().Connected);
    }

    [Fact]
    public async Task Connect_PasswordFromEnvironment_Connects()
    {
        var options = Options(new MqttOptions { Url = $"mqtt://{MosquittoBroker.User}@127.0.0.1:{Broker.PasswordPort}", TopicPrefix = NewPrefix(), PasswordEnv = "MY_MQTT_PW" });
        await using var host = await StartAsync(options, name => name == "MY_MQTT_PW" ? MosquittoBroker.Password : null);

        await host.WaitConnectedAsync();
    }

    [Fact]
    public async Task Connect_TlsWithCustomCaAndClientCertificate_ObsFlows()
    {
        var prefix = NewPrefix();
        var tls = new MqttOptions
        {
            Url = $"mqtts://127.0.0.1:{Broker.MutualTlsPort}",
            TopicPrefix = prefix,
            CaFile = Broker.CaFile,
            ClientCertFile = Broker.ClientCertificateFile,
            ClientKeyFile = Broker.ClientKeyFile,
        };
        await using var host = await StartAsync(Options(tls));
        await host.WaitConnectedAsync();
        var live = host.App.Services.GetRequiredService<LiveState>();
        await Eventually.TrueAsync(
            () =>
            {
                PubAsync(Broker.Port, $"{prefix}/{Site}/chair-1/obs", """{"sign":"temp","value":99.1,"unit":"[degF]"}""").Wait();
                return live.Snapshot("chair-1")!.Values.ContainsKey(Sign.Temp);
            },
            "a reading over the TLS connection");
        Assert.Equal(37.28, live.Snapshot("chair-1")!.Values[Sign.Temp].Value, 2);
    }

    [Fact]
    public async Task Connect_TlsWithWrongCa_ReportsCertificateError()
    {
        var options = Options(new MqttOptions { Url = $"mqtts://127.0.0.1:{Broker.TlsPort}", TopicPrefix = NewPrefix(), CaFile = Broker.WrongCaFile });
        await using var host = await StartAsync(options);

        await Eventually.TrueAsync(() => host.Bridge().Status()!.LastError is not null, "the TLS failure to be reported");
        Assert.NotEqual("connected", host.Bridge().Status()!.State);
        Assert.Contains("certificate", host.Bridge().Status()!.LastError, StringComparison.OrdinalIgnoreCase);
    }
}
