using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Gateway.Config;
using Vitals.Gateway.Pipeline;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Storage.Sqlite;
using static Vitals.Gateway.Tests.Mqtt.MqttTestSupport;

namespace Vitals.Gateway.Tests.Mqtt;

/// <summary>Admin binding edits of mqtt devices, applied while the gateway stays connected to a real mosquitto.</summary>
public sealed class MqttLiveBindingsTests(MosquittoFixture fixture) : IClassFixture<MosquittoFixture>
{
    private MosquittoBroker Broker => fixture.Broker;

    private GatewayOptions TwoChairs(string prefix, DeviceOptions chair1) => new()
    {
        Site = Site,
        Mqtt = new MqttOptions { Url = $"mqtt://127.0.0.1:{Broker.Port}", TopicPrefix = prefix },
        Chairs =
        [
            new ChairOptions { Id = "chair-1", Devices = [chair1] },
            new ChairOptions { Id = "chair-2", Devices = [new DeviceOptions { Id = "sim-2", Scenario = "stable", TimeScale = 1 }] },
        ],
    };

    [Fact]
    public async Task PutDevices_MqttDeviceMovedWithNewMapping_AppliesNow_NewTopicTakenOldSkipped()
    {
        var prefix = NewPrefix();
        await using var host = await StartAsync(TwoChairs(prefix, new DeviceOptions { Id = "mon", Kind = "mqtt" }));
        await host.WaitConnectedAsync();
        var registry = host.App.Services.GetRequiredService<FeedRegistry>();
        string Topic(string chair) => $"{prefix}/{Site}/{chair}/obs";

        // The SUBACK may trail CONNACK a little: publish until the reading shows.
        await Eventually.TrueAsync(
            () =>
            {
                PubAsync(Broker.Port, Topic("chair-1"), """{"device":"mon","readings":[{"sign":"hr","value":61}]}""").Wait();
                return MqttHr(host, "chair-1").Contains(61);
            },
            "chair-1's reading before the move");

        var removed = await host.PutDevicesAsync("chair-1", new { id = "sim-1", kind = "simulator" });
        Assert.Equal("now", removed.GetProperty("applied").GetString());
        var added = await host.PutDevicesAsync(
            "chair-2",
            new { id = "sim-2", kind = "simulator", scenario = "stable" },
            new { id = "mon", kind = "mqtt", mapping = new { fields = new[] { new { field = "Pulse", sign = "hr" } } } });
        Assert.Equal("now", added.GetProperty("applied").GetString());
        var entry = Assert.Single(registry.Snapshot(), f => f.Kind == "mqtt");
        Assert.Equal(("chair-2", "mon", true, 0L), (entry.Chair, entry.Device, entry.Connected, entry.FramesOk));

        // The old chair's topic is skipped as an unknown chair ...
        var unknownBefore = host.Bridge().Status()!.UnknownChair;
        await PubAsync(Broker.Port, Topic("chair-1"), """{"device":"mon","readings":[{"sign":"hr","value":62}]}""");
        await Eventually.TrueAsync(() => host.Bridge().Status()!.UnknownChair > unknownBefore, "the message on chair-1's topic to be skipped");

        // ... and the new chair's is read with the new device's vendor mapping (the Vitals schema would refuse it).
        await PubAsync(Broker.Port, Topic("chair-2"), """{"Pulse":117}""");
        await Eventually.TrueAsync(() => MqttHr(host, "chair-2").Contains(117), "chair-2's reading after the move");

        Assert.All(MqttHr(host, "chair-1"), hr => Assert.Equal(61, hr)); // 61 maybe more than once (published until seen), never 62
        Assert.Equal(117, Assert.Single(MqttHr(host, "chair-2")));
        entry = Assert.Single(registry.Snapshot(), f => f.Kind == "mqtt");
        Assert.Equal(("chair-2", 1L, 0L), (entry.Chair, entry.FramesOk, entry.FramesBad));
    }

    [Fact]
    public async Task PutDevices_FirstMqttDevice_SubscribesAndTakesReadings()
    {
        var prefix = NewPrefix();
        await using var host = await StartAsync(TwoChairs(prefix, new DeviceOptions { Id = "sim-1", Scenario = "stable", TimeScale = 1 }));
        await host.WaitConnectedAsync();

        var change = await host.PutDevicesAsync("chair-1", new { id = "mon", kind = "mqtt" });

        Assert.Equal("now", change.GetProperty("applied").GetString());
        await Eventually.TrueAsync(
            () =>
            {
                PubAsync(Broker.Port, $"{prefix}/{Site}/chair-1/obs", """{"sign":"hr","value":66}""").Wait();
                return MqttHr(host, "chair-1").Contains(66);
            },
            "a reading on the newly bound chair");
        Assert.Contains(host.App.Services.GetRequiredService<FeedRegistry>().Snapshot(), f => (f.Chair, f.Device, f.Kind) == ("chair-1", "mon", "mqtt"));
    }

    /// <summary>Heart rates stored for <paramref name="chair"/> that came over MQTT (not from the chair's simulator).</summary>
    private static List<double> MqttHr(GatewayHost host, string chair) =>
        [.. host.App.Services.GetRequiredService<SqliteStore>()
            .Query(chair, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1))
            .Where(o => o.Source == SourceProtocol.Mqtt && o.Sign == Sign.Hr)
            .Select(o => o.Value)];
}
