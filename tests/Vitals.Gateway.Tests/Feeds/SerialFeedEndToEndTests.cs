using System.Text;
using System.Text.Json;
using Vitals.Devices.Serial;
using Vitals.Gateway.Config;
using Vitals.Simulator;

namespace Vitals.Gateway.Tests.Feeds;

/// <summary>Simulator -> pty -> gateway (serial Masimo device bound to the pty slave) -> store, alarms and status.</summary>
public sealed class SerialFeedEndToEndTests
{
    [Fact]
    public async Task SerialMasimo_SimulatorOnPty_StoresReadingsCountsFramesAndRaisesSensorOffAlarm()
    {
        using var pty = PseudoTerminal.Open();
        var options = new GatewayOptions
        {
            Site = "test-site",
            Chairs =
            [
                new ChairOptions
                {
                    Id = "chair-1",
                    Devices = [new DeviceOptions { Id = "oxi-1", Kind = "serial", Codec = "masimo", Port = pty.SlavePath, TimeZone = "UTC" }],
                },
            ],
        };
        Assert.Empty(options.Validate());
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromHours(1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var exc = MasimoAsciiWriter.SetMode;
        var monitor = Task.Run(() => PlayMonitor(pty, () => Volatile.Read(ref exc), cts.Token), cts.Token);

        // Readings arrive and are stored.
        await Eventually.TrueAsync(
            async () =>
            {
                using var history = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/chairs/chair-1/history?minutes=5", UriKind.Relative)));
                var signs = history.RootElement.EnumerateArray().Select(o => o.GetProperty("sign").GetString()).ToHashSet();
                return signs.Contains("spo2") && signs.Contains("pr");
            },
            "spo2 and pr in history");

        // Per-feed counters on the status endpoint.
        using (var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative))))
        {
            var feed = status.RootElement.GetProperty("feeds").EnumerateArray().Single(f => f.GetProperty("device").GetString() == "oxi-1");
            Assert.Equal("serial", feed.GetProperty("kind").GetString());
            Assert.Equal("chair-1", feed.GetProperty("chair").GetString());
            Assert.True(feed.GetProperty("connected").GetBoolean());
            Assert.True(feed.GetProperty("framesOk").GetInt64() > 0);
            Assert.True(feed.GetProperty("bytes").GetInt64() > 0);
            Assert.True(feed.TryGetProperty("lastFrameAt", out _));
            Assert.True(feed.TryGetProperty("reconnects", out _));
            Assert.True(status.RootElement.GetProperty("staleSigns").TryGetProperty("chair-1", out _));
        }

        // Sensor off (EXC 0x020) raises the technical alarm; back on the patient clears it.
        Volatile.Write(ref exc, MasimoAsciiWriter.SetMode | MasimoAsciiWriter.SensorOff);
        await Eventually.TrueAsync(async () => (await host.Http.GetStringAsync(new Uri("api/alarms", UriKind.Relative))).Contains("device.sensor_off", StringComparison.Ordinal), "sensor off alarm raised");
        Volatile.Write(ref exc, MasimoAsciiWriter.SetMode);
        await Eventually.TrueAsync(async () => !(await host.Http.GetStringAsync(new Uri("api/alarms", UriKind.Relative))).Contains("device.sensor_off", StringComparison.Ordinal), "sensor off alarm cleared");

        await cts.CancelAsync();
        await monitor.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private static void PlayMonitor(PseudoTerminal pty, Func<uint> exceptions, CancellationToken ct)
    {
        // A stable patient at 20 lines/s of wall time; the line's clock is UTC (the device's configured zone).
        var patient = new SimulatedPatient(new SimulatorOptions(ScenarioKind.Stable, 7, 1));
        var readings = new List<SimReading>();
        var drain = new byte[4096];
        while (!ct.IsCancellationRequested)
        {
            readings.Clear();
            patient.Step(readings);
            pty.Write(Encoding.ASCII.GetBytes(MasimoAsciiWriter.Format(readings, DateTime.UtcNow, "0000012345", exceptions())));
            pty.Read(drain, TimeSpan.FromMilliseconds(50));
        }
    }
}
