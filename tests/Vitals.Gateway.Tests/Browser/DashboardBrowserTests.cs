using Microsoft.Playwright;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>The nurse view in a real Chromium (Debian's, driven by Playwright), against a real demo gateway.</summary>
public class DashboardBrowserTests
{
    /// <summary>Where screenshots are kept as test artifacts: TestResults/screenshots at the repository root (next to the TRX files).</summary>
    public static readonly string Artifacts = BrowserSupport.ScreenshotDirectory();

    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });

    [Fact]
    public async Task Demo_EightChairs_ShowLiveValuesWithin20SecondsAndSafetyLine()
    {
        await using var host = await GatewayHost.StartAsync(GatewayApp.DemoOptions(), GatewayApp.DefaultSimulatorStep);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1920, Height = 1080 } });
        await page.GotoAsync(host.Address.ToString());

        var tiles = page.Locator("article.tile");
        await Assertions.Expect(tiles).ToHaveCountAsync(8, new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator(".feed-state.live")).ToHaveCountAsync(8, new() { Timeout = 20_000 });
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
    public async Task Dashboard_GatewayStops_ShowsConnectionLostWithin5Seconds()
    {
        var options = GatewayHost.OneChair("stable", 1);
        options.Demo = true;
        var host = await GatewayHost.StartAsync(options, TimeSpan.FromMilliseconds(200));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.Address.ToString());
        await Assertions.Expect(page.Locator(".feed-state.live")).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("#connection")).ToBeHiddenAsync();

        await host.DisposeAsync();
        await Assertions.Expect(page.Locator("#connection")).ToBeVisibleAsync(new() { Timeout = 5_000 });
        await Assertions.Expect(page.Locator("#connection")).ToContainTextAsync("NOT live");
    }
}
