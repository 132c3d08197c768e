using System.Buffers;
using System.Text;
using System.Text.Json;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Serial;
using Vitals.Gateway.Config;
using Vitals.Simulator;

namespace Vitals.Gateway.Tests.Feeds;

/// <summary>
/// Simulator's ORU^R01 in MLLP blocks -> pty master -> gateway (serial device, codec hl7, bound to the pty slave) -> store;
/// the ACKs come back on the same tty and are read from the master, as the monitor would.
/// </summary>
public sealed class SerialHl7EndToEndTests
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task SerialHl7_MllpMessagesOnPty_AckedOnSameTtyStoredOnDeviceChair_GarbageGetsAe()
    {
        using var pty = PseudoTerminal.Open();
        var options = new GatewayOptions
        {
            Site = "test-site",
            Chairs =
            [
                new ChairOptions
                {
                    Id = "chair-4",
                    Devices = [new DeviceOptions { Id = "mon-4", Kind = "serial", Codec = "hl7", Port = pty.SlavePath, Baud = 19200, TimeZone = "UTC" }],
                },
            ],
        };
        Assert.Empty(options.Validate());
        Assert.False(options.HasHl7Listener); // a serial hl7 device needs no TCP listener
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromHours(1));

        // Write only once the gateway has the slave in raw mode (before that the tty would echo and translate CR).
        await Eventually.TrueAsync(async () => (await FeedAsync(host)).GetProperty("connected").GetBoolean(), "serial hl7 feed connected");

        var patient = new SimulatedPatient(new SimulatorOptions(ScenarioKind.Stable, 11, 1));
        var readings = new List<SimReading>();
        patient.Step(readings);
        var acks = new AckReader(pty);

        // The PV1 bed names no configured chair: on a serial line every message belongs to the device's own chair.
        pty.Write(Frame(Hl7OruWriter.Format(readings, DateTimeOffset.UtcNow, "ANY-BED", "S1")));
        var first = await acks.NextAsync();
        Assert.Equal(Hl7AckCode.Accept, first.Code);
        Assert.Equal("S1", first.AcknowledgedControlId);

        // A garbage frame is answered AE (never AA) and counted bad...
        pty.Write(Frame("\u0001\u0002 line noise, not HL7"));
        var garbage = await acks.NextAsync();
        Assert.Equal(Hl7AckCode.Error, garbage.Code);

        // ...and the next good message, split across writes like a slow UART, still gets AA with its own MSH-10.
        readings.Clear();
        patient.Step(readings);
        var second = Frame(Hl7OruWriter.Format(readings, DateTimeOffset.UtcNow, "ANY-BED", "S2"));
        pty.Write(second.AsSpan(0, 100));
        await Task.Delay(100);
        pty.Write(second.AsSpan(100));
        var ack = await acks.NextAsync();
        Assert.Equal(Hl7AckCode.Accept, ack.Code);
        Assert.Equal("S2", ack.AcknowledgedControlId);

        await Eventually.TrueAsync(
            async () =>
            {
                using var history = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/chairs/chair-4/history?minutes=5", UriKind.Relative)));
                var rows = history.RootElement.EnumerateArray().ToList();
                return rows.Count(o => o.GetProperty("sign").GetString() == "hr") >= 2 && rows.Any(o => o.GetProperty("sign").GetString() == "spo2");
            },
            "two hr readings and spo2 stored for chair-4");

        var feed = await FeedAsync(host);
        Assert.Equal("serial", feed.GetProperty("kind").GetString());
        Assert.Equal("chair-4", feed.GetProperty("chair").GetString());
        Assert.Equal(2, feed.GetProperty("framesOk").GetInt64());
        Assert.Equal(1, feed.GetProperty("framesBad").GetInt64());
        Assert.Contains("MSH", feed.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.True(feed.GetProperty("bytes").GetInt64() > 0);
    }

    private static byte[] Frame(string message) => MllpEncoder.Frame(Encoding.UTF8.GetBytes(message));

    private static async Task<JsonElement> FeedAsync(GatewayHost host)
    {
        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        return status.RootElement.GetProperty("feeds").EnumerateArray().Single(f => f.GetProperty("device").GetString() == "mon-4").Clone();
    }

    /// <summary>Reads MLLP-framed ACKs from the pty master (the monitor's side of the cable).</summary>
    private sealed class AckReader(PseudoTerminal pty)
    {
        private readonly MllpFrameReader reader = new();
        private byte[] pending = [];

        public Task<Hl7Ack> NextAsync() => Task.Run(Next);

        private Hl7Ack Next()
        {
            var deadline = TimeProvider.System.GetTimestamp() + (long)(AckTimeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
            var chunk = new byte[4096];
            while (true)
            {
                var buffer = new ReadOnlySequence<byte>(pending);
                if (reader.TryReadFrame(ref buffer, out var frame))
                {
                    var message = frame.ToArray();
                    pending = buffer.ToArray();
                    Assert.True(Hl7Ack.TryParse(message, out var ack), Encoding.ASCII.GetString(message));
                    return ack!;
                }

                pending = buffer.ToArray();
                Assert.True(TimeProvider.System.GetTimestamp() < deadline, "no ACK on the tty within the timeout");
                var n = pty.Read(chunk, TimeSpan.FromMilliseconds(100));
                pending = [.. pending, .. chunk.AsSpan(0, n)];
            }
        }
    }
}
