using Microsoft.Playwright;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>The nurse view in a real Chromium (Debian's, driven by Playwright), against a real demo gateway.</summary>
public class DashboardBrowserTests
{
    /// <summary>Where screenshots are kept as test artifacts: TestResults/screenshots at the repository root (next to the TRX files).</summary>
    public static readonly string Artifacts = BrowserSupport.ScreenshotDirectory();

    /// <summary>Launches Chromium; page assertions wait as long as <see cref="Eventually.DefaultTimeout"/> (Playwright's own 5 s is too short on a busy machine).</summary>
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Assertions.SetDefaultExpectTimeout((float)Eventually.DefaultTimeout.TotalMilliseconds);
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    [Fact]
    public async Task Demo_EightChairs_ShowLiveValuesAndSafetyLine()
    {
        await using var host = await GatewayHost.StartAsync(GatewayApp.DemoOptions(), GatewayApp.DefaultSimulatorStep);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1920, Height = 1080 } });
        await page.GotoAsync(host.Address.ToString());

        var tiles = page.Locator("article.tile");
        await Assertions.Expect(tiles).ToHaveCountAsync(8);
        // Chair 6 plays the feed-loss scenario (silent from 20 s on): on a busy machine the page may first open after that.
        await Assertions.Expect(page.Locator("article.tile:not([data-chair='chair-6']) .feed-state.live")).ToHaveCountAsync(7);
        for (var i = 0; i < 8; i++)
        {
            var hr = await tiles.Nth(i).Locator(".v.hr .num").InnerTextAsync();
            Assert.True(int.TryParse(hr, out var value) && value is > 30 and < 200, $"chair {i + 1} shows HR '{hr}'");
        }

        await Assertions.Expect(page.Locator("footer.safety")).ToContainTextAsync("bedside monitor's own alarms remain primary");
        await Assertions.Expect(page.Locator("#demo-flag")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#connection")).ToBeHiddenAsync();
        Directory.CreateDirectory(Artifacts);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, "nurse-view-demo.png") });

        // The demo view is open, but handling alarms needs a nurse: an anonymous click offers the login page.
        string? prompt = null;
        page.Dialog += async (_, dialog) => { prompt = dialog.Message; await dialog.AcceptAsync(); };
        await page.ClickAsync("#pause-all");
        await page.WaitForURLAsync("**/login?ReturnUrl=*");
        Assert.Contains("nurse login", prompt, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#demo-users")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Dashboard_StreamGoesSilentWhileOpen_ShowsConnectionLost_ThenRecovers_ThenGatewayStops_ShowsItAgain()
    {
        var options = GatewayHost.OneChair("stable", 1);
        options.Demo = true;
        var host = await GatewayHost.StartAsync(options, TimeSpan.FromMilliseconds(200));
        await using var proxy = new FreezableProxy(host.Address);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();

        // Counts the stream's error events, so the test can tell the heartbeat path from the error path.
        await page.AddInitScriptAsync("""
            window.streamErrors = 0;
            const Native = window.EventSource;
            window.EventSource = class extends Native {
              constructor(...args) { super(...args); this.addEventListener('error', () => { window.streamErrors++; }); }
            };
            """);
        await page.GotoAsync(proxy.Address.ToString());
        var banner = page.Locator("#connection");
        await Assertions.Expect(page.Locator(".feed-state.live")).ToHaveCountAsync(1);
        await Assertions.Expect(banner).ToBeHiddenAsync();

        // The stream stays open but nothing arrives: no error event, only the missing 1 s heartbeat can tell.
        proxy.Freeze();
        await Assertions.Expect(banner).ToBeVisibleAsync();
        await Assertions.Expect(banner).ToContainTextAsync("NOT live");
        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.streamErrors")); // the error path never ran
        Assert.True(proxy.OpenConnections > 0);

        proxy.Thaw();
        await Assertions.Expect(banner).ToBeHiddenAsync();

        // The gateway going away closes the stream: the error path shows the same banner.
        await host.DisposeAsync();
        await Assertions.Expect(banner).ToBeVisibleAsync();
        await Assertions.Expect(banner).ToContainTextAsync("NOT live");
    }
}
