namespace Vitals.Gateway.Tests;

public sealed class CliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var err = new StringWriter();
        var oldOut = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            var code = await Cli.BuildRoot(err).Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = err });
            return (code, output.ToString(), err.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
        }
    }

    [Theory]
    [InlineData("demo", "--urls", "--data", "--site", "--chairs", "--time-scale", "--seed")]
    [InlineData("run", "--config", "--urls", "--data", "--site")]
    public async Task Help_EveryVerb_ExplainsEveryOption(string verb, params string[] options)
    {
        var (code, output, _) = await Run(verb, "--help");
        Assert.Equal(0, code);
        foreach (var option in options)
        {
            Assert.Contains(option, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Help_Root_ListsVerbsAndSafetyNote()
    {
        var (code, output, _) = await Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("demo", output, StringComparison.Ordinal);
        Assert.Contains("run", output, StringComparison.Ordinal);
        Assert.Contains("bedside monitor's alarms remain primary", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ConfigWithUnknownKey_ExitsWithMessageNamingKey()
    {
        var path = Path.Combine(dir, "bad.json");
        await File.WriteAllTextAsync(path, """{ "chairs": [ { "id": "c1", "devices": [ { "id": "d", "sead": 3 } ] } ] }""");
        var (code, _, err) = await Run("run", "--config", path, "--data", dir);
        Assert.Equal(2, code);
        Assert.Contains("chairs[0].devices[0].sead: unknown key. Did you mean 'seed'?", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingConfigFile_ExitsWithClearMessage()
    {
        var (code, _, err) = await Run("run", "--config", Path.Combine(dir, "nope.json"));
        Assert.Equal(2, code);
        Assert.Contains("--config: cannot read", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--chairs", "0", "--chairs: 0 is out of range")]
    [InlineData("--time-scale", "-1", "--time-scale: -1 is out of range")]
    [InlineData("--urls", "ftp://x", "urls: 'ftp://x' is not an http(s) URL")]
    [InlineData("--site", "a b", "site: 'a b' is not a usable site name")]
    public async Task Demo_InvalidOption_ExitsNamingIt(string option, string value, string expected)
    {
        var (code, _, err) = await Run("demo", option, value, "--data", dir);
        Assert.Equal(2, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
    }
}
