namespace Vitals.Mqtt.Tests;

public class MqttUrlTests
{
    [Theory]
    [InlineData("mqtt://broker.local", "broker.local", 1883, false)]
    [InlineData("mqtts://broker.local", "broker.local", 8883, true)]
    [InlineData("mqtt://127.0.0.1:11883", "127.0.0.1", 11883, false)]
    [InlineData("mqtts://localhost:9883/", "localhost", 9883, true)]
    [InlineData("mqtt://[::1]:1884", "::1", 1884, false)]
    public void Parse_ValidUrl_GivesHostPortAndTls(string url, string host, int port, bool tls)
    {
        var options = MqttUrl.Parse(url);

        Assert.Equal((host, port, tls), (options.Host, options.Port, options.UseTls));
        Assert.Null(options.Username);
        Assert.Null(options.Password);
    }

    [Fact]
    public void Parse_UserAndPercentEncodedPassword_AreDecoded()
    {
        var options = MqttUrl.Parse("mqtt://gate%40way:p%3Ass@host:1883");

        Assert.Equal("gate@way", options.Username);
        Assert.Equal("p:ss", options.Password);
    }

    [Fact]
    public void Parse_PasswordFromEnvironmentVariable_UsesItsValue()
    {
        var options = MqttUrl.Parse("mqtts://gateway@host", "VITALS_MQTT_PASSWORD", name => name == "VITALS_MQTT_PASSWORD" ? "s3cret" : null);

        Assert.Equal("gateway", options.Username);
        Assert.Equal("s3cret", options.Password);
        Assert.Equal(8883, options.Port);
    }

    [Theory]
    [InlineData("http://host", null, "scheme")]
    [InlineData("host:1883", null, "scheme")]
    [InlineData("not a url", null, "not an MQTT URL")]
    [InlineData("mqtt://host/path", null, "path")]
    [InlineData("mqtt://u:p@host", "PW", "use one")]
    [InlineData("mqtt://host", "PW", "user name")]
    [InlineData("mqtt://u@host", "UNSET", "not set")]
    public void Parse_BadInput_ThrowsFormatExceptionSayingWhy(string url, string? variable, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => MqttUrl.Parse(url, variable, name => name == "PW" ? "x" : null));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadUrlWithPassword_DoesNotEchoPassword()
    {
        var ex = Assert.Throws<FormatException>(() => MqttUrl.Parse("mqtt//user:hunter2@host"));

        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }
}
