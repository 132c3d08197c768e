using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Gateway.Config;
using Vitals.Gateway.Feeds;
using Vitals.Gateway.Pipeline;
using Vitals.Simulator;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Feeds;

/// <summary>Admin binding edits of hl7 devices, applied while a monitor stays connected to the MLLP listener.</summary>
public sealed class Hl7LiveBindingsTests
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);

    /// <summary>chair-1: an hl7 monitor on bed BED1; chair-2: a simulator that never steps (the hour-long step).</summary>
    private static GatewayOptions Options() => new()
    {
        Site = "test-site",
        Hl7 = new Hl7Options { Listen = "127.0.0.1:0", ChairRule = "pv1Bed", TimeZone = "UTC" },
        Chairs =
        [
            new ChairOptions { Id = "chair-1", Devices = [new DeviceOptions { Id = "b40", Kind = "hl7", Match = "BED1" }] },
            new ChairOptions { Id = "chair-2", Devices = [new DeviceOptions { Id = "sim-2", Scenario = "stable" }] },
        ],
    };

    [Fact]
    public async Task PutDevices_Hl7DeviceMovedToAnotherChair_AppliesNow_NextMessageLandsOnNewChair()
    {
        await using var host = await GatewayHost.StartAsync(Options(), TimeSpan.FromHours(1));
        var hl7 = host.App.Services.GetRequiredService<Hl7FeedService>();
        var registry = host.App.Services.GetRequiredService<FeedRegistry>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var monitor = await MllpClient.ConnectAsync("127.0.0.1", hl7.LocalEndPoint!.Port, TimeSpan.FromSeconds(5), cancellationToken: cts.Token);

        Assert.Equal(Hl7AckCode.Accept, await SendHrAsync(monitor, 61, "M1", cts.Token));
        await WaitStoredAsync(host, "chair-1", 61);

        // Off chair-1: its bed is no longer mapped, so the monitor is told AE (it keeps the message and retries).
        var removed = await host.PutDevicesAsync("chair-1", new { id = "sim-1", kind = "simulator" });
        Assert.Equal("now", removed.GetProperty("applied").GetString());
        Assert.DoesNotContain(registry.Snapshot(), f => f.Device == "b40");
        Assert.Equal(Hl7AckCode.Error, await SendHrAsync(monitor, 62, "M2", cts.Token));

        var added = await host.PutDevicesAsync(
            "chair-2", new { id = "sim-2", kind = "simulator", scenario = "stable" }, new { id = "b40", kind = "hl7", match = "BED1" });
        Assert.Equal("now", added.GetProperty("applied").GetString());
        var entry = Assert.Single(registry.Snapshot(), f => f.Device == "b40");
        Assert.Equal(("chair-2", "hl7", 0L), (entry.Chair, entry.Kind, entry.FramesOk));

        // Same connection, same bed: now chair-2's reading.
        Assert.Equal(Hl7AckCode.Accept, await SendHrAsync(monitor, 117, "M3", cts.Token));
        await WaitStoredAsync(host, "chair-2", 117);
        var live = host.App.Services.GetRequiredService<LiveState>();
        Assert.Equal(117, live.Snapshot("chair-2")!.Values[Sign.Hr].Value);
        Assert.Equal(61, live.Snapshot("chair-1")!.Values[Sign.Hr].Value);
        Assert.Equal(61, Assert.Single(Stored(host, "chair-1"), o => o.Source == SourceProtocol.Hl7Mllp).Value);
        Assert.Equal(117, Assert.Single(Stored(host, "chair-2"), o => o.Source == SourceProtocol.Hl7Mllp).Value);
        Assert.Equal(1, Assert.Single(registry.Snapshot(), f => f.Device == "b40").FramesOk);

        using var bindings = System.Text.Json.JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/admin/bindings", UriKind.Relative), cts.Token));
        Assert.All(bindings.RootElement.EnumerateArray(), b => Assert.False(b.GetProperty("pendingRestart").GetBoolean(), b.GetRawText()));
        Assert.Equal(1, hl7.ActiveConnections);
    }

    [Fact]
    public async Task PutDevices_WhileMessagesFlowOnOpenConnection_EveryMessageAckedAa_ConnectionAndCountersKept()
    {
        var options = Options();
        options.Chairs[1].Devices = [new DeviceOptions { Id = "b40-2", Kind = "hl7", Match = "BED2" }];
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromHours(1));
        var hl7 = host.App.Services.GetRequiredService<Hl7FeedService>();
        var registry = host.App.Services.GetRequiredService<FeedRegistry>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var monitor = await MllpClient.ConnectAsync("127.0.0.1", hl7.LocalEndPoint!.Port, TimeSpan.FromSeconds(5), cancellationToken: cts.Token);

        // chair-1's monitor sends back to back on one connection while chair-2's binding changes (each a new chair map).
        var acks = new List<Hl7AckCode>();
        var sent = 0;
        using var stop = new CancellationTokenSource();
        var sender = Task.Run(
            async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var code = await SendHrAsync(monitor, 70, $"F{sent}", cts.Token);
                    lock (acks)
                    {
                        acks.Add(code);
                    }

                    Interlocked.Increment(ref sent);
                }
            },
            CancellationToken.None);
        await Eventually.TrueAsync(() => Volatile.Read(ref sent) >= 3, "the monitor sending");

        var sentBefore = Volatile.Read(ref sent);
        for (var i = 0; i < 8; i++)
        {
            var match = i % 2 == 0 ? "BED2-NEW" : "BED2";
            var change = await host.PutDevicesAsync("chair-2", new { id = $"b40-2-{i}", kind = "hl7", match });
            Assert.Equal("now", change.GetProperty("applied").GetString());
        }

        var sentDuring = Volatile.Read(ref sent) - sentBefore;
        await Eventually.TrueAsync(() => Volatile.Read(ref sent) >= sentBefore + sentDuring + 2, "messages after the last change");
        await stop.CancelAsync();
        await sender.WaitAsync(AckTimeout);

        Assert.True(sentDuring > 0, "no message was sent while the bindings changed");
        Assert.All(acks, code => Assert.Equal(Hl7AckCode.Accept, code));
        Assert.Equal(1, hl7.ActiveConnections);
        Assert.Equal(0, hl7.ConnectionFaults);
        Assert.Equal(1, Assert.Single(hl7.Sources).Connected);

        // chair-1's device was never touched: its entry and counters stay. chair-2 has only its latest device.
        Assert.Equal(acks.Count, Assert.Single(registry.Snapshot(), f => f.Device == "b40").FramesOk);
        Assert.Equal("b40-2-7", Assert.Single(registry.Snapshot(), f => f.Chair == "chair-2").Device);
    }

    private static async Task<Hl7AckCode> SendHrAsync(MllpClient client, double hr, string controlId, CancellationToken ct)
    {
        var message = Hl7OruWriter.Format([new SimReading(Sign.Hr, hr, TimeSpan.Zero)], DateTimeOffset.UtcNow, "BED1", controlId);
        var ack = await client.SendAsync(Encoding.UTF8.GetBytes(message), AckTimeout, ct);
        Assert.True(Hl7Ack.TryParse(ack, out var parsed), Encoding.UTF8.GetString(ack));
        Assert.Equal(controlId, parsed!.AcknowledgedControlId);
        return parsed.Code;
    }

    private static List<Observation> Stored(GatewayHost host, string chair) =>
        host.App.Services.GetRequiredService<SqliteStore>().Query(chair, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

    private static Task WaitStoredAsync(GatewayHost host, string chair, double hr) =>
        Eventually.TrueAsync(() => Stored(host, chair).Any(o => o.Sign == Sign.Hr && o.Value == hr), $"hr {hr} stored for {chair}");
}
