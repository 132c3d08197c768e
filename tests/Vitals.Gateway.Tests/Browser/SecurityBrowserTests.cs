using Microsoft.Playwright;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>The Content-Security-Policy and the login page's own ReturnUrl check, in a real Chromium.</summary>
public class SecurityBrowserTests
{
    [Fact]
    public async Task Pages_UnderTheContentSecurityPolicy_ReportNoViolation()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("bradycardia", 30), TimeSpan.FromMilliseconds(200));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var violations = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                violations.Add($"{page.Url}: {m.Text}");
            }
        };
        await page.GotoAsync(new Uri(host.Address, "login?ReturnUrl=%2Fadmin").ToString());
        await page.FillAsync("#name", "admin");
        await page.FillAsync("#password", GatewayHost.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(new Uri(host.Address, "admin").ToString());
        foreach (var path in new[] { "", "chairs/chair-1", "admin" })
        {
            await page.GotoAsync(new Uri(host.Address, path).ToString());
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new PageWaitForLoadStateOptions { Timeout = 30_000 });
        }

        Assert.Empty(violations);
    }

    [Theory]
    [InlineData("%2F%5Cevil.example%2Fx")]
    [InlineData("%2F%09%2Fevil.example%2Fx")]
    [InlineData("%2F%2Fevil.example%2Fx")]
    [InlineData("https%3A%2F%2Fevil.example%2Fx")]
    public async Task LoginPage_EvenIfServedWithAForeignReturnUrl_StaysOnThisSite(string returnUrl)
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromSeconds(1));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();

        // The server drops such a ReturnUrl itself; serve the page anyway to check the page's own rule.
        var html = await host.Http.GetStringAsync(new Uri("login", UriKind.Relative));
        await page.RouteAsync(url => url.Contains("/login?", StringComparison.Ordinal), route => route.FulfillAsync(new RouteFulfillOptions { Body = html, ContentType = "text/html" }));
        var foreign = new List<string>();
        page.Request += (_, r) =>
        {
            if (r.Url.Contains("evil.example", StringComparison.Ordinal) && !r.Url.Contains("ReturnUrl", StringComparison.Ordinal))
            {
                foreign.Add(r.Url);
            }
        };
        await page.GotoAsync(new Uri(host.Address, "login?ReturnUrl=" + returnUrl).ToString());
        await page.FillAsync("#name", "admin");
        await page.FillAsync("#password", GatewayHost.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(host.Address.ToString());
        Assert.Empty(foreign);
    }
}
