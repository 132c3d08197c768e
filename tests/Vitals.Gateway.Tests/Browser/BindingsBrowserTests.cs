using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Vitals.Gateway.Config;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>The admin view's device binding editor in a real Chromium.</summary>
public class BindingsBrowserTests
{
    [Fact]
    public async Task AdminEditsSimulatorScenario_BadValueShownAtTheField_ThenSavedAndAppliedNow()
    {
        var options = new GatewayOptions
        {
            Site = "browser-bindings",
            Chairs =
            [
                new ChairOptions { Id = "chair-1", Name = "Chair 1", Devices = [new DeviceOptions { Id = "sim-1", Scenario = "stable", Seed = 3, TimeScale = 30 }] },
                new ChairOptions { Id = "chair-2", Name = "Chair 2", Devices = [new DeviceOptions { Id = "sim-2", Scenario = "stable", Seed = 4, TimeScale = 30 }] },
            ],
        };
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromMilliseconds(200));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1920, Height = 1080 } });
        await page.GotoAsync(new Uri(host.Address, "login?ReturnUrl=%2Fadmin").ToString());
        await page.FillAsync("#name", "admin");
        await page.FillAsync("#password", GatewayHost.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(new Uri(host.Address, "admin").ToString());

        var chair = page.Locator("fieldset.binding-chair[data-chair='chair-2']");
        await Assertions.Expect(chair).ToContainTextAsync("From the configuration file");
        var scenario = chair.GetByLabel("Chair 2 device 1 Scenario");
        var timeScale = chair.GetByLabel("Chair 2 device 1 Time scale");
        await Assertions.Expect(scenario).ToHaveValueAsync("stable");

        // A bad value: the server's message appears under that field and the field is marked invalid.
        await scenario.SelectOptionAsync("tachycardia");
        await timeScale.FillAsync("0");
        await chair.GetByRole(AriaRole.Button, new() { Name = "Save Chair 2 bindings" }).ClickAsync();
        var error = chair.Locator("[data-path='devices[0].timeScale'] + .field-error");
        await Assertions.Expect(error).ToContainTextAsync("out of range");
        await Assertions.Expect(timeScale).ToHaveAttributeAsync("aria-invalid", "true");
        Directory.CreateDirectory(DashboardBrowserTests.Artifacts);
        await chair.ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(DashboardBrowserTests.Artifacts, "admin-bindings-field-error.png") });
        await Assertions.Expect(chair.Locator(".binding-notice")).ToHaveTextAsync("");

        // Fixed: saved, and the page says it applies now.
        await timeScale.FillAsync("30");
        await chair.GetByRole(AriaRole.Button, new() { Name = "Save Chair 2 bindings" }).ClickAsync();
        await Assertions.Expect(chair.Locator(".binding-notice")).ToContainTextAsync("Applies now");
        await Assertions.Expect(error).ToHaveTextAsync("");
        await Assertions.Expect(chair).ToContainTextAsync("Saved in the admin view");

        var stored = ChairBindings.Load(host.App.Services.GetRequiredService<Vitals.Storage.Sqlite.SqliteStore>(), "chair-2");
        Assert.NotNull(stored);
        Assert.Equal("tachycardia", Assert.Single(stored).Scenario);

        // After a reload the editor shows the saved binding.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("fieldset.binding-chair[data-chair='chair-2']").GetByLabel("Chair 2 device 1 Scenario")).ToHaveValueAsync("tachycardia");
    }
}
