using Vitals.Gateway.Config;

namespace Vitals.Gateway.Tests.Mqtt;

public class MqttConfigTests
{
    private const string Chairs = """ "chairs": [ { "id": "chair-1", "devices": [ { "id": "m", "kind": "mqtt" } ] } ] """;

    private static List<string> Problems(string json)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "vitals.json"));
        return [.. e.Message.Split('\n').Skip(1).Select(l => l.Trim())];
    }

    [Fact]
    public void Parse_FullMqttSectionAndMapping_Binds()
    {
        var options = ConfigLoader.Parse(
            """
            { "site": "s1",
              "mqtt": { "url": "mqtt://127.0.0.1:1883", "topicPrefix": "clinic/vitals", "clientId": "gw-1" },
              "chairs": [ { "id": "chair-1", "devices": [ { "id": "v", "kind": "mqtt",
                 "mapping": { "fields": [ { "field": "HeartRate", "sign": "hr" }, { "field": "bp.sys", "sign": "nibp_sys", "unit": "kPa" } ],
                              "timeField": "ts", "timeFormat": "unix-ms", "deviceField": "serial" } } ] } ] }
            """,
            "vitals.json");

        Assert.Equal("clinic/vitals", options.Mqtt!.TopicPrefix);
        Assert.Equal(MqttOptions.DefaultStateRepublishSeconds, options.Mqtt.StateRepublishSeconds);
        Assert.Equal("gw-1", options.Mqtt.ToClientOptions("s1", _ => null).ClientId);
        Assert.Equal("kPa", options.Chairs[0].Devices[0].Mapping!.Fields[1].Unit);
    }

    [Fact]
    public void Parse_UnknownMqttAndMappingKeys_NamedWithHint()
    {
        var problems = Problems($$"""
            { "mqtt": { "urll": "mqtt://h" },
              "chairs": [ { "id": "c", "devices": [ { "id": "m", "kind": "mqtt", "mapping": { "fields": [ { "feild": "x", "sign": "hr" } ] } } ] } ] }
            """);

        Assert.Contains(problems, p => p.StartsWith("mqtt.urll: unknown key. Did you mean 'url'?", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("chairs[0].devices[0].mapping.fields[0].feild: unknown key. Did you mean 'field'?", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{ "url": "" }""", "mqtt.url: empty")]
    [InlineData("""{ "url": "http://h:1883" }""", "mqtt.url:")]
    [InlineData("""{ "url": "mqtt://h/path" }""", "mqtt.url:")]
    [InlineData("""{ "url": "mqtt://u@h", "passwordEnv": "VITALS_TEST_UNSET_VARIABLE" }""", "mqtt.passwordEnv: environment variable VITALS_TEST_UNSET_VARIABLE is not set")]
    [InlineData("""{ "url": "mqtt://u:p@h", "passwordEnv": "X" }""", "mqtt.passwordEnv: the URL already has a password")]
    [InlineData("""{ "url": "mqtt://h", "caFile": "/etc/hostname" }""", "TLS files need a TLS connection")]
    [InlineData("""{ "url": "mqtts://h", "caFile": "/nonexistent/ca.pem" }""", "mqtt.caFile: file '/nonexistent/ca.pem' does not exist")]
    [InlineData("""{ "url": "mqtts://h", "clientKeyFile": "/etc/hostname" }""", "mqtt.clientKeyFile: a key without a certificate")]
    [InlineData("""{ "url": "mqtt://h", "topicPrefix": "a/+/b" }""", "mqtt.topicPrefix:")]
    [InlineData("""{ "url": "mqtt://h", "topicPrefix": "" }""", "mqtt.topicPrefix:")]
    [InlineData("""{ "url": "mqtt://h", "topicPrefix": "/vitals" }""", "mqtt.topicPrefix:")]
    [InlineData("""{ "url": "mqtt://h", "clientId": "" }""", "mqtt.clientId:")]
    [InlineData("""{ "url": "mqtt://h", "stateRepublishSeconds": -1 }""", "mqtt.stateRepublishSeconds: -1 is out of range")]
    [InlineData("""{ "url": "mqtt://h", "stateRepublishSeconds": 86400 }""", "mqtt.stateRepublishSeconds: 86400 is out of range")]
    public void Parse_BadMqttValue_MessageNamesKeyAndFix(string mqtt, string expected)
    {
        var problems = Problems($$"""{ "mqtt": {{mqtt}}, {{Chairs}} }""");

        var problem = Assert.Single(problems);
        Assert.StartsWith("mqtt.", problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.Contains("Fix:", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UrlWithPassword_NeverEchoesIt()
    {
        var problems = Problems($$"""{ "mqtt": { "url": "ftp://user:s3cret@h" }, {{Chairs}} }""");

        Assert.DoesNotContain(problems, p => p.Contains("s3cret", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_BadMapping_NamesMappingKey()
    {
        var problems = Problems("""
            { "chairs": [ { "id": "c", "devices": [ { "id": "m", "kind": "mqtt", "mapping": { "fields": [ { "field": "x", "sign": "heart" } ], "timeFormat": "%" } } ] } ] }
            """);

        Assert.Contains(problems, p => p.StartsWith("chairs[0].devices[0].mapping.fields[0].sign: unknown sign 'heart'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("chairs[0].devices[0].mapping.timeFormat:", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_MappingOnSimulator_IsRejected()
    {
        var problems = Problems("""{ "chairs": [ { "id": "c", "devices": [ { "id": "s", "mapping": { "fields": [] } } ] } ] }""");

        Assert.Contains(problems, p => p.StartsWith("chairs[0].devices[0].mapping: only mqtt devices", StringComparison.Ordinal));
    }

    [Fact]
    public void ToClientOptions_UserWithoutPassword_ReadsDefaultEnvironmentVariable()
    {
        var options = new MqttOptions { Url = "mqtts://gw@broker.local" }.ToClientOptions("s", n => n == MqttOptions.DefaultPasswordEnv ? "pw" : null);

        Assert.Equal(("gw", "pw", 8883, true), (options.Username, options.Password, options.Port, options.UseTls));
        Assert.StartsWith("vitals-s-", options.ClientId, StringComparison.Ordinal);
        Assert.Equal("mqtts://broker.local:8883", new MqttOptions { Url = "mqtts://gw:pw@broker.local" }.Broker());
    }

    [Fact]
    public void Cli_MqttOptions_OverrideConfigOnDemoAndRun()
    {
        var root = Cli.BuildRoot(TextWriter.Null);
        foreach (var verb in new[] { "demo", "run --config x.json" })
        {
            var parse = root.Parse($"{verb} --mqtt mqtts://h:8884 --mqtt-ca ca.pem --mqtt-cert c.pem --mqtt-key k.pem");
            Assert.Empty(parse.Errors);
            var options = new GatewayOptions { Mqtt = new MqttOptions { Url = "mqtt://old", TopicPrefix = "p" } };
            var cli = new MqttCliOptions();
            var command = new System.CommandLine.Command("x");
            cli.AddTo(command);
            options.Mqtt = cli.Apply(command.Parse("--mqtt mqtts://h:8884 --mqtt-ca ca.pem --mqtt-cert c.pem --mqtt-key k.pem"), options.Mqtt);
            Assert.Equal(("mqtts://h:8884", "ca.pem", "c.pem", "k.pem", "p"), (options.Mqtt!.Url, options.Mqtt.CaFile, options.Mqtt.ClientCertFile, options.Mqtt.ClientKeyFile, options.Mqtt.TopicPrefix));
        }
    }

    [Theory]
    [InlineData("vitals/s1/chair-1/obs", "chair-1")]
    [InlineData("vitals/s1/a/b/obs", null)]
    [InlineData("vitals/s1//obs", null)]
    [InlineData("vitals/s2/chair-1/obs", null)]
    [InlineData("vitals/s1/chair-1/state", null)]
    public void Topics_ChairOf_OnlyObsTopicsOfThisSite(string topic, string? chair) =>
        Assert.Equal(chair, new MqttTopics("vitals", "s1").ChairOf(topic));
}
