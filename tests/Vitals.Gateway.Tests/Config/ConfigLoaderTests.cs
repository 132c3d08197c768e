using Vitals.Gateway.Config;

namespace Vitals.Gateway.Tests.Config;

public class ConfigLoaderTests
{
    private const string Valid = """
        {
          // comments are allowed
          "site": "north",
          "chairs": [
            { "id": "chair-1", "name": "Chair 1", "devices": [ { "id": "sim-1", "kind": "simulator", "scenario": "hypotension", "seed": 4 } ] },
          ]
        }
        """;

    [Fact]
    public void Parse_ValidFile_BindsEveryValue()
    {
        var options = ConfigLoader.Parse(Valid, "test.json");
        Assert.Equal("north", options.Site);
        Assert.Equal(GatewayOptions.DefaultUrls, options.Urls);
        var device = Assert.Single(Assert.Single(options.Chairs).Devices);
        Assert.Equal("hypotension", device.Scenario);
        Assert.Equal(4, device.Seed);
        Assert.Equal(Vitals.Core.DeviceClockPolicy.Default, options.DeviceClock());
        var tuned = ConfigLoader.Parse(Valid.Replace("\"site\": \"north\"", "\"site\": \"north\", \"clockSkewSeconds\": 5, \"clockMaxAgeHours\": 2", StringComparison.Ordinal), "test.json");
        Assert.Equal(new Vitals.Core.DeviceClockPolicy(TimeSpan.FromSeconds(5), TimeSpan.FromHours(2)), tuned.DeviceClock());
    }

    [Fact]
    public void Parse_MisspeltKey_NamesTheKeyPathAndSuggestsTheRightOne()
    {
        var json = Valid.Replace("\"scenario\"", "\"scenaro\"", StringComparison.Ordinal);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "test.json"));
        Assert.Contains("chairs[0].devices[0].scenaro: unknown key", e.Message, StringComparison.Ordinal);
        Assert.Contains("Did you mean 'scenario'?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownTopLevelKey_ListsTheValidKeys()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""{ "colour": "red", "chairs": [] }""", "x.json"));
        Assert.Contains("colour: unknown key", e.Message, StringComparison.Ordinal);
        Assert.Contains("site, urls, data, loginAttemptsPerMinute, influx, retentionDays, influxLagAlarmSeconds, influxBacklogMaxRows, influxBacklogMaxDays, chairs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WrongValueType_NamesTheKeyAndTheExpectedType()
    {
        var json = Valid.Replace("\"seed\": 4", "\"seed\": \"four\"", StringComparison.Ordinal);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "test.json"));
        Assert.Contains("chairs[0].devices[0].seed", e.Message, StringComparison.Ordinal);
        Assert.Contains("whole number", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"scenario\": \"hypotension\"", "\"scenario\": \"sepsis\"", "chairs[0].devices[0].scenario: unknown scenario 'sepsis'")]
    [InlineData("\"kind\": \"simulator\"", "\"kind\": \"carrier-pigeon\"", "chairs[0].devices[0].kind: 'carrier-pigeon' is not a device kind")]
    [InlineData("\"id\": \"chair-1\"", "\"id\": \"chair 1\"", "chairs[0].id: 'chair 1' is not a valid chair id")]
    [InlineData("\"site\": \"north\"", "\"site\": \"a/b\"", "site: 'a/b' is not a usable site name")]
    [InlineData("\"seed\": 4", "\"seed\": 4, \"timeScale\": 0", "chairs[0].devices[0].timeScale: 0 is out of range")]
    [InlineData("\"site\": \"north\"", "\"site\": \"north\", \"influxBacklogMaxRows\": 10", "influxBacklogMaxRows: 10 is out of range. Fix: use 100 to 10000000000 rows")]
    [InlineData("\"site\": \"north\"", "\"site\": \"north\", \"influxBacklogMaxDays\": 0", "influxBacklogMaxDays: 0 is out of range. Fix: use 0.01 to 3650 days")]
    [InlineData("\"site\": \"north\"", "\"site\": \"north\", \"clockSkewSeconds\": 0", "clockSkewSeconds: 0 is out of range. Fix: use 1 to 86400 seconds (default 30)")]
    [InlineData("\"site\": \"north\"", "\"site\": \"north\", \"clockMaxAgeHours\": -1", "clockMaxAgeHours: -1 is out of range. Fix: use 0.1 to 8760 hours (default 24)")]
    public void Parse_InvalidValue_FailsNamingTheKeyAndTheFix(string from, string to, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid.Replace(from, to, StringComparison.Ordinal), "test.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains("Fix:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateChairIds_Fails()
    {
        var json = """{ "chairs": [ { "id": "a", "devices": [ { "id": "d1" } ] }, { "id": "A", "devices": [ { "id": "d2" } ] } ] }""";
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "test.json"));
        Assert.Contains("chairs[1].id: chair id 'A' is used twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BrokenJson_GivesLineNumber()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("{\n  \"site\": \"x\"\n  \"chairs\": []\n}", "test.json"));
        Assert.Contains("not valid JSON (line 3", e.Message, StringComparison.Ordinal);
    }
}
