using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Serial;
using Vitals.Gateway.Config;
using Vitals.Gateway.Feeds;
using Vitals.Gateway.Tests.Mqtt;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Simulator;

namespace Vitals.Gateway.Tests.Feeds;

/// <summary>
/// A monitor with a wrong clock, over each transport: its wrongly dated readings are re-stamped with their receive time
/// and marked questionable, the live value is always the latest received, the trend keeps every point, a low-priority
/// "monitor clock wrong" alarm stands at the chair, and the status endpoint counts the readings.
/// </summary>
public sealed class DeviceClockEndToEndTests(MosquittoFixture fixture) : IClassFixture<MosquittoFixture>
{
    [Fact]
    public async Task Hl7_Obx14InYear9999ThenOnTime_LiveValueIsTheLatestAndClockAlarmRaised()
    {
        var options = new GatewayOptions
        {
            Site = "test-site",
            Hl7 = new Hl7Options { Listen = "127.0.0.1:0", ChairRule = "pv1Bed", TimeZone = "UTC" },
            Chairs = [new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "b40-1", Kind = "hl7", Match = "BED1" }] }],
        };
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromHours(1));
        var endPoint = host.App.Services.GetRequiredService<Hl7FeedService>().LocalEndPoint!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var monitor = await MllpClient.ConnectAsync("127.0.0.1", endPoint.Port, TimeSpan.FromSeconds(5), cancellationToken: cts.Token);
        var start = DateTimeOffset.UtcNow;

        // Both are stored, so both are answered AA (the re-stamped reading is the one committed).
        foreach (var (value, at, id) in new[] { (61, new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero), "M1"), (62, DateTimeOffset.UtcNow, "M2") })
        {
            var ack = await monitor.SendAsync(Encoding.UTF8.GetBytes(Hl7OruWriter.Format([new SimReading(Sign.Hr, value, TimeSpan.Zero)], at, "BED1", id)), TimeSpan.FromSeconds(20), cts.Token);
            Assert.True(Hl7Ack.TryParse(ack, out var parsed));
            Assert.Equal(Hl7AckCode.Accept, parsed!.Code);
        }

        await AssertClockHandledAsync(host, "chair-1", Sign.Hr, [61, 62], start);
    }

    [Fact]
    public async Task Mqtt_Time2999ThenNoTime_LiveValueIsTheLatestAndClockAlarmRaised()
    {
        var prefix = MqttTestSupport.NewPrefix();
        var options = MqttTestSupport.Options(new MqttOptions { Url = $"mqtt://127.0.0.1:{fixture.Broker.Port}", TopicPrefix = prefix });
        await using var host = await MqttTestSupport.StartAsync(options);
        await host.WaitConnectedAsync();
        var start = DateTimeOffset.UtcNow;
        var topic = $"{prefix}/{MqttTestSupport.Site}/chair-1/obs";

        // The subscription may trail the connection a little: publish the wrongly dated reading until it shows.
        await Eventually.TrueAsync(
            async () =>
            {
                await MqttTestSupport.PubAsync(fixture.Broker.Port, topic, """{"device":"mon-1","time":"2999-01-01T00:00:00Z","readings":[{"sign":"hr","value":77}]}""");
                return (await ChairAsync(host, "chair-1")).GetProperty("values").TryGetProperty("hr", out _);
            },
            "the first reading to arrive");
        await MqttTestSupport.PubAsync(fixture.Broker.Port, topic, """{"device":"mon-1","readings":[{"sign":"hr","value":78}]}""");

        await AssertClockHandledAsync(host, "chair-1", Sign.Hr, [77, 78], start);
    }

    [Fact]
    public async Task SerialMasimo_DeviceClockFiveHoursAhead_EveryReadingRestampedAndClockAlarmRaised()
    {
        using var pty = PseudoTerminal.Open();
        var options = new GatewayOptions
        {
            Site = "test-site",
            Chairs = [new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "oxi-1", Kind = "serial", Codec = "masimo", Port = pty.SlavePath, TimeZone = "UTC" }] }],
        };
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromHours(1));
        var start = DateTimeOffset.UtcNow;
        pty.Write(Encoding.ASCII.GetBytes(MasimoAsciiWriter.Format([new SimReading(Sign.Spo2, 95, TimeSpan.Zero)], DateTime.UtcNow.AddHours(5), "0000012345")));
        pty.Write(Encoding.ASCII.GetBytes(MasimoAsciiWriter.Format([new SimReading(Sign.Spo2, 96, TimeSpan.Zero)], DateTime.UtcNow.AddHours(5).AddSeconds(1), "0000012345")));

        await AssertClockHandledAsync(host, "chair-1", Sign.Spo2, [95, 96], start);
    }

    private static async Task AssertClockHandledAsync(GatewayHost host, string chair, Sign sign, double[] sent, DateTimeOffset start)
    {
        var name = sign.Info().ShortName;
        await Eventually.TrueAsync(
            async () => (await ChairAsync(host, chair)).GetProperty("values").TryGetProperty(name, out var v) && v.GetProperty("value").GetDouble() == sent[^1],
            $"the latest {name} ({sent[^1]}) to be the live value");
        var live = (await ChairAsync(host, chair)).GetProperty("values").GetProperty(name);
        Assert.InRange(live.GetProperty("at").GetDateTimeOffset(), start.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        // The trend keeps every point, each dated when it arrived.
        await Eventually.TrueAsync(
            async () =>
            {
                using var history = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri($"api/chairs/{chair}/history?minutes=5", UriKind.Relative)));
                var points = history.RootElement.EnumerateArray().Where(o => o.GetProperty("sign").GetString() == name).ToList();
                return points.Select(o => o.GetProperty("value").GetDouble()).Distinct().Order().SequenceEqual(sent)
                    && points.All(o => o.GetProperty("at").GetDateTimeOffset() >= start.AddSeconds(-1) && o.GetProperty("at").GetDateTimeOffset() <= DateTimeOffset.UtcNow.AddSeconds(1));
            },
            "every reading in history, dated when received");

        // One low-priority technical alarm at the chair, naming the clock, and the count on the status endpoint.
        // /api/alarms and the chair view are updated by the dispatcher one after the other: wait on the chair view itself.
        var alarm = default(JsonElement);
        await Eventually.TrueAsync(
            async () => (await ChairAsync(host, chair)).GetProperty("alarms").EnumerateArray()
                .Where(a => a.GetProperty("rule").GetString() == "device.clock_wrong").Select(a => (alarm = a.Clone()).ValueKind).Any(),
            "the clock alarm on the chair");
        Assert.Equal(("low", "technical"), (alarm.GetProperty("priority").GetString(), alarm.GetProperty("kind").GetString()));
        Assert.Contains("Monitor clock wrong", alarm.GetProperty("message").GetString(), StringComparison.Ordinal);
        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        var clocks = status.RootElement.GetProperty("deviceClocks");
        Assert.True(clocks.GetProperty("restamped").GetInt64() >= 1);
        var device = Assert.Single(clocks.GetProperty("devices").EnumerateArray());
        Assert.Equal(chair, device.GetProperty("chair").GetString());
        Assert.True(device.GetProperty("wrong").GetBoolean());
        Assert.True(device.GetProperty("lastOffsetSeconds").GetDouble() > 30);
    }

    private static async Task<JsonElement> ChairAsync(GatewayHost host, string chair)
    {
        using var doc = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri($"api/chairs/{chair}", UriKind.Relative)));
        return doc.RootElement.Clone();
    }
}
