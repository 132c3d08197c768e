using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Serial;
using Vitals.Gateway.Config;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Tests.Feeds;

public sealed class FeedConfigTests
{
    private const string Valid = """
        {
          "site": "north",
          "hl7": { "listen": "127.0.0.1:2575", "chairRule": "equipmentId", "timeZone": "Europe/London", "maxFrameBytes": 65536 },
          "staleSeconds": { "spo2": 20, "temp": 0 },
          "chairs": [
            { "id": "chair-1", "devices": [
              { "id": "oxi-1", "kind": "serial", "codec": "masimo", "port": "/dev/ttyUSB0", "baud": 9600, "dataBits": 8, "parity": "none", "stopBits": 1, "flowControl": "none", "timeZone": "Europe/London" } ] },
            { "id": "chair-2", "devices": [
              { "id": "nonin-2", "kind": "serial", "codec": "line", "port": "/dev/ttyUSB1", "stopBits": 2,
                "lineConfig": { "name": "nonin-7500", "format": "keyValue", "fields": [ { "key": "SPO2", "sign": "spo2", "unit": "%" }, { "key": "HR", "sign": "pr", "unit": "/min" } ] } },
              { "id": "b40-2", "kind": "hl7", "match": "00098C0000112233" } ] }
          ]
        }
        """;

    [Fact]
    public void Parse_SerialAndHl7Devices_ReadsEveryKey()
    {
        var options = ConfigLoader.Parse(Valid, "test.json");
        var oxi = options.Chairs[0].Devices[0];
        Assert.Equal("/dev/ttyUSB0", oxi.ToPortSettings().Path);
        Assert.Equal(2, options.Chairs[1].Devices[0].ToPortSettings().StopBits);
        Assert.Equal(Hl7ChairRule.EquipmentId, options.Hl7!.Rule);
        Assert.Equal("chair-2", options.Hl7ChairMap()["00098c0000112233"]);
        Assert.True(options.HasHl7Listener);
        var stale = new StalePolicy(options.StaleSeconds);
        Assert.Equal(TimeSpan.FromSeconds(20), stale.Thresholds[Sign.Spo2]);
        Assert.False(stale.Thresholds.ContainsKey(Sign.Temp));
    }

