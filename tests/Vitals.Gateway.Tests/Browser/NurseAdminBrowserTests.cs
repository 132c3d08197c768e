using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Vitals.Gateway.Config;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>Login, roles, alarm handling and the limit editor in a real Chromium against a real (non-demo) gateway.</summary>
public class NurseAdminBrowserTests
{
    internal const string NursePassword = "nurse-password-1";
    private static readonly ViewportSize Wall = new() { Width = 1920, Height = 1080 };
    private static readonly ViewportSize Tablet = new() { Width = 1024, Height = 768 };

    internal static GatewayOptions Chairs(string firstScenario, double timeScale) => new()
    {
        Site = "browser-test",
        Chairs =
        [
            new ChairOptions { Id = "chair-1", Name = "Chair 1", Devices = [new DeviceOptions { Id = "sim-1", Scenario = firstScenario, Seed = 3, TimeScale = timeScale }] },
            new ChairOptions { Id = "chair-2", Name = "Chair 2", Devices = [new DeviceOptions { Id = "sim-2", Scenario = "stable", Seed = 4, TimeScale = timeScale }] },
        ],
    };

    internal static async Task<GatewayHost> StartAsync(GatewayOptions options)
    {
        // 200 ms monitor seconds: NIBP every 2 s, so limit crossings come within seconds.
        var host = await GatewayHost.StartAsync(options, TimeSpan.FromMilliseconds(200));
        using var created = await GatewayHost.SendAsync(host.Http, HttpMethod.Post, "api/users", new { name = "nurse1", role = "nurse", password = NursePassword });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return host;
    }

    internal static async Task LoginAsync(IPage page, GatewayHost host, string name, string password, string returnTo = "/")
    {
        await page.GotoAsync(new Uri(host.Address, "login?ReturnUrl=" + Uri.EscapeDataString(returnTo)).ToString());
        await page.FillAsync("#name", name);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(new Uri(host.Address, returnTo.TrimStart('/')).ToString());
    }

    private static Task ShotAsync(IPage page, string name, bool fullPage = false) => BrowserSupport.ShotAsync(page, name, fullPage);

