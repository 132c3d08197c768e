using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Gateway.Config;
using Vitals.Gateway.Feeds;
using Vitals.Simulator;

namespace Vitals.Gateway.Tests.Feeds;

/// <summary>Simulator -> TCP/MLLP -> gateway: ACKs checked, readings stored, a bad message on one connection does not disturb another.</summary>
public sealed class Hl7FeedEndToEndTests
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Hl7Mllp_SimulatorMessages_AcknowledgedStoredAndCounted_MalformedAnsweredAE()
    {
        var options = new GatewayOptions
        {
            Site = "test-site",
            Hl7 = new Hl7Options { Listen = "127.0.0.1:0", ChairRule = "pv1Bed", TimeZone = "UTC" },
            Chairs =
            [
                new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "b40-1", Kind = "hl7", Match = "BED1" }] },
                new ChairOptions { Id = "chair-2", Devices = [new DeviceOptions { Id = "b40-2", Kind = "hl7", Match = "BED2" }] },
            ],
        };
        Assert.Empty(options.Validate());
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromHours(1));
        var endPoint = host.App.Services.GetRequiredService<Hl7FeedService>().LocalEndPoint!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var patient = new SimulatedPatient(new SimulatorOptions(ScenarioKind.Stable, 5, 1));
        var readings = new List<SimReading>();
        patient.Step(readings);

        await using var good = await MllpClient.ConnectAsync("127.0.0.1", endPoint.Port, TimeSpan.FromSeconds(5), cancellationToken: cts.Token);
        await using var bad = await MllpClient.ConnectAsync("127.0.0.1", endPoint.Port, TimeSpan.FromSeconds(5), cancellationToken: cts.Token);

        await AssertAckAsync(good, Hl7OruWriter.Format(readings, DateTimeOffset.UtcNow, "BED1", "M1"), "M1", Hl7AckCode.Accept, cts.Token);

        // Malformed: an ORU whose PV1 names no configured bed, and one that is not HL7 at all. Both AE, never AA.
        await AssertAckAsync(bad, Hl7OruWriter.Format(readings, DateTimeOffset.UtcNow, "BED9", "M2"), "M2", Hl7AckCode.Error, cts.Token);
        var garbage = await bad.SendAsync(Encoding.ASCII.GetBytes("this is not an HL7 message"), AckTimeout, cts.Token);
        Assert.True(Hl7Ack.TryParse(garbage, out var garbageAck));
        Assert.Equal(Hl7AckCode.Error, garbageAck!.Code);

        // The first connection keeps working, and the second chair's bed maps to chair-2.
        readings.Clear();
        patient.Step(readings);
        await AssertAckAsync(good, Hl7OruWriter.Format(readings, DateTimeOffset.UtcNow, "BED1", "M3"), "M3", Hl7AckCode.Accept, cts.Token);
        await AssertAckAsync(bad, Hl7OruWriter.Format(readings, DateTimeOffset.UtcNow, "BED2", "M4"), "M4", Hl7AckCode.Accept, cts.Token);

        await Eventually.TrueAsync(
            async () =>
            {
                using var history = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/chairs/chair-1/history?minutes=5", UriKind.Relative)));
                return history.RootElement.EnumerateArray().Count(o => o.GetProperty("sign").GetString() == "hr") >= 2;
            },
            "two hr readings stored for chair-1");

        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        var feeds = status.RootElement.GetProperty("feeds").EnumerateArray().ToList();
        var b40 = feeds.Single(f => f.GetProperty("device").GetString() == "b40-1");
        Assert.Equal("hl7", b40.GetProperty("kind").GetString());
        Assert.Equal(2, b40.GetProperty("framesOk").GetInt64());
        var listener = feeds.Single(f => f.GetProperty("kind").GetString() == "hl7-listener");
        Assert.Equal(3, listener.GetProperty("framesOk").GetInt64());
        Assert.Equal(2, listener.GetProperty("framesBad").GetInt64());
        Assert.True(listener.GetProperty("bytes").GetInt64() > 0);
        Assert.True(listener.GetProperty("connected").GetBoolean());
        Assert.False(string.IsNullOrEmpty(listener.GetProperty("lastError").GetString()));
        var source = status.RootElement.GetProperty("hl7Sources")[0];
        Assert.Equal("127.0.0.1", source.GetProperty("source").GetString());
        Assert.Equal(2, source.GetProperty("connected").GetInt32());
    }

    [Fact]
    public async Task StaleSigns_Spo2StopsWhileHrContinues_ListedOnChairStatusAndStream()
    {
        var options = new GatewayOptions
        {
            Site = "test-site",
            Hl7 = new Hl7Options { Listen = "127.0.0.1:0" },
            StaleSeconds = new() { ["spo2"] = 1 },
            Chairs = [new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "mon-1", Kind = "hl7", Match = "BED1" }] }],
        };
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromHours(1));
        var port = host.App.Services.GetRequiredService<Hl7FeedService>().LocalEndPoint!.Port;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var stream = await host.Http.GetStreamAsync(new Uri("api/stream", UriKind.Relative), cts.Token);
        var staleEvent = Task.Run(
            async () =>
            {
                await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(stream).EnumerateAsync(cts.Token))
                {
                    if (item.EventType == "stale" && item.Data.Contains("spo2", StringComparison.Ordinal))
                    {
                        return item.Data;
                    }
                }

                return "";
            },
            cts.Token);

        await using var client = await MllpClient.ConnectAsync("127.0.0.1", port, TimeSpan.FromSeconds(5), cancellationToken: cts.Token);
        var patient = new SimulatedPatient(new SimulatorOptions(ScenarioKind.Stable, 5, 1));
        var readings = new List<SimReading>();
        patient.Step(readings);
        await AssertAckAsync(client, Hl7OruWriter.Format(readings, DateTimeOffset.UtcNow, "BED1", "S0"), "S0", Hl7AckCode.Accept, cts.Token);

        // Only heart rate from now on: the feed is alive, SpO2 is not.
        var n = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                readings.Clear();
                patient.Step(readings);
                readings.RemoveAll(r => r.Sign != Vitals.Core.Sign.Hr);
                var id = $"S{++n}";
                await AssertAckAsync(client, Hl7OruWriter.Format(readings, DateTimeOffset.UtcNow, "BED1", id), id, Hl7AckCode.Accept, cts.Token);
                using var chair = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/chairs/chair-1", UriKind.Relative), cts.Token));
                return chair.RootElement.GetProperty("staleSigns").EnumerateArray().Any(s => s.GetString() == "spo2");
            },
            "spo2 listed as stale");

        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative), cts.Token));
        Assert.Contains(status.RootElement.GetProperty("staleSigns").GetProperty("chair-1").EnumerateArray(), s => s.GetString() == "spo2");
        Assert.DoesNotContain(status.RootElement.GetProperty("staleSigns").GetProperty("chair-1").EnumerateArray(), s => s.GetString() == "hr");
        using var stale = JsonDocument.Parse(await staleEvent.WaitAsync(TimeSpan.FromSeconds(5), cts.Token));
        Assert.Equal("chair-1", stale.RootElement.GetProperty("chair").GetString());
    }

    private static async Task AssertAckAsync(MllpClient client, string message, string controlId, Hl7AckCode expected, CancellationToken ct)
    {
        var ack = await client.SendAsync(Encoding.UTF8.GetBytes(message), AckTimeout, ct);
        Assert.True(Hl7Ack.TryParse(ack, out var parsed), Encoding.UTF8.GetString(ack));
        Assert.Equal(controlId, parsed!.AcknowledgedControlId);
        Assert.Equal(expected, parsed.Code);
    }
}