    [Theory]
    [InlineData("\"port\": \"/dev/ttyUSB0\"", "\"port\": \"COM3\"", "chairs[0].devices[0].port: 'COM3' is not a device path")]
    [InlineData("\"baud\": 9600", "\"baud\": 300", "chairs[0].devices[0].baud: 300 is out of range")]
    [InlineData("\"baud\": 9600", "\"baud\": 96000000", "chairs[0].devices[0].baud: 96000000 is out of range")]
    [InlineData("\"parity\": \"none\"", "\"parity\": \"mark\"", "chairs[0].devices[0].parity: 'mark' is not a parity")]
    [InlineData("\"flowControl\": \"none\"", "\"flowControl\": \"dtr\"", "chairs[0].devices[0].flowControl: 'dtr'")]
    [InlineData("\"codec\": \"masimo\"", "\"codec\": \"nellcor\"", "chairs[0].devices[0].codec: 'nellcor' is not a serial codec")]
    [InlineData("\"codec\": \"masimo\"", "\"codec\": \"hl7v2\"", "or hl7 (HL7 v2 ORU^R01 in MLLP blocks")]
    [InlineData("\"codec\": \"line\"", "\"codec\": \"hl7\"", "chairs[1].devices[0].lineConfig: only used with codec 'line'")]
    [InlineData("\"timeZone\": \"Europe/London\" }", "\"timeZone\": \"Europe/Nowhere\" }", "chairs[0].devices[0].timeZone: 'Europe/Nowhere'")]
    [InlineData("\"port\": \"/dev/ttyUSB1\"", "\"port\": \"/dev/ttyUSB0\"", "chairs[1].devices[0].port: '/dev/ttyUSB0' is already used by chairs[0].devices[0]")]
    [InlineData("\"match\": \"00098C0000112233\"", "\"match\": \"\"", "chairs[1].devices[1].match: an hl7 device needs")]
    [InlineData("\"chairRule\": \"equipmentId\"", "\"chairRule\": \"room\"", "hl7.chairRule: 'room' is not a chair rule")]
    [InlineData("\"listen\": \"127.0.0.1:2575\"", "\"listen\": \"localhost\"", "hl7.listen: 'localhost' is not address:port")]
    [InlineData("\"maxFrameBytes\": 65536", "\"maxFrameBytes\": 10", "hl7.maxFrameBytes: 10 is out of range")]
    [InlineData("\"maxFrameBytes\": 65536", "\"maxFrameBytes\": 65536, \"ackWriteTimeoutSeconds\": 0", "hl7.ackWriteTimeoutSeconds: 0 is out of range")]
    [InlineData("\"spo2\": 20", "\"spo3\": 20", "staleSeconds.spo3: unknown sign")]
    [InlineData("\"sign\": \"pr\"", "\"sign\": \"pulse\"", "chairs[1].devices[0].lineConfig:")]
    public void Parse_InvalidFeedSetting_NamesTheKeyAndTheFix(string from, string to, string expected)
    {
        var json = Valid.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(Valid, json);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "test.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains("Fix:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parse_Baud250000_OpensAPtyAtThatSpeedAndNamesItsKey()
    {
        // Above the old 230400 cap: the kernel takes it through TCSETS2 + BOTHER and reads it back.
        var options = ConfigLoader.Parse(Valid.Replace("\"baud\": 9600", "\"baud\": 250000", StringComparison.Ordinal), "test.json");
        var settings = options.Chairs[0].Devices[0].ToPortSettings("chairs[0].devices[0]");
        Assert.Equal("chairs[0].devices[0].baud", settings.BaudRateKey);

        using var pty = PseudoTerminal.Open();
        await using var port = LinuxSerialPort.Open(settings with { Path = pty.SlavePath });
        Assert.Equal(250000, port.GetActualBaudRate());
    }

    [Fact]
    public void Parse_SerialDeviceWithHl7Codec_IsValidAndStartsNoListener()
    {
        var json = """
            { "chairs": [ { "id": "chair-5", "devices": [
              { "id": "mon-5", "kind": "serial", "codec": "hl7", "port": "/dev/serial/by-id/usb-FTDI_FT232R_X-if00-port0", "baud": 19200 } ] } ] }
            """;

        var options = ConfigLoader.Parse(json, "test.json");

        var device = options.Chairs[0].Devices[0];
        Assert.Equal(DeviceOptions.Hl7Codec, device.Codec);
        Assert.Equal(19200, device.ToPortSettings().BaudRate);
        Assert.False(options.HasHl7Listener);
        Assert.Empty(options.Hl7ChairMap());
    }

    [Theory]
    [InlineData("\"listen\":", "\"listn\":", "hl7.listn: unknown key. Did you mean 'listen'?")]
    [InlineData("\"baud\":", "\"baudRate\":", "chairs[0].devices[0].baudRate: unknown key")]
    public void Parse_UnknownFeedKey_IsRejected(string from, string to, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid.Replace(from, to, StringComparison.Ordinal), "test.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_LineConfigFilePath_IsRelativeToTheConfigFile()
    {
        var dir = Directory.CreateTempSubdirectory("vitals-config-").FullName;
        try
        {
            File.Copy(Repo.Capture("nonin-7500.json"), Path.Combine(dir, "nonin.json"));
            var json = """{ "chairs": [ { "id": "c1", "devices": [ { "id": "n1", "kind": "serial", "codec": "line", "port": "/dev/ttyS0", "lineConfig": "nonin.json" } ] } ] }""";
            File.WriteAllText(Path.Combine(dir, "vitals.json"), json);
            var options = ConfigLoader.Load(Path.Combine(dir, "vitals.json"));
            Assert.Contains("SPO2", options.LineConfigJson(options.Chairs[0].Devices[0], "x"), StringComparison.Ordinal);

            File.WriteAllText(Path.Combine(dir, "vitals.json"), json.Replace("nonin.json", "missing.json", StringComparison.Ordinal));
            var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Path.Combine(dir, "vitals.json")));
            Assert.Contains("chairs[0].devices[0].lineConfig: cannot read", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void StalePolicy_SignSilentWhileOthersArrive_IsStale_WholeFeedSilent_IsNot()
    {
        var policy = new StalePolicy();
        var now = new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
        var received = new Dictionary<Sign, DateTimeOffset> { [Sign.Hr] = now.AddSeconds(-1), [Sign.Spo2] = now.AddSeconds(-16) };
        Assert.Equal([Sign.Spo2], policy.Evaluate(received, now));
        Assert.Empty(policy.Evaluate(received, now.AddSeconds(30)));
    }
}
