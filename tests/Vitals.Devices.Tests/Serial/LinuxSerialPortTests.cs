using System.Text;
using Vitals.Devices.Serial;

namespace Vitals.Devices.Tests.Serial;

public class LinuxSerialPortTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1200, 7, Parity.Even, 1, FlowControl.None)]
    [InlineData(9600, 8, Parity.None, 1, FlowControl.None)]
    [InlineData(9600, 8, Parity.None, 2, FlowControl.XonXoff)]
    [InlineData(19200, 8, Parity.Odd, 1, FlowControl.RtsCts)]
    [InlineData(115200, 8, Parity.None, 1, FlowControl.None)]
    [InlineData(230400, 8, Parity.None, 1, FlowControl.None)]
    [InlineData(250000 / 2, 8, Parity.None, 1, FlowControl.None)] // non-standard rate works through BOTHER
    [InlineData(250000, 8, Parity.None, 1, FlowControl.None)] // above the old 230400 cap (DMX512, some lab devices)
    [InlineData(921600, 8, Parity.None, 1, FlowControl.None)]
    [InlineData(3_000_000, 8, Parity.None, 1, FlowControl.None)]
    public async Task Open_PtySlave_ReadsBackConfiguredSpeed(int baud, int dataBits, Parity parity, int stopBits, FlowControl flow)
    {
        using var pty = PseudoTerminal.Open();
        var settings = new SerialPortSettings
        {
            Path = pty.SlavePath, BaudRate = baud, DataBits = dataBits, Parity = parity, StopBits = stopBits, FlowControl = flow,
        };
        await using var port = LinuxSerialPort.Open(settings);
        Assert.Equal(baud, port.GetActualBaudRate());
    }

    [Fact]
    public void SpeedRefused_DriverFailsTcsets2_NamesTheConfigKeyAndRate()
    {
        // A pty takes any BOTHER rate, so a refusing UART driver (EINVAL from TCSETS2) is given as its errno here.
        var settings = new SerialPortSettings { Path = "/dev/ttyUSB0", BaudRate = 4_000_000, BaudRateKey = "chairs[2].devices[0].baud" };

        string? error = LinuxSerialPort.SpeedRefused(settings, setErrno: 22, actualOut: 9600, actualIn: 9600);

        Assert.NotNull(error);
        Assert.Contains("/dev/ttyUSB0", error, StringComparison.Ordinal);
        Assert.Contains("refused 4000000 baud", error, StringComparison.Ordinal);
        Assert.Contains("Fix: set chairs[2].devices[0].baud", error, StringComparison.Ordinal);
    }

    [Fact]
    public void SpeedRefused_DriverRoundsToAnotherRate_NamesTheConfigKeyAndBothRates()
    {
        // An 8250 UART clamps what its divisor cannot reach: TCSETS2 succeeds and the read-back shows another rate.
        var settings = new SerialPortSettings { Path = "/dev/ttyS0", BaudRate = 250000, BaudRateKey = "chairs[0].devices[1].baud" };

        string? error = LinuxSerialPort.SpeedRefused(settings, setErrno: 0, actualOut: 115200, actualIn: 115200);

        Assert.NotNull(error);
        Assert.Contains("asked for 250000 baud but the driver set 115200", error, StringComparison.Ordinal);
        Assert.Contains("Fix: set chairs[0].devices[1].baud", error, StringComparison.Ordinal);
        Assert.Null(LinuxSerialPort.SpeedRefused(settings, setErrno: 0, actualOut: 250000, actualIn: 250000));
    }

    [Fact]
    public async Task ReadAsync_ManyQuietPorts_EachWokenByItsOwnBytes()
    {
        // Every port shares one epoll thread: bytes on one pty must wake that port's read and no other.
        var ptys = Enumerable.Range(0, 8).Select(_ => PseudoTerminal.Open()).ToList();
        var ports = ptys.Select(p => LinuxSerialPort.Open(new SerialPortSettings { Path = p.SlavePath })).ToList();
        try
        {
            using var cts = new CancellationTokenSource(Timeout);
            var buffers = ports.Select(_ => new byte[16]).ToList();
            var reads = ports.Select((port, i) => port.ReadAsync(buffers[i], cts.Token).AsTask()).ToList();
            await Task.Delay(200);
            Assert.All(reads, r => Assert.False(r.IsCompleted));

            ptys[5].Write("5"u8);
            Assert.Equal(1, await reads[5].WaitAsync(Timeout));
            Assert.Equal((byte)'5', buffers[5][0]);
            await Task.Delay(200);
            Assert.All(reads.Where((_, i) => i != 5), r => Assert.False(r.IsCompleted));

            for (int i = 0; i < ptys.Count; i++)
            {
                ptys[i].Write([(byte)('0' + i)]);
            }

            for (int i = 0; i < ptys.Count; i++)
            {
                int n = i == 5 ? await ports[5].ReadAsync(buffers[5], cts.Token) : await reads[i].WaitAsync(Timeout);
                Assert.Equal(1, n);
                Assert.Equal((byte)('0' + i), buffers[i][0]);
            }
        }
        finally
        {
            foreach (var port in ports)
            {
                await port.DisposeAsync();
            }

            ptys.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public async Task ReadAsync_BytesFromMaster_ArriveOnSlave()
    {
        using var pty = PseudoTerminal.Open();
        await using var port = LinuxSerialPort.Open(new SerialPortSettings { Path = pty.SlavePath });
        using var cts = new CancellationTokenSource(Timeout);

        byte[] sent = Encoding.ASCII.GetBytes("SPO2=097 HR=072\r\n");
        pty.Write(sent);

        var received = new List<byte>();
        var buffer = new byte[64];
        while (received.Count < sent.Length)
        {
            int n = await port.ReadAsync(buffer, cts.Token);
            received.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        Assert.Equal(sent, received.ToArray()); // raw mode: CR LF pass through untouched
    }

    [Fact]
    public async Task WriteAsync_BytesFromSlave_ArriveOnMaster()
    {
        using var pty = PseudoTerminal.Open();
        await using var port = LinuxSerialPort.Open(new SerialPortSettings { Path = pty.SlavePath, BaudRate = 19200 });
        using var cts = new CancellationTokenSource(Timeout);

        await port.WriteAsync("hello\r"u8.ToArray(), cts.Token);

        var buffer = new byte[16];
        int n = pty.Read(buffer, Timeout);
        Assert.Equal("hello\r", Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public async Task ReadAsync_Cancelled_ReadEndsWithoutAByteArriving()
    {
        using var pty = PseudoTerminal.Open();
        await using var port = LinuxSerialPort.Open(new SerialPortSettings { Path = pty.SlavePath });
        using var cts = new CancellationTokenSource();
        var read = port.ReadAsync(new byte[16], cts.Token).AsTask();
        await Task.Delay(200);
        Assert.False(read.IsCompleted); // a quiet line is "no data yet", not end of stream

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Timeout));
    }

    [Fact]
    public async Task DisposeAsync_DuringRead_EndsReadWithoutAByteArriving()
    {
        using var pty = PseudoTerminal.Open();
        var port = LinuxSerialPort.Open(new SerialPortSettings { Path = pty.SlavePath });
        var read = port.ReadAsync(new byte[16], CancellationToken.None).AsTask();
        await Task.Delay(150);

        await port.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => read.WaitAsync(Timeout));
    }

    [Fact]
    public async Task ReadAsync_MasterClosed_ThrowsSerialPortGone()
    {
        var pty = PseudoTerminal.Open();
        await using var port = LinuxSerialPort.Open(new SerialPortSettings { Path = pty.SlavePath });
        using var cts = new CancellationTokenSource(Timeout);
        var read = port.ReadAsync(new byte[16], cts.Token).AsTask();
        await Task.Delay(150);

        pty.Dispose(); // "unplug"

        await Assert.ThrowsAsync<SerialPortGoneException>(() => read);
    }

    [Fact]
    public void Open_MissingDevice_ThrowsSerialPortGoneNamingPath()
    {
        var ex = Assert.Throws<SerialPortGoneException>(() => LinuxSerialPort.Open(new SerialPortSettings { Path = "/dev/serial/by-id/usb-nothing-here" }));
        Assert.Contains("/dev/serial/by-id/usb-nothing-here", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_NotATty_ThrowsIOExceptionNamingPath()
    {
        var ex = Assert.Throws<IOException>(() => LinuxSerialPort.Open(new SerialPortSettings { Path = "/dev/null" }));
        Assert.Contains("/dev/null", ex.Message, StringComparison.Ordinal);
        Assert.Contains("TIOCEXCL", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_SymlinkToSlave_Works()
    {
        using var pty = PseudoTerminal.Open();
        string dir = Directory.CreateTempSubdirectory("vitals-by-id").FullName;
        try
        {
            string link = Path.Combine(dir, "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0");
            File.CreateSymbolicLink(link, pty.SlavePath);
            await using var port = LinuxSerialPort.Open(new SerialPortSettings { Path = link });
            Assert.Equal(pty.SlavePath, SerialPortList.Resolve(link));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void List_FakeSysfs_ReturnsRealDevicesWithStableLinks()
    {
        string root = Directory.CreateTempSubdirectory("vitals-sysfs").FullName;
        try
        {
            string sys = Path.Combine(root, "sys", "class", "tty");
            string dev = Path.Combine(root, "dev");
            string devices = Path.Combine(root, "devices");
            Directory.CreateDirectory(sys);
            Directory.CreateDirectory(Path.Combine(dev, "serial", "by-id"));
            Directory.CreateDirectory(Path.Combine(devices, "drivers", "ftdi_sio"));
            Directory.CreateDirectory(Path.Combine(devices, "drivers", "serial8250"));
            Directory.CreateDirectory(Path.Combine(devices, "bus", "usb-serial"));
            Directory.CreateDirectory(Path.Combine(devices, "bus", "platform"));

            MakeTty("ttyUSB0", "ftdi_sio", "usb-serial");
            MakeTty("ttyS5", "serial8250", "platform"); // phantom legacy port
            Directory.CreateDirectory(Path.Combine(sys, "tty0")); // virtual console, no device
            File.WriteAllText(Path.Combine(dev, "ttyUSB0"), string.Empty);
            File.CreateSymbolicLink(Path.Combine(dev, "serial", "by-id", "usb-FTDI_A50285BI-if00-port0"), Path.Combine(dev, "ttyUSB0"));

            var ports = SerialPortList.List(sys, dev);

            var port = Assert.Single(ports);
            Assert.Equal(Path.Combine(dev, "ttyUSB0"), port.Path);
            Assert.Equal("ftdi_sio", port.Driver);
            Assert.EndsWith("usb-FTDI_A50285BI-if00-port0", Assert.Single(port.StablePaths), StringComparison.Ordinal);

            void MakeTty(string name, string driver, string subsystem)
            {
                string device = Path.Combine(sys, name, "device");
                Directory.CreateDirectory(device);
                File.CreateSymbolicLink(Path.Combine(device, "driver"), Path.Combine(devices, "drivers", driver));
                File.CreateSymbolicLink(Path.Combine(device, "subsystem"), Path.Combine(devices, "bus", subsystem));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void List_ThisMachine_DoesNotThrow() => Assert.NotNull(SerialPortList.List());
}