    [Fact]
    public async Task Login_Logout_AndRoles_NurseGets403OnAdmin_AdminViewRenders()
    {
        await using var host = await StartAsync(Chairs("stable", 30));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Wall });

        // Outside demo mode the nurse view needs a login.
        await page.GotoAsync(host.Address.ToString());
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#name", "nurse1");
        await page.FillAsync("#password", "wrong-password");
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("Wrong user name or password");

        await LoginAsync(page, host, "nurse1", NursePassword);
        await Assertions.Expect(page.Locator("#who")).ToHaveTextAsync("nurse1 (nurse)");
        await Assertions.Expect(page.Locator("#admin-link")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("article.tile")).ToHaveCountAsync(2);

        var admin = await page.GotoAsync(new Uri(host.Address, "admin").ToString());
        Assert.Equal(403, admin!.Status);
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("403");

        await page.GotoAsync(host.Address.ToString());
        var logoutResponse = page.WaitForResponseAsync(r => r.Url.EndsWith("/api/auth/logout", StringComparison.Ordinal));
        await page.ClickAsync("#logout");
        var logout = await logoutResponse;
        Assert.True(logout.Status == 204, $"logout answered {logout.Status}");
        await page.WaitForURLAsync("**/login");
        await page.GotoAsync(host.Address.ToString());
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);

        await LoginAsync(page, host, "admin", GatewayHost.AdminPassword, "/admin");
        await Assertions.Expect(page.Locator("#profile-grid input[name='hr.low.medium']")).ToHaveValueAsync("50");
        await Assertions.Expect(page.Locator("#binding-editors fieldset.binding-chair")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#user-rows tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#health-feeds")).ToContainTextAsync("sim-1");
        await Assertions.Expect(page.Locator("#audit-rows tr").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("footer.safety")).ToContainTextAsync("bedside monitor's own alarms remain primary");
        await ShotAsync(page, "admin-view-1920x1080");
        await ShotAsync(page, "admin-view-full-page", fullPage: true);
        await page.SetViewportSizeAsync(Tablet.Width, Tablet.Height);
        await ShotAsync(page, "admin-view-1024x768");
    }

    [Fact]
    public async Task Alarm_RaisedIsShown_AcknowledgeInUi_ChangesStateAndIsAudited_ChairPage()
    {
        await using var host = await StartAsync(Chairs("hypotension", 20));

        // The scenario's systolic hovers around 90 and can clear between readings; a limit of 100 keeps the alarm standing.
        using (var limit = await GatewayHost.SendAsync(host.Http, HttpMethod.Put, "api/admin/chairs/chair-1/overrides/nibp_sys.low.medium", new { value = 100 }))
        {
            Assert.Equal(HttpStatusCode.OK, limit.StatusCode);
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Wall });
        await LoginAsync(page, host, "nurse1", NursePassword);
        await Assertions.Expect(page.Locator(".feed-state.live")).ToHaveCountAsync(2);

        // Shown once the engine has raised it (how fast is the load command's figure, not a test's budget).
        const string Item = ".alarm-list li[data-chair='chair-1'][data-rule='nibp_sys.low']";
        await Assertions.Expect(page.Locator(Item)).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        await Eventually.TrueAsync(() => HasEventAsync(host, "nibp_sys.low", "raised"), "the raised nibp_sys.low event in the event log");

        var tile = page.Locator("article.tile[data-chair='chair-1']");
        await Assertions.Expect(tile).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("alarm-(medium|high)"));
        await Assertions.Expect(tile.Locator(".alarm-strip")).ToContainTextAsync("NIBP");
        await ShotAsync(page, "nurse-view-alarm-1920x1080");

        // Keyboard operable: focus the acknowledge button and press Enter.
        await page.Locator($"{Item} button.ack").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator(Item)).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("silenced"));
        await Assertions.Expect(page.Locator($"{Item} button.ack")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#action-msg")).ToContainTextAsync("acknowledged");
        var audit = await host.Http.GetStringAsync(new Uri("api/admin/audit?type=audit&chair=chair-1&user=nurse1", UriKind.Relative));
        Assert.Contains("alarm.acknowledged: nibp_sys.low", audit, StringComparison.Ordinal);

        // Pause: a visible countdown.
        await tile.Locator("button.pause").ClickAsync();
        await Assertions.Expect(tile.Locator(".pause-state")).ToContainTextAsync("AUDIO PAUSED 1:5");
        await page.SetViewportSizeAsync(Tablet.Width, Tablet.Height);
        await ShotAsync(page, "nurse-view-alarm-1024x768");

        // Chair page: trends, alarm history, session with a magnesium warning; a name is refused at the field.
        await page.SetViewportSizeAsync(Wall.Width, Wall.Height);
        await page.GotoAsync(new Uri(host.Address, "chairs/chair-1").ToString());
        await Assertions.Expect(page.Locator("#chair-title")).ToHaveTextAsync("Chair 1");
        await Assertions.Expect(page.Locator("#chart-nibp canvas")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#history tr").First).ToBeVisibleAsync();
        await page.FillAsync("input[name=patientPseudonym]", "Jane Doe");
        await page.FillAsync("input[name=drug]", "magnesium sulfate");
        await page.FillAsync("input[name=rateGramsPerHour]", "4");
        await page.ClickAsync("#session-form button[type=submit]");
        await Assertions.Expect(page.Locator("#err-patientPseudonym")).ToContainTextAsync("never a name");
        await page.FillAsync("input[name=patientPseudonym]", "P-4471");
        await page.ClickAsync("#session-form button[type=submit]");
        await Assertions.Expect(page.Locator("#session-kv")).ToContainTextAsync("P-4471");
        await Assertions.Expect(page.Locator("#mg-warnings")).ToContainTextAsync("exceeds the configured maximum 3 g/h");
        await Assertions.Expect(page.Locator("#checks li")).ToHaveCountAsync(3);
        await page.ClickAsync(".range button[data-minutes='120']");
        await Assertions.Expect(page.Locator(".range button[data-minutes='120']")).ToHaveAttributeAsync("aria-pressed", "true");
        await ShotAsync(page, "chair-page-1920x1080");
        await page.SetViewportSizeAsync(Tablet.Width, Tablet.Height);
        await ShotAsync(page, "chair-page-1024x768");
    }

    [Fact]
    public async Task AdminView_LimitEditor_ShowsFieldError_ThenRaisedLimitMakesStableChairAlarm()
    {
        await using var host = await StartAsync(Chairs("stable", 30));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Wall });
        await LoginAsync(page, host, "admin", GatewayHost.AdminPassword, "/admin");
        await Assertions.Expect(page.Locator("#chair-select option")).ToHaveCountAsync(2);
        await page.SelectOptionAsync("#chair-select", "chair-1");

        // 170 would put the low limit above the high one: refused, with the message beside the row.
        var cell = page.Locator("#override-grid input[name='nibp_sys.low.medium']");
        var result = page.Locator("#override-grid tr.sign-row", new() { Has = page.Locator("input[name='nibp_sys.low.medium']") }).Locator(".row-result");
        await cell.FillAsync("170");
        await page.ClickAsync("#override-grid .review-open");
        await page.ClickAsync("#override-grid .review-save");
        await Assertions.Expect(result).ToContainTextAsync("NIBP systolic: low (medium) 170 mmHg must be below high (medium) 160 mmHg");
        await Assertions.Expect(page.Locator("#override-note")).ToContainTextAsync("No overrides");

        // A stable chair (systolic ~120) alarms once its low limit is raised to 150.
        await cell.FillAsync("150");
        await page.ClickAsync("#override-grid .review-open");
        await page.ClickAsync("#override-grid .review-save");
        await Assertions.Expect(cell).ToHaveValueAsync("150");
        await Assertions.Expect(cell).ToHaveAttributeAsync("aria-label", "NIBP systolic, medium alarm below (mmHg)");
        await Assertions.Expect(result).ToContainTextAsync("90 -> 150, saved");

        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = Wall });
        var nurse = await context.NewPageAsync();
        await LoginAsync(nurse, host, "nurse1", NursePassword);
        await nurse.GotoAsync(host.Address.ToString());
        await Assertions.Expect(nurse.Locator(".alarm-list li[data-chair='chair-1'][data-rule='nibp_sys.low']")).ToHaveCountAsync(1);
        await Assertions.Expect(nurse.Locator(".alarm-list li[data-chair='chair-2']")).ToHaveCountAsync(0);

        // The change is in the audit log shown on the admin page.
        await page.SelectOptionAsync("#audit-form select[name=type]", "alarm-config");
        await Assertions.Expect(page.Locator("#audit-rows")).ToContainTextAsync("Chair 1 override: NIBP systolic: medium alarm below (mmHg) 90 -> 150");
    }

    private static async Task<bool> HasEventAsync(GatewayHost host, string rule, string state)
    {
        var json = await host.Http.GetStringAsync(new Uri("api/events?type=alarm&chair=chair-1&limit=1000", UriKind.Relative));
        return JsonDocument.Parse(json).RootElement.EnumerateArray()
            .Select(e => JsonDocument.Parse(e.GetProperty("data").GetString()!).RootElement)
            .Any(data => data.GetProperty("rule").GetString() == rule && data.GetProperty("state").GetString() == state);
    }
}
