using System.Text.Json;

namespace Vitals.Gateway.Tests.Feeds;

public sealed class DecodeCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-decode-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static (int Code, List<JsonElement> Lines, string Err) Decode(string protocol, string? map, string file, string zone = "UTC")
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = DecodeCommand.Run(protocol, map, zone, file, output, error);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        return (code, lines, error.ToString());
    }

    [Fact]
    public void Decode_MasimoCapture_PrintsEveryObservationAndExitsZero()
    {
        var (code, lines, err) = Decode("masimo", null, Repo.Capture("masimo-rad8-ascii1.txt"));
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.NotEmpty(lines);
        var first = lines[0];
        Assert.Equal("spo2", first.GetProperty("sign").GetString());
        Assert.Equal("%", first.GetProperty("unit").GetString());
        Assert.Equal("2016-02-22T22:47:45Z", first.GetProperty("time").GetString());
        Assert.Equal("0000056661", first.GetProperty("device").GetString());
        Assert.False(first.TryGetProperty("chair", out _));
        Assert.False(first.TryGetProperty("quality", out _));
    }

    [Fact]
    public void Decode_TimeZone_ConvertsDeviceLocalTimeToUtc()
    {
        var (code, lines, _) = Decode("masimo", null, Repo.Capture("masimo-rad8-ascii1.txt"), "America/New_York");
        Assert.Equal(0, code);
        Assert.Equal("2016-02-23T03:47:45Z", lines[0].GetProperty("time").GetString());
    }

    [Fact]
    public void Decode_LineDeviceWithMap_UsesTheMap()
    {
        var (code, lines, _) = Decode("line", Repo.Capture("nonin-7500.json"), Repo.Capture("nonin-7500.txt"));
        Assert.Equal(0, code);
        Assert.Contains(lines, l => l.GetProperty("sign").GetString() == "pr");
    }

    [Fact]
    public void Decode_Hl7WithChairMap_NamesTheChair()
    {
        var capture = Repo.Capture(Path.Combine("hl7", "nist_pcd_al_ne.hl7"));
        var (plainCode, plain, _) = Decode("hl7", null, capture);
        Assert.Equal(0, plainCode);
        Assert.NotEmpty(plain);
        Assert.All(plain, l => Assert.False(l.TryGetProperty("chair", out _)));

        // Map every message to a chair by its sending application (MSH-3), whatever the capture's bed.
        var app = File.ReadAllText(capture).Split('|')[2].Split('^')[0];
        var map = Path.Combine(dir, "map.json");
        File.WriteAllText(map, $$"""{ "chairRule": "sendingApplication", "map": { "{{app}}": "chair-7" } }""");
        var (code, lines, _) = Decode("hl7", map, capture);
        Assert.Equal(0, code);
        Assert.All(lines, l => Assert.Equal("chair-7", l.GetProperty("chair").GetString()));
    }

    [Fact]
    public void Decode_BadFrames_GoToStderrWithOffsetAndExitThree()
    {
        var file = Path.Combine(dir, "mixed.txt");
        File.WriteAllText(file, "02/22/16 22:47:45 SN=1 SPO2=098% BPM=070 ALARM=0000 EXC=000020\r\nnot a masimo line\r\n");
        var (code, lines, err) = Decode("masimo", null, file);
        Assert.Equal(3, code);
        Assert.Equal(2, lines.Count);
        Assert.Equal("invalid", lines[0].GetProperty("quality").GetString());
        Assert.Contains("bad frame at byte 64:", err, StringComparison.Ordinal);

        var (hl7Code, _, hl7Err) = Decode("hl7", null, Repo.Capture(Path.Combine("hl7", "stream_mixed.mllp")));
        Assert.Equal(3, hl7Code);
        Assert.Contains("bad frame at byte", hl7Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("telepathy", null, "--protocol")]
    [InlineData("line", null, "--map")]
    [InlineData("masimo", null, "FILE")]
    public void Decode_UsageErrors_ExitTwo(string protocol, string? map, string expected)
    {
        var (code, _, err) = Decode(protocol, map, Path.Combine(dir, "missing.txt"));
        Assert.Equal(2, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_DecodeVerb_IsWiredAndValidatesTimeZone()
    {
        var error = new StringWriter();
        var code = await Cli.BuildRoot(error).Parse(["decode", "--protocol", "masimo", "--time-zone", "Mars/Olympus", Repo.Capture("masimo-rad8-ascii1.txt")]).InvokeAsync();
        Assert.Equal(2, code);
        Assert.Contains("--time-zone", error.ToString(), StringComparison.Ordinal);
    }
}
