using Vitals.Devices.Serial;

namespace Vitals.Devices.Tests.Serial;

public class SerialPortSettingsTests
{
    [Fact]
    public void Validate_Defaults_Are9600N81AndValid()
    {
        var s = new SerialPortSettings { Path = "/dev/ttyUSB0" };
        Assert.Empty(s.Validate());
        Assert.Equal("/dev/ttyUSB0 9600 8N1", s.ToString());
    }

    [Theory]
    [InlineData(1199, 8, 1, "BaudRate")]
    [InlineData(12_000_001, 8, 1, "BaudRate")]
    [InlineData(9600, 6, 1, "DataBits")]
    [InlineData(9600, 8, 3, "StopBits")]
    public void Validate_OutOfRange_NamesTheSetting(int baud, int dataBits, int stopBits, string setting)
    {
        var s = new SerialPortSettings { Path = "/dev/ttyS0", BaudRate = baud, DataBits = dataBits, StopBits = stopBits };
        var error = Assert.Single(s.Validate());
        Assert.StartsWith(setting + ":", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RelativePath_NamesPath()
    {
        var s = new SerialPortSettings { Path = "ttyUSB0" };
        Assert.StartsWith("Path:", Assert.Single(s.Validate()), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(s.EnsureValid);
    }

    [Theory]
    [InlineData(9600, 9600u, true)]
    [InlineData(115200, 115384u, true)]
    [InlineData(9600, 13u, false)]
    [InlineData(9600, 38400u, false)]
    public void SpeedMatches_WithinUartTolerance_Only(int wanted, uint actual, bool expected) =>
        Assert.Equal(expected, LinuxSerialPort.SpeedMatches(wanted, actual));
}
