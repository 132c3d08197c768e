using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Vitals.Core;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Gateway;
using Vitals.Gateway.Tests;
using Vitals.Gateway.Tests.Browser;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Storage.Tests.Influx;

namespace Vitals.Central.Tests;

/// <summary>The central overview in Chromium: two real gateways (demo chairs) publish through mosquitto; screenshots in TestResults/screenshots.</summary>
public sealed class CentralBrowserTests
{
    private static Task<GatewayHost> StartSiteAsync(string site, int brokerPort, int chairs)
    {
        var options = GatewayApp.DemoOptions(chairs, timeScale: 60);
        options.Site = site;
        options.Mqtt = new MqttOptions { Url = $"mqtt://127.0.0.1:{brokerPort}" };
        return GatewayHost.StartAsync(options, GatewayApp.DefaultSimulatorStep);
    }

    private static async Task LoginAsync(IPage page, CentralHost central, string path)
    {
        await page.GotoAsync(new Uri(central.Address, path).ToString());
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        await page.FillAsync("#name", "admin");
        await page.FillAsync("#password", GatewayHost.AdminPassword);
        await page.ClickAsync("button[type=submit]");
    }

    [Fact]
    public async Task ChairPage_WithInflux_DrawsTrendsOfEachWindow()
    {
        using var influx = new InfluxdServer();
        influx.Start();
        await influx.CreateDatabaseAsync("vitals");
        var now = DateTimeOffset.UtcNow;
        var lines = new StringBuilder();
        for (var i = 0; i < 300; i++)
        {
            var at = (now - TimeSpan.FromSeconds(1500 - (i * 5))).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            lines.Append(CultureInfo.InvariantCulture, $"vitals,site=north,chair=c1,device=sim-1 hr={70 + (15 * Math.Sin(i / 20.0)):0.0},spo2={97 - (i % 3)},nibp_sys={118 - (i / 10)} {at}\n");
        }

        using (var http = new HttpClient())
        {
            using var write = await http.PostAsync(new Uri(influx.BaseUri, "write?db=vitals&precision=ms"), new StringContent(lines.ToString()));
            Assert.True(write.IsSuccessStatusCode);
        }

        await using var broker = await MosquittoBroker.StartAsync();
        await using var central = await CentralHost.StartAsync(broker.Port, signIn: false, influx: influx.Url("vitals"));
        await using var site = new MqttClient(MqttUrl.Parse($"mqtt://127.0.0.1:{broker.Port}") with { ClientId = "emulated-north" });
        await site.ConnectAsync();
        var state = new MqttChairState("north", "c1", "Chair 1", new Dictionary<string, MqttValue> { ["hr"] = new(72, "/min", now, null) }, []);
        await site.PublishAsync("vitals/north/c1/state", JsonSerializer.SerializeToUtf8Bytes(state, TestJson.Options), MqttQualityOfService.AtLeastOnce, retain: true);
        await Eventually.TrueAsync(() => central.Book.Chair("north", "c1") is not null, "north/c1 at central");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        await LoginAsync(page, central, "/sites/north/chairs/c1");

        await Assertions.Expect(page.Locator("#trend-controls")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#history-note")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator(".trend-panel")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator(".trend-panel.hr polyline")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#trend-status")).ToContainTextAsync("5 s each");
        await BrowserSupport.ShotAsync(page, "central-chair-trends-30min");

        await page.ClickAsync("#trend-controls button[data-minutes='480']");
        await Assertions.Expect(page.Locator("#trend-status")).ToContainTextAsync("80 s each");
        await Assertions.Expect(page.Locator("#trend-controls button[data-minutes='480']")).ToHaveAttributeAsync("aria-pressed", "true");
        await Assertions.Expect(page.Locator(".trend-panel.spo2 polyline")).ToHaveCountAsync(1);
        Assert.Empty(await BrowserSupport.SeriousViolationsAsync(page));
    }

    [Fact]
    public async Task Overview_TwoSites_TilesAlarmStripWithSiteNames_OverdueHighlighted_SiteOfflineShowsNotLive()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var central = await CentralHost.StartAsync(broker.Port, unackedSeconds: 10, signIn: false);
        await using var north = await StartSiteAsync("north", broker.Port, chairs: 4);
        var south = await StartSiteAsync("south", broker.Port, chairs: 3);
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1100 } });

            // Same login page and rules as the gateway.
            await LoginAsync(page, central, "/");

            var sites = page.Locator("section.site-group");
            await Assertions.Expect(sites).ToHaveCountAsync(2);
            await Assertions.Expect(sites.Nth(0).Locator(".site-name")).ToHaveTextAsync("north");
            await Assertions.Expect(sites.Nth(1).Locator(".site-name")).ToHaveTextAsync("south");
            await Assertions.Expect(sites.Nth(0).Locator("article.tile")).ToHaveCountAsync(4);
            await Assertions.Expect(sites.Nth(1).Locator("article.tile")).ToHaveCountAsync(3);
            await Assertions.Expect(page.Locator("article.tile .feed-state.live")).ToHaveCountAsync(7);
            await Assertions.Expect(sites.Nth(0).Locator("article.tile .v.hr .num").First).Not.ToHaveTextAsync("--");

            // One strip across sites, every alarm naming its site; the demo's scenarios raise some within a minute.
            var strip = page.Locator("#alarm-list li");
            await Assertions.Expect(strip.First).ToBeVisibleAsync();
            foreach (var text in await strip.AllTextContentsAsync())
            {
                Assert.Matches("^\\W*(north|south) ", text);
            }

            // Unacknowledged at its site beyond central's limit (10 s here): highlighted.
            await Assertions.Expect(page.Locator("#alarm-list li.overdue").First).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#alarm-list li.overdue .overdue-tag").First).ToContainTextAsync("UNACKNOWLEDGED");
            await BrowserSupport.FreezeAnimationsAsync(page, 0.25);
            await BrowserSupport.ShotAsync(page, "central-overview-two-sites");
            Assert.Empty(await BrowserSupport.SeriousViolationsAsync(page));

            // A site's gateway goes away (clean stop: it publishes "offline"): all its tiles NOT LIVE, a technical alarm names it.
            await south.DisposeAsync();
            await Assertions.Expect(sites.Nth(1).Locator("article.tile .feed-state.not-live")).ToHaveCountAsync(3);
            await Assertions.Expect(sites.Nth(0).Locator("article.tile .feed-state.live")).ToHaveCountAsync(4);
            await Assertions.Expect(page.Locator("#alarm-list li", new PageLocatorOptions { HasText = "Site south gateway offline" })).ToHaveCountAsync(1);
            await BrowserSupport.FreezeAnimationsAsync(page, 0.25);
            await BrowserSupport.ShotAsync(page, "central-overview-site-offline");

            // The chair page: values of one chair of one site, and no trends without InfluxDB, said so.
            await sites.Nth(0).Locator("article.tile .chair-link").First.ClickAsync();
            await Assertions.Expect(page.Locator("#title")).ToHaveTextAsync("north \u00B7 Chair 1");
            await Assertions.Expect(page.Locator("#values tr").First).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#history-note")).ToContainTextAsync("Live values only");
            await Assertions.Expect(page.Locator("#state")).ToHaveTextAsync("LIVE");
            await BrowserSupport.ShotAsync(page, "central-chair");
            Assert.Empty(await BrowserSupport.SeriousViolationsAsync(page));
        }
        finally
        {
            await south.DisposeAsync();
        }
    }

    [Fact]
    public async Task StaleSignAndAlarmHistory_TileStrikesTheStaleValue_ChairPageListsTransitionsHeard()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var central = await CentralHost.StartAsync(broker.Port, signIn: false);
        await using var site = new MqttClient(MqttUrl.Parse($"mqtt://127.0.0.1:{broker.Port}") with { ClientId = "emulated-north" });
        await site.ConnectAsync();
        var now = DateTimeOffset.UtcNow;
        byte[] Payload<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TestJson.Options);
        await site.PublishAsync("vitals/north/gateway/status", Payload(new MqttGatewayStatus("online", "north", "test", now)), MqttQualityOfService.AtLeastOnce, retain: true);
        var values = new Dictionary<string, MqttValue> { ["hr"] = new(72, "/min", now, null), ["spo2"] = new(97, "%", now.AddSeconds(-40), null) };
        await site.PublishAsync("vitals/north/c1/state", Payload(new MqttChairState("north", "c1", "Chair 1", values, [], ["spo2"])), MqttQualityOfService.AtLeastOnce, retain: true);
        await Eventually.TrueAsync(() => central.Book.Chair("north", "c1") is not null, "north/c1 at central (subscribed)");
        foreach (var state in new[] { AlarmState.Raised, AlarmState.Cleared })
        {
            var alarm = new MqttAlarmMessage("north", "c1", "spo2.low", Sign.Spo2, AlarmPriority.Medium, AlarmKind.Physiological, state, 88, 90, now, "SpO2 low 88 % (limit 90)", null);
            await site.PublishAsync("vitals/north/c1/alarm", Payload(alarm), MqttQualityOfService.AtLeastOnce);
        }

        await Eventually.TrueAsync(() => central.Book.History("north", "c1").Count == 2, "both transitions at central");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        await LoginAsync(page, central, "/");

        // As on the site's own tiles: the stale value struck through with its age; the fresh one not.
        var tile = page.Locator("article.tile[data-chair='c1']");
        await Assertions.Expect(tile.Locator(".v.spo2")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\bstale\\b"));
        await Assertions.Expect(tile.Locator(".v.spo2 .sub")).ToContainTextAsync("ago");
        await Assertions.Expect(tile.Locator(".v.hr")).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\bstale\\b"));
        await BrowserSupport.ShotAsync(page, "central-overview-stale-sign");

        await tile.Locator(".chair-link").ClickAsync();
        await Assertions.Expect(page.Locator("#history tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#history tr").Nth(0)).ToContainTextAsync("Ended");
        await Assertions.Expect(page.Locator("#history tr").Nth(1)).ToContainTextAsync("Raised");
        await Assertions.Expect(page.Locator("#values tr.stale")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#values tr.stale")).ToContainTextAsync("STALE");
        await BrowserSupport.ShotAsync(page, "central-chair-history");
        Assert.Empty(await BrowserSupport.SeriousViolationsAsync(page));
    }

    [Fact]
    public async Task StreamClosedForFallingBehind_BannerShowsTheReason()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var central = await CentralHost.StartAsync(broker.Port, signIn: false);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();

        // The stream as the hub ends one that fell behind: the snapshot, a closed event with its reason, then the end.
        const string reason = "This display fell more than 2048 events behind the server (test).";
        var body = "event: snapshot\ndata: " + JsonSerializer.Serialize(new { serverTime = DateTimeOffset.UtcNow, unackedSeconds = 120, silentSeconds = 30, history = false, sites = Array.Empty<object>(), alarms = Array.Empty<object>() }, TestJson.Options)
            + "\n\nevent: " + EventHub.ClosedEvent + "\ndata: " + JsonSerializer.Serialize(new StreamClosed(reason), TestJson.Options) + "\n\n";
        await page.RouteAsync("**/api/stream", route => route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = "text/event-stream", Body = body }));
        await LoginAsync(page, central, "/");

        await Assertions.Expect(page.Locator("#connection")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#stream-closed")).ToHaveTextAsync(reason);
        await BrowserSupport.ShotAsync(page, "central-stream-closed");
    }
}
