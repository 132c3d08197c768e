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
