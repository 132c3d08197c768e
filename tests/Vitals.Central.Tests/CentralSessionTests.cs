using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Gateway;
using Vitals.Gateway.Config;
using Vitals.Gateway.Tests;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Storage.Sqlite;

namespace Vitals.Central.Tests;

/// <summary>What central gets from the sites across its own absence, and what it shows of their chair state (real mosquitto).</summary>
public sealed class CentralSessionTests
{
    private static byte[] Payload<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TestJson.Options);

    private static MqttAlarmMessage Alarm(AlarmState state, DateTimeOffset at) =>
        new("north", "c1", "hr.high", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, state, 141, 140, at, "Heart rate high 141 /min (limit 140)", null);

    [Fact]
    public async Task CentralStopped_SiteRaisesAndClearsAnAlarm_RestartOnTheSameDataShowsBothTransitions()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var data = Directory.CreateTempSubdirectory("vitals-central-").FullName;
        await using var site = new MqttClient(MqttUrl.Parse($"mqtt://127.0.0.1:{broker.Port}") with { ClientId = "emulated-north" });
        await site.ConnectAsync();
        await site.PublishAsync("vitals/north/gateway/status", Payload(new MqttGatewayStatus("online", "north", "test", DateTimeOffset.UtcNow)), MqttQualityOfService.AtLeastOnce, retain: true);
        var state = new MqttChairState("north", "c1", "Chair 1", new Dictionary<string, MqttValue> { ["hr"] = new(72, "/min", DateTimeOffset.UtcNow, null) }, []);
        await site.PublishAsync("vitals/north/c1/state", Payload(state), MqttQualityOfService.AtMostOnce, retain: true);
        await site.FlushAsync();
        try
        {
            string clientId;
            await using (var first = await CentralHost.StartAsync(broker.Port, data: data))
            {
                // Subscribed (the retained state arrived), so the broker holds a session for central from here on.
                await Eventually.TrueAsync(() => first.Book.Chair("north", "c1") is not null, "north/c1 at central");
                clientId = first.App.Services.GetRequiredService<SqliteStore>().GetConfig(MqttSessionId.ConfigKey)!;
            }

            // Central is away (stopped with a clean DISCONNECT): the site raises and clears an alarm, QoS 1, no retain.
            var raisedAt = DateTimeOffset.UtcNow;
            await site.PublishAsync("vitals/north/c1/alarm", Payload(Alarm(AlarmState.Raised, raisedAt)), MqttQualityOfService.AtLeastOnce);
            await site.PublishAsync("vitals/north/c1/alarm", Payload(Alarm(AlarmState.Cleared, raisedAt.AddSeconds(5))), MqttQualityOfService.AtLeastOnce);
            await site.FlushAsync();

            await using var second = await CentralHost.StartAsync(broker.Port, data: data);
            await Eventually.TrueAsync(
                async () => (await second.GetJsonAsync("api/alarms/history?site=north&chair=c1")).GetArrayLength() == 2,
                "both transitions in central's alarm history after its restart");

            // Newest first, and the same session (client id kept in the data directory).
            var history = (await second.GetJsonAsync("api/alarms/history?site=north&chair=c1")).EnumerateArray().ToList();
            Assert.Equal(["cleared", "raised"], history.Select(h => h.GetProperty("state").GetString()));
            Assert.All(history, h => Assert.Equal(("north", "c1", "hr.high"), (h.GetProperty("site").GetString(), h.GetProperty("chair").GetString(), h.GetProperty("rule").GetString())));
            Assert.Equal(clientId, second.App.Services.GetRequiredService<SqliteStore>().GetConfig(MqttSessionId.ConfigKey));
            Assert.StartsWith("vitals-central-", clientId, StringComparison.Ordinal);

            // Cleared: not active. And liveness converges as before: the site is live again with its chair.
            Assert.Equal(0, (await second.GetJsonAsync("api/alarms")).GetArrayLength());
            await Eventually.TrueAsync(
                () => second.Book.Site("north", DateTimeOffset.UtcNow) is { } s && s.Gateway.Live && s.Chairs.Count == 1, "site north live with its chair after the restart");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task GatewayChairWithAStaleSign_CentralChairJsonListsIt_AndClearsItWhenTheSignReturns()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var central = await CentralHost.StartAsync(broker.Port);
        var options = new GatewayOptions
        {
            Site = "north",
            Mqtt = new MqttOptions { Url = $"mqtt://127.0.0.1:{broker.Port}", StateRepublishSeconds = 2 },
            StaleSeconds = new Dictionary<string, double> { ["spo2"] = 2 },
            Chairs = [new ChairOptions { Id = "c1", Name = "Chair 1", Devices = [new DeviceOptions { Id = "mon-1", Kind = "mqtt" }] }],
        };
        await using var gateway = await GatewayHost.StartAsync(options, GatewayApp.DefaultSimulatorStep);
        await using var monitor = new MqttClient(MqttUrl.Parse($"mqtt://127.0.0.1:{broker.Port}") with { ClientId = "monitor-c1" });
        await monitor.ConnectAsync();
        Task SendAsync(string readings) =>
            monitor.PublishAsync("vitals/north/c1/obs", System.Text.Encoding.UTF8.GetBytes($$"""{"device":"mon-1","readings":[{{readings}}]}"""), MqttQualityOfService.AtLeastOnce);

        async Task<JsonElement> CentralChairAsync() =>
            (await central.SiteAsync("north"))!.Value.GetProperty("chairs").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "c1");

        // Heart rate keeps arriving, SpO2 stops after its first reading: stale at the gateway after 2 s, and so at central.
        await Eventually.TrueAsync(
            async () =>
            {
                await SendAsync("""{"sign":"hr","value":70},{"sign":"spo2","value":97}""");
                return await central.SiteAsync("north") is { } s && s.GetProperty("chairs").GetArrayLength() == 1
                    && (await CentralChairAsync()).GetProperty("values").TryGetProperty("spo2", out _);
            },
            "north/c1 with SpO2 at central");
        await Eventually.TrueAsync(
            async () =>
            {
                await SendAsync("""{"sign":"hr","value":71}""");
                return (await CentralChairAsync()).GetProperty("staleSigns").EnumerateArray().Select(s => s.GetString()).SequenceEqual(["spo2"]);
            },
            "spo2 listed stale at central");

        // The same list as the gateway's own chair JSON.
        using var gatewayChairs = JsonDocument.Parse(await gateway.Http.GetStringAsync(new Uri("api/chairs", UriKind.Relative)));
        Assert.Equal(["spo2"], gatewayChairs.RootElement[0].GetProperty("staleSigns").EnumerateArray().Select(s => s.GetString()));

        await Eventually.TrueAsync(
            async () =>
            {
                await SendAsync("""{"sign":"hr","value":72},{"sign":"spo2","value":96}""");
                return (await CentralChairAsync()).GetProperty("staleSigns").GetArrayLength() == 0;
            },
            "spo2 no longer stale at central once it arrives again");
    }
}
