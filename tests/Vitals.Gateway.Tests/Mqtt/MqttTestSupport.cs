using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Config;
using Vitals.Gateway.Mqtt;
using Vitals.Mqtt;
using Vitals.Mqtt.Tests.Broker;

namespace Vitals.Gateway.Tests.Mqtt;

/// <summary>Gateways wired to the test broker, each with its own topic prefix so retained messages never leak between tests.</summary>
internal static class MqttTestSupport
{
    public const string Site = "test-site";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>chair-1: Vitals schema over MQTT; chair-2: vendor JSON with a field mapping; chair-3: a simulator (no MQTT input).</summary>
    public static GatewayOptions Options(MqttOptions mqtt) => new()
    {
        Site = Site,
        Mqtt = mqtt,
        Chairs =
        [
            new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "mon-1", Kind = "mqtt" }] },
            new ChairOptions
            {
                Id = "chair-2",
                Devices =
                [
                    new DeviceOptions
                    {
                        Id = "vendor-2",
                        Kind = "mqtt",
                        Mapping = new Vitals.Devices.Json.JsonMapping
                        {
                            Fields = [new() { Field = "HeartRate", Sign = "hr" }, new() { Field = "SpO2", Sign = "spo2" }],
                            TimeField = "ts",
                            TimeFormat = "unix-ms",
                        },
                    },
                ],
            },
            new ChairOptions { Id = "chair-3", Devices = [new DeviceOptions { Id = "sim-3", Scenario = "stable", TimeScale = 1 }] },
        ],
    };

    /// <summary>
    /// Site <paramref name="site"/> with two chairs read over MQTT: until something is published to their obs topics
    /// their state never changes, so every state message after the first is a republish.
    /// </summary>
    public static GatewayOptions QuietChairs(string site, string prefix, int port, int republishSeconds) => new()
    {
        Site = site,
        Mqtt = new MqttOptions { Url = $"mqtt://127.0.0.1:{port}", TopicPrefix = prefix, StateRepublishSeconds = republishSeconds },
        Chairs =
        [
            new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "mon-1", Kind = "mqtt" }] },
            new ChairOptions { Id = "chair-2", Devices = [new DeviceOptions { Id = "mon-2", Kind = "mqtt" }] },
        ],
    };

    /// <summary>A technical alarm as a monitor fault would raise it (rule <c>device.&lt;name&gt;</c>), at once.</summary>
    public static Task RaiseTechnicalAsync(GatewayHost site, string chair, string name) =>
        site.App.Services.GetRequiredService<AlarmService>().RunAsync(
            (engine, now, events) =>
            {
                engine.ReportTechnical(chair, name, $"Probe fault {name}", true, now, events);
                return 0;
            },
            default);

    /// <summary>Site <paramref name="site"/> with two simulated monitors (values every second), republishing state every 2 s.</summary>
    public static GatewayOptions SimulatedChairs(string site, string prefix, int port) => new()
    {
        Site = site,
        Mqtt = new MqttOptions { Url = $"mqtt://127.0.0.1:{port}", TopicPrefix = prefix, StateRepublishSeconds = 2 },
        Chairs =
        [
            new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "sim-1", Scenario = "stable", TimeScale = 1 }] },
            new ChairOptions { Id = "chair-2", Devices = [new DeviceOptions { Id = "sim-2", Scenario = "stable", Seed = 2, TimeScale = 1 }] },
        ],
    };

    public static Task<GatewayHost> StartAsync(GatewayOptions options, Func<string, string?>? environment = null) =>
        GatewayHost.StartAsync(options, TimeSpan.FromSeconds(1), environment: environment, beforeStart: app =>
            app.Services.GetRequiredService<MqttBridge>().Tune = o => o with
            {
                ReconnectDelay = TimeSpan.FromMilliseconds(100),
                ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
                ConnectTimeout = TimeSpan.FromSeconds(3),
            });

    public static MqttBridge Bridge(this GatewayHost host) => host.App.Services.GetRequiredService<MqttBridge>();

    public static Task WaitConnectedAsync(this GatewayHost host) =>
        Eventually.TrueAsync(() => host.Bridge().Status()?.State == "connected", "the gateway to connect to the broker: " + host.Bridge().Status()?.LastError);

    /// <summary>Publishes with the independent <c>mosquitto_pub</c>.</summary>
    public static Task PubAsync(int port, string topic, string payload) =>
        MosquittoBroker.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-q", "1", "-t", topic, "-m", payload]);

    /// <summary>Reads messages until one on <paramref name="topic"/> satisfies <paramref name="match"/>.</summary>
    public static async Task<(MqttMessage Message, JsonElement Json)> ReceiveAsync(
        IMqttClient client, string topic, Func<JsonElement, bool>? match = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        while (true)
        {
            var m = await client.Messages.ReadAsync(cts.Token);
            if (m.Topic != topic)
            {
                continue;
            }

            var json = JsonDocument.Parse(m.Payload).RootElement.Clone();
            if (match is null || match(json))
            {
                return (m, json);
            }
        }
    }
}
