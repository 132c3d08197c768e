using System.Buffers;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices;
using Vitals.Devices.Hl7;
using Vitals.Devices.Masimo;
using Vitals.Devices.Mllp;
using Vitals.Devices.Serial;
using Vitals.Simulator.Cli;

namespace Vitals.Simulator.Tests;

/// <summary><c>vitals-sim serial</c> and <c>vitals-sim hl7</c> against real peers: a tty reader on the pty slave and an MLLP listener.</summary>
public class ProtocolCommandsTests
{
    [Fact]
    public async Task Hl7_AgainstListener_AllAcksAA_ExitZero_UnmappedBed_ExitOne()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        var codec = new Hl7OruCodec(new Hl7CodecOptions { ChairRule = Hl7ChairRule.Pv1Bed, ChairMap = { ["BED1"] = "chair-1" } });
        await using var listener = new MllpListener(new MllpListenerOptions { Port = 0, Site = "t" }, codec, channel.Writer, TimeProvider.System);
        listener.Start();
        var port = listener.LocalEndPoint!.Port;

        var (code, output, _) = await RunAsync(ProtocolCommands.Hl7, "--connect", $"127.0.0.1:{port}", "--bed", "BED1", "--count", "3", "--step-ms", "10");
        Assert.Equal(0, code);
        Assert.Contains("sent 3, AA 3, AE/AR 0, bad or mismatched ACK 0", output, StringComparison.Ordinal);
        Assert.True(channel.Reader.TryRead(out var first));
        Assert.Equal("chair-1", first.Chair);

        var (badCode, badOutput, badError) = await RunAsync(ProtocolCommands.Hl7, "--connect", $"127.0.0.1:{port}", "--bed", "BED9", "--count", "2", "--step-ms", "10");
        Assert.Equal(1, badCode);
        Assert.Contains("sent 2, AA 0, AE/AR 2", badOutput, StringComparison.Ordinal);
        Assert.Contains("no chair mapping", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hl7_NoListenerOnThePort_SaysSoAndHowToFix()
    {
        using var closed = new ReservedPort(); // refuses connections, and no one else can listen there meanwhile
        var port = closed.Port;

        var (code, output, error) = await RunAsync(ProtocolCommands.Hl7, "--connect", $"127.0.0.1:{port}", "--bed", "BED1", "--count", "3", "--step-ms", "10");
        Assert.Equal(1, code);
        Assert.Contains($"nothing accepts HL7 at 127.0.0.1:{port} (connection refused)", error, StringComparison.Ordinal);
        Assert.Contains("hl7.listen", error, StringComparison.Ordinal);
        Assert.Contains("sent 0", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--connect", "10.1.2.3:2575", "--bed", "B")]
    [InlineData("--connect", "127.0.0.1", "--bed", "B")]
    public async Task Hl7_NonLoopbackOrNoPort_IsAUsageError(params string[] args)
    {
        var (code, _, error) = await RunAsync(ProtocolCommands.Hl7, args);
        Assert.Equal(2, code);
        Assert.Contains("--connect", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serial_Pty_WritesMasimoLinesReadableOnTheSlave()
    {
        var output = new SyncWriter();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = ProtocolCommands.Serial(output, TextWriter.Null).Parse(["--pty", "--count", "200", "--step-ms", "20", "--exc", "000820"]).InvokeAsync(cancellationToken: cts.Token);
        await Eventually.TrueAsync(
            () =>
            {
                Assert.False(run.IsCompleted, "vitals-sim serial ended before printing the pty path");
                return output.Text.Length > 0;
            },
            "the pty path on stdout",
            ct: cts.Token);

        var path = output.Text.Trim();
        Assert.StartsWith("/dev/pts/", path, StringComparison.Ordinal);
        await using var port = LinuxSerialPort.Open(new SerialPortSettings { Path = path });
        var codec = new MasimoCodec();
        var framer = codec.Framer;
        var buffer = new byte[4096];
        var filled = 0;
        var lines = 0;
        while (lines < 2)
        {
            filled += await port.ReadAsync(buffer.AsMemory(filled), cts.Token);
            var seq = new ReadOnlySequence<byte>(buffer, 0, filled);
            while (framer.TryReadFrame(ref seq, out var frame))
            {
                var result = codec.Decode(frame.ToArray(), new DecodeContext("t", "c", "d", DateTimeOffset.UnixEpoch, TimeZoneInfo.Utc), new List<Observation>());
                Assert.True(result.Ok, result.Error);
                Assert.Contains("SensorOff", codec.ActiveConditions);
                lines++;
            }

            var rest = (int)seq.Length;
            Buffer.BlockCopy(buffer, filled - rest, buffer, 0, rest);
            filled = rest;
        }

        await cts.CancelAsync();
        Assert.Equal(0, await run);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(Func<TextWriter, TextWriter, System.CommandLine.Command> verb, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await verb(output, error).Parse(args).InvokeAsync();
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A writer the test can poll while the command writes from another thread.</summary>
    private sealed class SyncWriter : StringWriter
    {
        private readonly Lock gate = new();

        public string Text
        {
            get
            {
                lock (gate)
                {
                    return ToString();
                }
            }
        }

        public override void Write(char value)
        {
            lock (gate)
            {
                base.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (gate)
            {
                base.Write(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (gate)
            {
                base.WriteLine(value);
            }
        }
    }
}
