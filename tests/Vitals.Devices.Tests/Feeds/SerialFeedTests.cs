using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Devices.Hl7;
using Vitals.Devices.Line;
using Vitals.Devices.Masimo;
using Vitals.Devices.Mllp;
using Vitals.Devices.Serial;
using Vitals.Devices.Tests.Hl7;

namespace Vitals.Devices.Tests.Feeds;

public class SerialFeedTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static SerialFeedOptions Options(string path) => new()
    {
        Port = new SerialPortSettings { Path = path },
        Site = "clinic-a",
        Chair = "chair-3",
        Device = "chair3-oximeter",
        ReconnectDelay = TimeSpan.FromMilliseconds(50),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
    };

    private static async Task<List<Observation>> ReadAsync(ChannelReader<Observation> reader, int count, CancellationToken ct)
    {
        var list = new List<Observation>();
        while (list.Count < count)
        {
            list.Add(await reader.ReadAsync(ct));
        }

        return list;
    }

    [Fact]
    public async Task RunAsync_MasimoBytesOnPtyMaster_ObservationsInChannel()
    {
        using var pty = PseudoTerminal.Open();
        var channel = Channel.CreateBounded<Observation>(1000);
        var feed = new SerialFeed(Options(pty.SlavePath), new LinuxSerialPortFactory(), new MasimoCodec(), channel.Writer, TimeProvider.System);
        using var cts = new CancellationTokenSource(Timeout);
        var run = feed.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => feed.Counters.Connected, "the feed to connect", ct: cts.Token);

        byte[] capture = TestData.Capture("masimo-rad8-ascii1.txt");
        var random = new Random(42);
        for (int offset = 0; offset < capture.Length;)
        {
            int size = Math.Min(random.Next(1, 300), capture.Length - offset);
            pty.Write(capture.AsSpan(offset, size)); // arbitrary chunking, like a UART FIFO
            offset += size;
        }

        var observations = await ReadAsync(channel.Reader, 54, cts.Token);
        await Eventually.TrueAsync(() => feed.Counters.FramesOk == 30, "30 good frames", ct: cts.Token);

        Assert.Equal(98, observations[0].Value);
        Assert.All(observations, o =>
        {
            Assert.Equal("chair-3", o.Chair);
            Assert.Equal("0000056661", o.Device);
            Assert.Equal(SourceProtocol.Masimo, o.Source);
        });
        var counters = feed.Counters.Snapshot();
        Assert.True(counters.Connected);
        Assert.Equal(0, counters.FramesBad);
        Assert.Equal(capture.Length, counters.Bytes);
        Assert.NotNull(counters.LastFrameAt);

        await cts.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.False(feed.Counters.Connected);
    }

    [Fact]
    public async Task RunAsync_GarbageAndOversizeBetweenLines_CountedBadAndFeedContinues()
    {
        using var pty = PseudoTerminal.Open();
        var channel = Channel.CreateUnbounded<Observation>();
        string json = File.ReadAllText(TestData.CapturePath("nonin-7500.json"));
        var feed = new SerialFeed(Options(pty.SlavePath) with { Port = new SerialPortSettings { Path = pty.SlavePath, StopBits = 2 } },
            new LinuxSerialPortFactory(), LineCodec.FromJson(json), channel.Writer, TimeProvider.System);
        using var cts = new CancellationTokenSource(Timeout);
        var run = feed.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => feed.Counters.Connected, "the feed to connect", ct: cts.Token);

        pty.Write("SPO2=097 HR=072\r\n"u8);
        pty.Write("SPO2=abc HR=072\r\n"u8);
        var noise = new byte[3000];
        new Random(7).NextBytes(noise);
        noise.AsSpan().Replace((byte)'\n', (byte)'x');
        pty.Write(noise); // no newline, longer than the 1024-byte limit
        pty.Write("\r\nSPO2=095 HR=080\r\n"u8);

        var observations = await ReadAsync(channel.Reader, 4, cts.Token);
        await Eventually.TrueAsync(() => feed.Counters.FramesBad == 2 && feed.Counters.FramesOk == 2, "2 bad and 2 good frames", ct: cts.Token);

        Assert.Equal([97.0, 72, 95, 80], observations.Select(o => o.Value));
        Assert.Equal("chair3-oximeter", observations[0].Device);
        Assert.NotNull(feed.Counters.LastError);
        await cts.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task RunAsync_DeviceUnpluggedAndBack_ReconnectsThroughStablePath()
    {
        string dir = Directory.CreateTempSubdirectory("vitals-by-id").FullName;
        string link = Path.Combine(dir, "usb-Masimo_Rad-8-if00-port0");
        var first = PseudoTerminal.Open();
        File.CreateSymbolicLink(link, first.SlavePath);
        var channel = Channel.CreateUnbounded<Observation>();
        var feed = new SerialFeed(Options(link), new LinuxSerialPortFactory(), new MasimoCodec(), channel.Writer, TimeProvider.System);
        using var cts = new CancellationTokenSource(Timeout);
        var run = feed.RunAsync(cts.Token);
        try
        {
            await Eventually.TrueAsync(() => feed.Counters.Connected, "the feed to connect", ct: cts.Token);
            first.Write("02/22/16 22:47:44 SN=0000056661 SPO2=---% BPM=--- ALARM=0000 EXC=000021\r\n"u8);
            first.Write("02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 ALARM=0000 EXC=000804\r\n"u8);
            await ReadAsync(channel.Reader, 2, cts.Token);
            Assert.Equal(["LowPerfusion"], feed.Counters.Conditions);

            File.Delete(link);
            first.Dispose(); // unplug: the slave hangs up
            await Eventually.TrueAsync(() => !feed.Counters.Connected, "the feed to notice the unplug", ct: cts.Token);

            using var second = PseudoTerminal.Open(); // plugged back in, maybe under another ttyUSBn
            File.CreateSymbolicLink(link, second.SlavePath);
            await Eventually.TrueAsync(() => feed.Counters.Connected, "the feed to connect", ct: cts.Token);
            second.Write("02/22/16 22:47:50 SN=0000056661 SPO2=096% BPM=090 ALARM=0000 EXC=000800\r\n"u8);

            var after = await ReadAsync(channel.Reader, 2, cts.Token);
            Assert.Equal(96, after[0].Value);
            Assert.True(feed.Counters.Reconnects >= 1);
        }
        finally
        {
            await cts.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(2));
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task RunAsync_CodecThrows_CountsBadAndKeepsRunning()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        var port = new ScriptedPort("boom\nSPO2=097 HR=072\n"u8.ToArray());
        var feed = new SerialFeed(Options("/dev/fake"), new ScriptedFactory(port), new ThrowOnBoom(), channel.Writer, TimeProvider.System);
        using var cts = new CancellationTokenSource(Timeout);
        var run = feed.RunAsync(cts.Token);

        var observations = await ReadAsync(channel.Reader, 2, cts.Token);

        Assert.Equal(2, observations.Count);
        Assert.Equal(1, feed.Counters.FramesBad);
        Assert.Contains("InvalidOperationException", feed.Counters.LastError, StringComparison.Ordinal);
        await cts.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task RunAsync_Hl7Codec_AeForGarbageAndAaOnlyAfterObservationsAreInTheChannel()
    {
        var channel = Channel.CreateBounded<Observation>(4); // the 8-OBX message cannot fit until the test reads
        byte[] data = [.. MllpEncoder.Frame("garbage, no MSH"u8), .. MllpEncoder.Frame(Hl7TestData.EightObx("OK-1"))];
        var port = new RecordingPort(data);
        var codec = new MllpSerialCodec(Hl7TestData.Codec(), Hl7TestData.Received);
        var feed = new SerialFeed(Options("/dev/fake"), new ScriptedFactory(port), codec, channel.Writer, TimeProvider.System);
        using var cts = new CancellationTokenSource(Timeout);
        var run = feed.RunAsync(cts.Token);

        await Eventually.TrueAsync(() => port.Written.Count == 1, "the first ACK written", ct: cts.Token);
        await Task.Delay(200, cts.Token);
        Assert.Single(port.Written); // the good message's observations are still waiting for room: no ACK yet
        Assert.Equal(Hl7AckCode.Error, ParseFramedAck(port.Written.First()).Code);

        var observations = await ReadAsync(channel.Reader, 8, cts.Token);
        await Eventually.TrueAsync(() => port.Written.Count == 2, "the second ACK written", ct: cts.Token);

        var ack = ParseFramedAck(port.Written.Last());
        Assert.Equal(Hl7AckCode.Accept, ack.Code);
        Assert.Equal("OK-1", ack.AcknowledgedControlId);
        Assert.All(observations, o => Assert.Equal("chair-3", o.Chair));
        Assert.Equal(1, feed.Counters.FramesOk);
        Assert.Equal(1, feed.Counters.FramesBad);
        Assert.Contains("MSH", feed.Counters.LastError, StringComparison.Ordinal);
        await cts.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task RunAsync_Hl7CodecChannelClosed_NoAckForTheDroppedMessage()
    {
        var channel = Channel.CreateBounded<Observation>(1);
        channel.Writer.Complete(); // the pipeline is gone: nothing can be kept
        var port = new RecordingPort(MllpEncoder.Frame(Hl7TestData.EightObx("LOST-1")));
        var feed = new SerialFeed(Options("/dev/fake"), new ScriptedFactory(port), new MllpSerialCodec(Hl7TestData.Codec(), Hl7TestData.Received), channel.Writer, TimeProvider.System);

        await feed.RunAsync(CancellationToken.None).WaitAsync(Timeout);

        Assert.Empty(port.Written);
    }

    [Fact]
    public async Task RunAsync_OpenKeepsFailing_RetriesWithCappedBackoff()
    {
        var factory = new FailingFactory();
        var feed = new SerialFeed(Options("/dev/serial/by-id/usb-unplugged"), factory, new MasimoCodec(), Channel.CreateUnbounded<Observation>().Writer, TimeProvider.System);
        factory.Counters = feed.Counters;
        using var cts = new CancellationTokenSource();
        var run = feed.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => factory.Delays.Count >= 6, "six retries");
        await cts.CancelAsync();
        await run.WaitAsync(Timeout); // returns on cancellation, never throws for device problems

        // Wall-clock gaps are at the mercy of a loaded CI box; the delays Polly chose are not: never a hot loop, never past the cap.
        Assert.All(factory.Delays, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromMilliseconds(200)));
        Assert.True(factory.Delays.Sum(d => d.TotalMilliseconds) > 0, "retries without any delay are a hot loop");
        Assert.True(factory.Delays.Distinct().Count() > 1, "jitter or backoff should vary the delay");
        Assert.False(feed.Counters.Connected);
        Assert.Equal(factory.Attempts, feed.Counters.Reconnects);
        Assert.Contains("no such device", feed.Counters.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_BadOptions_ThrowsNamingSetting()
    {
        var options = Options("/dev/ttyUSB0") with { Chair = "", Port = new SerialPortSettings { Path = "/dev/ttyUSB0", BaudRate = 50 } };
        var ex = Assert.Throws<ArgumentException>(() =>
            new SerialFeed(options, new LinuxSerialPortFactory(), new MasimoCodec(), Channel.CreateUnbounded<Observation>().Writer, TimeProvider.System));
        Assert.Contains("Chair:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Port.BaudRate:", ex.Message, StringComparison.Ordinal);
    }

    private sealed class ThrowOnBoom : ILineCodec
    {
        private readonly LineCodec inner = LineCodec.FromJson(File.ReadAllText(TestData.CapturePath("nonin-7500.json")));

        public SourceProtocol Protocol => SourceProtocol.Line;

        public LineFramer Framer => inner.Framer;

        public DecodeResult Decode(ReadOnlySpan<byte> line, DecodeContext context, ICollection<Observation> output) =>
            line.SequenceEqual("boom"u8) ? throw new InvalidOperationException("codec bug") : inner.Decode(line, context, output);
    }

    private sealed class FailingFactory : ISerialPortFactory
    {
        public int Attempts { get; private set; }

        public List<TimeSpan> Delays { get; } = [];

        public FeedCounters? Counters { get; set; }

        public ValueTask<ISerialPort> OpenAsync(SerialPortSettings settings, CancellationToken cancellationToken)
        {
            Attempts++;
            if (Attempts > 1 && Counters is not null)
            {
                Delays.Add(Counters.LastReconnectDelay); // the delay chosen before this attempt
            }

            throw new SerialPortGoneException($"{settings.Path}: no such device");
        }
    }

    private sealed class ScriptedFactory(ISerialPort port) : ISerialPortFactory
    {
        public ValueTask<ISerialPort> OpenAsync(SerialPortSettings settings, CancellationToken cancellationToken) => ValueTask.FromResult(port);
    }

    private static Hl7Ack ParseFramedAck(byte[] reply)
    {
        Assert.Equal(MllpFrameReader.StartBlock, reply[0]);
        Assert.True(Hl7Ack.TryParse(reply.AsSpan(1, reply.Length - 3), out var ack));
        return ack!;
    }

    /// <summary>Delivers <paramref name="data"/> in one read, then waits; records every write (the device's view of replies).</summary>
    private sealed class RecordingPort(byte[] data) : ISerialPort
    {
        private bool sent;

        public System.Collections.Concurrent.ConcurrentQueue<byte[]> Written { get; } = new();

        public SerialPortSettings Settings { get; } = new() { Path = "/dev/fake" };

        public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            if (!sent)
            {
                sent = true;
                data.CopyTo(buffer);
                return data.Length;
            }

            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            return 0;
        }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
        {
            Written.Enqueue(buffer.ToArray());
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class ScriptedPort(byte[] data) : ISerialPort
    {
        private bool sent;

        public SerialPortSettings Settings { get; } = new() { Path = "/dev/fake" };

        public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            if (!sent)
            {
                sent = true;
                data.CopyTo(buffer);
                return data.Length;
            }

            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            return 0;
        }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
