using Microsoft.Playwright;
using Vitals.Gateway;
using Vitals.Gateway.Tests;
using Vitals.Gateway.Tests.Browser;
using Vitals.Mqtt.Tests.Broker;

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
            await page.GotoAsync(central.Address.ToString());
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
            await page.FillAsync("#name", "admin");
            await page.FillAsync("#password", GatewayHost.AdminPassword);
            await page.ClickAsync("button[type=submit]");

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
}
