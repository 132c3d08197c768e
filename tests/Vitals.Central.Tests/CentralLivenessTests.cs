using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Gateway.Tests;
using Vitals.Mqtt.Tests.Broker;
using Xunit.Abstractions;

namespace Vitals.Central.Tests;

/// <summary>Central against a real mosquitto on loopback and real gateways (child processes), as deployed.</summary>
public sealed class CentralLivenessTests(ITestOutputHelper output)
{
    private static bool Live(JsonElement? site) => site is { } s && s.GetProperty("gateway").GetProperty("live").GetBoolean();

    [Fact]
    public async Task GatewayKilled_WillMarksSiteOfflineAtCentral_RestartRecovers()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var central = await CentralHost.StartAsync(broker.Port);
        var gateway = await StartSiteAsync(broker.Port);
        try
        {
            await Eventually.TrueAsync(
                async () => await central.SiteAsync("north") is { } s && Live(s) && s.GetProperty("chairs").GetArrayLength() == 3
                    && s.GetProperty("chairs").EnumerateArray().All(c => c.GetProperty("values").TryGetProperty("hr", out _)),
                "site north live at central with 3 chairs and heart rates");

            // The same chair JSON as the site's own /api/chairs (the demo's read API is open).
            using var siteHttp = new HttpClient { BaseAddress = gateway.Address };
            using var gatewayChairs = JsonDocument.Parse(await siteHttp.GetStringAsync(new Uri("api/chairs", UriKind.Relative)));
            var centralChair = (await central.SiteAsync("north"))!.Value.GetProperty("chairs")[0];
            var gatewayChair = gatewayChairs.RootElement.EnumerateArray().Single(c => c.GetProperty("id").GetString() == centralChair.GetProperty("id").GetString());
            Assert.Equal(gatewayChair.EnumerateObject().Select(p => p.Name), centralChair.EnumerateObject().Select(p => p.Name));
            Assert.Equal(gatewayChair.GetProperty("name").GetString(), centralChair.GetProperty("name").GetString());

            // SIGKILL: the gateway sends no DISCONNECT, so the broker publishes its last will.
            var killed = Stopwatch.StartNew();
            gateway.Kill();
            await Eventually.TrueAsync(() => !central.Book.Site("north", DateTimeOffset.UtcNow)!.Gateway.Live, "site north not live after the kill");
            output.WriteLine($"site offline at central {killed.ElapsedMilliseconds} ms after SIGKILL of its gateway");

            var north = (await central.SiteAsync("north"))!.Value;
            Assert.False(Live(north));
            Assert.Equal("offline", north.GetProperty("gateway").GetProperty("state").GetString());
            var alarm = (await central.GetJsonAsync("api/alarms")).EnumerateArray().Single(a => a.GetProperty("rule").GetString() == SiteBook.OfflineRule);
            Assert.Equal(("north", "high", "technical"), (alarm.GetProperty("site").GetString(), alarm.GetProperty("priority").GetString(), alarm.GetProperty("kind").GetString()));
            Assert.StartsWith("Site north gateway offline", alarm.GetProperty("message").GetString(), StringComparison.Ordinal);

            gateway.Dispose();
            gateway = await StartSiteAsync(broker.Port);
            await Eventually.TrueAsync(async () => Live(await central.SiteAsync("north")), "site north live again after its gateway restarted");
            Assert.DoesNotContain((await central.GetJsonAsync("api/alarms")).EnumerateArray(), a => a.GetProperty("rule").GetString() == SiteBook.OfflineRule);
        }
        finally
        {
            gateway.Dispose();
        }
    }

    /// <summary>A real <c>vitals demo</c> (3 simulated chairs) as site "north" publishing to the broker; SIGKILL-able.</summary>
    private static Task<GatewayProcess> StartSiteAsync(int brokerPort) => GatewayProcess.StartAsync(
        ["demo", "--chairs", "3", "--site", "north", "--mqtt", $"mqtt://127.0.0.1:{brokerPort}", "--data", Directory.CreateTempSubdirectory("vitals-site-").FullName],
        signIn: false);

    [Fact]
    public async Task BrokerLost_EverySiteNotLive_BadPayloadsCountedMeanwhile()
    {
        var broker = await MosquittoBroker.StartAsync();
        try
        {
            await using var central = await CentralHost.StartAsync(broker.Port);
            await using var site = new MqttClient(MqttUrl.Parse($"mqtt://127.0.0.1:{broker.Port}") with { ClientId = "emulated-gateway" });
            await site.ConnectAsync();
            foreach (var name in new[] { "east", "west" })
            {
                await site.PublishAsync($"vitals/{name}/gateway/status", JsonSerializer.SerializeToUtf8Bytes(new MqttGatewayStatus("online", name, "test", DateTimeOffset.UtcNow), TestJson.Options), MqttQualityOfService.AtLeastOnce, retain: true);
                var state = new MqttChairState(name, "c1", "Chair 1", new Dictionary<string, MqttValue> { ["hr"] = new(70, "/min", DateTimeOffset.UtcNow, null) }, []);
                await site.PublishAsync($"vitals/{name}/c1/state", JsonSerializer.SerializeToUtf8Bytes(state, TestJson.Options), MqttQualityOfService.AtMostOnce, retain: true);
            }

            // Malformed and oversized payloads: counted in /api/status, skipped, nothing else lost.
            await site.PublishAsync("vitals/east/c2/state", "{not json"u8.ToArray(), MqttQualityOfService.AtLeastOnce);
            await site.PublishAsync("vitals/east/c3/alarm", new byte[CentralOptions.DefaultMaxPayloadBytes + 1], MqttQualityOfService.AtLeastOnce);
            await site.FlushAsync();
            await Eventually.TrueAsync(async () => (await central.GetJsonAsync("api/sites")).EnumerateArray().Count(s => Live(s)) == 2, "both sites live");
            await Eventually.TrueAsync(
                async () => (await central.GetJsonAsync("api/status")).GetProperty("messages") is var m && m.GetProperty("malformed").GetInt64() == 1 && m.GetProperty("oversized").GetInt64() == 1,
                "one malformed and one oversized message counted");
            Assert.Equal(["c1"], (await central.SiteAsync("east"))!.Value.GetProperty("chairs").EnumerateArray().Select(c => c.GetProperty("id").GetString()));

            await broker.StopAsync();

            await Eventually.TrueAsync(() => central.Book.Sites(DateTimeOffset.UtcNow).All(s => !s.Gateway.Live), "every site not live after central lost the broker");
            var alarms = (await central.GetJsonAsync("api/alarms")).EnumerateArray().ToList();
            Assert.Equal(["east", "west"], alarms.Select(a => a.GetProperty("site").GetString()).Order());
            Assert.All(alarms, a => Assert.Contains("central lost its broker connection", a.GetProperty("message").GetString(), StringComparison.Ordinal));
            Assert.NotEqual("connected", (await central.GetJsonAsync("api/status")).GetProperty("mqtt").GetProperty("state").GetString());

            await broker.RestartAsync();
            await Eventually.TrueAsync(() => central.Book.Sites(DateTimeOffset.UtcNow).All(s => s.Gateway.Live), "sites live again after the broker came back");
        }
        finally
        {
            await broker.DisposeAsync();
        }
    }

    [Fact]
    public async Task Api_WithoutLogin_RefusedAndPagesRedirect_WithTheGatewaysSecurityHeaders()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var central = await CentralHost.StartAsync(broker.Port, signIn: false);
        using var anonymous = central.NewClient();

        using var sites = await anonymous.GetAsync(new Uri("api/sites", UriKind.Relative));
        using var page = await anonymous.GetAsync(new Uri("/", UriKind.Relative));
        using var login = await anonymous.GetAsync(new Uri("login", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, sites.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal(WebSecurity.ContentSecurityPolicy, login.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", login.Headers.GetValues("X-Frame-Options").Single());
    }

    [Theory]
    [InlineData("--mqtt ftp://broker", "mqtt.url")]
    [InlineData("--mqtt mqtt://127.0.0.1:1 --unacked-after 5", "--unacked-after: 5 is out of range")]
    [InlineData("--mqtt mqtt://127.0.0.1:1 --site-silent-after 0", "--site-silent-after: 0 is out of range")]
    [InlineData("--mqtt mqtt://127.0.0.1:1 --topic-prefix a/+/b", "mqtt.topicPrefix")]
    [InlineData("--mqtt mqtt://127.0.0.1:1 --urls ftp://x", "--urls: 'ftp://x'")]
    [InlineData("--mqtt mqtt://127.0.0.1:1 --influx nonsense", "is not an http(s) URL")]
    [InlineData("--mqtt mqtt://127.0.0.1:1 --influx http://127.0.0.1:8086/", "names no database")]
    [InlineData("--mqtt mqtt://127.0.0.1:1 --mqtt-client-id xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "--mqtt-client-id: must be 1-64 printable characters")]
    [InlineData("", "mqtt.url: empty")]
    public async Task Cli_BadSettings_ExitTwoNamingTheOptionAndTheFix(string args, string expected)
    {
        using var error = new StringWriter();

        var code = await Gateway.Cli.RunAsync(["central", .. args.Split(' ', StringSplitOptions.RemoveEmptyEntries)], error);

        Assert.Equal(2, code);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Fix:", error.ToString(), StringComparison.Ordinal);
    }
}
