using Vitals.Storage.Influx;

namespace Vitals.Storage.Tests.Influx;

public sealed class InfluxEndpointTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] vars) =>
        key => vars.FirstOrDefault(v => v.Key == key).Value;

    [Fact]
    public void Parse_V1WithRp_WriteUriHasDbRpAndMsPrecision()
    {
        var e = InfluxEndpoint.Parse("http://127.0.0.1:8086/?db=vitals&rp=week", Env());
        Assert.Equal(InfluxApiVersion.V1, e.Api);
        Assert.Equal("vitals", e.Database);
        Assert.Equal("week", e.RetentionPolicy);
        Assert.Equal("http://127.0.0.1:8086/write?db=vitals&rp=week&precision=ms", e.WriteUri.ToString());
        Assert.Null(e.Username);
    }

    [Fact]
    public void Parse_V2_WriteUriHasOrgBucketAndToken()
    {
        var e = InfluxEndpoint.Parse("https://influx.example:8181/?org=my%20clinic&bucket=vitals", Env((InfluxEndpoint.TokenVariable, "tok-123")));
        Assert.Equal(InfluxApiVersion.V2, e.Api);
        Assert.Equal("my clinic", e.Org);
        Assert.Equal("tok-123", e.Token);
        Assert.Equal("https://influx.example:8181/api/v2/write?org=my%20clinic&bucket=vitals&precision=ms", e.WriteUri.AbsoluteUri);
    }

    [Fact]
    public void Parse_PathPrefix_KeptBeforeWrite()
    {
        var e = InfluxEndpoint.Parse("http://proxy:80/influx?db=v", Env());
        Assert.Equal("http://proxy/influx/write?db=v&precision=ms", e.WriteUri.ToString());
    }

    [Fact]
    public void Parse_CredentialsFromEnvironmentAndOptions_OptionsWin()
    {
        var env = Env((InfluxEndpoint.UsernameVariable, "envuser"), (InfluxEndpoint.PasswordVariable, "envpass"));
        Assert.Equal("envuser", InfluxEndpoint.Parse("http://h:8086/?db=v", env).Username);
        var e = InfluxEndpoint.Parse("http://h:8086/?db=v", env, username: "opt", password: "optpass");
        Assert.Equal("opt", e.Username);
        Assert.Equal("optpass", e.Password);
    }

    [Fact]
    public void ToString_WithSecrets_Redacted()
    {
        var v1 = InfluxEndpoint.Parse("http://h:8086/?db=v", Env((InfluxEndpoint.UsernameVariable, "admin"), (InfluxEndpoint.PasswordVariable, "s3cr3t")));
        var v2 = InfluxEndpoint.Parse("http://h:8086/?org=o&bucket=b", Env((InfluxEndpoint.TokenVariable, "tok-secret")));
        Assert.DoesNotContain("s3cr3t", v1.ToString(), StringComparison.Ordinal);
        Assert.Contains("***", v1.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("tok-secret", v2.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://h:8086/", "names no database")]
    [InlineData("http://h:8086/?org=o", "bucket is missing")]
    [InlineData("http://h:8086/?bucket=b", "org is missing")]
    [InlineData("http://h:8086/?db=x&bucket=b", "both db=")]
    [InlineData("ftp://h/?db=x", "not an http(s) URL")]
    [InlineData("not a url", "not an http(s) URL")]
    [InlineData("", "is empty")]
    [InlineData("http://h:8086/?org=o&bucket=b", InfluxEndpoint.TokenVariable)]
    public void Parse_BadUrl_ClearErrorNamingTheKey(string url, string expected)
    {
        var ex = Assert.Throws<InfluxConfigurationException>(() => InfluxEndpoint.Parse(url, Env()));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OnlyUsername_ErrorNamesPasswordVariable()
    {
        var ex = Assert.Throws<InfluxConfigurationException>(() => InfluxEndpoint.Parse("http://h/?db=v", Env((InfluxEndpoint.UsernameVariable, "u"))));
        Assert.Contains(InfluxEndpoint.PasswordVariable, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://admin:hunter2@h:8086/?db=v")]
    [InlineData("http://h:8086/?db=v&u=admin&p=hunter2")]
    [InlineData("http://h:8086/?org=o&bucket=b&token=hunter2")]
    public void Parse_SecretsInUrl_RejectedWithoutEchoingThem(string url)
    {
        var ex = Assert.Throws<InfluxConfigurationException>(() => InfluxEndpoint.Parse(url, Env()));
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("VITALS_INFLUX_", ex.Message, StringComparison.Ordinal);
    }
}
