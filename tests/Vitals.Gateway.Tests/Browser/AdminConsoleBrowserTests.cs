using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>The admin console (issue 14 items 9-11, 13) in a real Chromium: limits grid with review, health cards, audit log, axe-core.</summary>
public partial class AdminConsoleBrowserTests
{
    private static readonly ViewportSize Wall = new() { Width = 1920, Height = 1080 };
    private static readonly ViewportSize Tablet = new() { Width = 1024, Height = 768 };

    /// <summary>Presses Tab (no mouse) until the focused element matches <paramref name="selector"/>.</summary>
    private static async Task TabToAsync(IPage page, string selector, bool backwards = false)
    {
        for (var i = 0; i < 400; i++)
        {
            await page.Keyboard.PressAsync(backwards ? "Shift+Tab" : "Tab");
            if (await page.EvaluateAsync<bool>("s => !!document.activeElement && document.activeElement.matches(s)", selector))
            {
                return;
            }
        }

        Assert.Fail($"Tab never reached {selector}");
    }

    private static async Task NoSeriousViolationsAsync(IPage page)
    {
        var violations = await BrowserSupport.SeriousViolationsAsync(page);
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    private static async Task<JsonElement> ProfileValuesAsync(GatewayHost host, string profile)
    {
        var json = await host.Http.GetStringAsync(new Uri("api/admin/config", UriKind.Relative));
        return JsonDocument.Parse(json).RootElement.GetProperty("profiles").EnumerateArray()
            .First(p => p.GetProperty("name").GetString() == profile).GetProperty("values").Clone();
    }

    [Fact]
    public async Task LimitsGrid_KeyboardOnly_ReviewListsOldToNew_RemovalNamesConsequence_ResultsBesideTheRow()
    {
        await using var host = await NurseAdminBrowserTests.StartAsync(NurseAdminBrowserTests.Chairs("stable", 30));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Tablet });
        await NurseAdminBrowserTests.LoginAsync(page, host, "admin", GatewayHost.AdminPassword, "/admin");
        var grid = page.Locator("#profile-grid table.limits-grid");
        await Assertions.Expect(grid.Locator("input[name='hr.high.high']")).ToHaveValueAsync("150");

        // One row per sign with plain names; columns are the bands, delay and clear margin.
        await Assertions.Expect(grid.Locator("th[scope=row]").First).ToHaveTextAsync("Heart rate (/min)");
        await Assertions.Expect(grid.Locator("thead")).ToContainTextAsync("High alarm above");
        await Assertions.Expect(grid.Locator("thead")).ToContainTextAsync("Clear margin");
        await Assertions.Expect(grid.Locator("input[name='hr.high.high']")).ToHaveAttributeAsync("aria-label", "Heart rate, high alarm above (/min)");

        // Keyboard only: raise the HR medium limit, clear the HR high limit, review, confirm.
        await page.Locator("#profile-select").FocusAsync();
        await TabToAsync(page, "#profile-grid input[name='hr.high.medium']");
        await page.Keyboard.PressAsync("Control+A");
        await page.Keyboard.TypeAsync("125");
        await TabToAsync(page, "#profile-grid input[name='hr.high.high']", backwards: true);
        await page.Keyboard.PressAsync("Control+A");
        await page.Keyboard.PressAsync("Backspace");
        await TabToAsync(page, "#profile-grid .review-open");
        await page.Keyboard.PressAsync("Enter");

        var review = page.Locator("#profile-grid .review");
        await Assertions.Expect(review).ToBeVisibleAsync();
        await Assertions.Expect(review).ToContainTextAsync("Heart rate: medium alarm above (/min): 120 /min -> 125 /min");
        await Assertions.Expect(review).ToContainTextAsync("Heart rate: high alarm above (/min): 150 /min -> (not set)");
        await Assertions.Expect(review.Locator(".consequence")).ToHaveTextAsync("This turns off the Heart rate high-priority alarm above 150 /min.");
        await Assertions.Expect(review.Locator(".review-save")).ToBeFocusedAsync();
        var before = await ProfileValuesAsync(host, "default adult");
        Assert.Equal(150, before.GetProperty("hr.high.high").GetDouble()); // nothing saved before the confirmation
        await BrowserSupport.ShotAsync(page, "admin-limits-review-1024x768", fullPage: false);
        await NoSeriousViolationsAsync(page);
        await page.Keyboard.PressAsync("Enter");

        // The result is beside the Heart rate row, and the saved configuration has both changes.
        var hrRow = grid.Locator("tr.sign-row", new() { Has = page.Locator("input[name='hr.high.high']") });
        await Assertions.Expect(hrRow.Locator(".row-result")).ToContainTextAsync("saved", new() { Timeout = 15_000 });
        await Assertions.Expect(hrRow.Locator(".row-result")).ToContainTextAsync("120 -> 125");
        await Assertions.Expect(page.Locator("#msg")).ToBeHiddenAsync();
        var after = await ProfileValuesAsync(host, "default adult");
        Assert.False(after.TryGetProperty("hr.high.high", out _));
        Assert.Equal(125, after.GetProperty("hr.high.medium").GetDouble());
        await Assertions.Expect(page.Locator("#profile-grid .review-open")).ToBeFocusedAsync();

        // A refused change: the message is beside the chair's NIBP systolic row, nothing else changes.
        var chairGrid = page.Locator("#override-grid table.limits-grid");
        await Assertions.Expect(chairGrid.Locator("input[name='nibp_sys.low.medium']")).ToHaveAttributeAsync("placeholder", "90");
        await page.Locator("#chair-select").FocusAsync();
        await TabToAsync(page, "#override-grid input[name='nibp_sys.low.medium']");
        await page.Keyboard.TypeAsync("170");
        await TabToAsync(page, "#override-grid .review-open");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#override-grid .review")).ToContainTextAsync("90 mmHg (profile) -> 170 mmHg");
        await page.Keyboard.PressAsync("Enter");
        var sysRow = chairGrid.Locator("tr.sign-row", new() { Has = page.Locator("input[name='nibp_sys.low.medium']") });
        await Assertions.Expect(sysRow.Locator(".row-result.err")).ToContainTextAsync("not saved", new() { Timeout = 15_000 });
        // The server's message is plain names and units (its key only places it beside the cell), never the raw key.
        await Assertions.Expect(sysRow.Locator(".row-result.err")).ToContainTextAsync(new Regex(@"NIBP systolic: low \(medium\) 170 mmHg must be below high \(medium\) \d+ mmHg"));
        await Assertions.Expect(sysRow.Locator(".row-result.err")).Not.ToContainTextAsync("nibp_sys");
        await Assertions.Expect(chairGrid.Locator("input[name='nibp_sys.low.medium']")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(chairGrid.Locator("input[name='nibp_sys.low.medium']")).ToHaveValueAsync("170"); // kept for correcting
        await sysRow.ScrollIntoViewIfNeededAsync();
        await BrowserSupport.ShotAsync(page, "admin-limits-row-error-1024x768");

        // Engine timing keys in plain words.
        await Assertions.Expect(page.Locator("#timing-rows")).ToContainTextAsync("Raise an unacknowledged medium alarm to high after (s)");
        await Assertions.Expect(page.Locator("#timing-rows")).Not.ToContainTextAsync("escalate_after");
        var signalLost = page.Locator("#timing-rows input[name='signal_lost']");
        await Assertions.Expect(signalLost).ToHaveAttributeAsync("aria-label", "Signal lost (HR, pulse rate, SpO2, RR): alarm after no reading for (s)");
        await Assertions.Expect(signalLost).ToHaveAccessibleDescriptionAsync(new Regex("no usable reading for this long"));
        await Assertions.Expect(page.Locator("#timing-rows input[name='temp_signal_lost']")).ToHaveAttributeAsync("aria-label", "Temperature signal lost: alarm after no reading for (s)");
        await Assertions.Expect(page.Locator("#timing-rows")).ToContainTextAsync("Temperature signal lost: alarm after no reading for (s)");
        await Assertions.Expect(page.Locator("#timing-rows")).Not.ToContainTextAsync("signal_lost");

        // The MgSO4 profile's high-priority delay (rr.delay_high) has a plain column, unit and help under the grid.
        await page.Locator("#profile-select").SelectOptionAsync("MgSO4 infusion");
        await Assertions.Expect(grid.Locator("thead")).ToContainTextAsync("High-priority delay (s)");
        await Assertions.Expect(grid.Locator("input[name='rr.delay_high']")).ToHaveAttributeAsync("aria-label", "Respiration rate, high-priority delay (s)");
        await Assertions.Expect(grid.Locator("input[name='rr.delay_high']")).ToHaveValueAsync("20");
        await Assertions.Expect(page.Locator("#profile-grid .grid-help")).ToContainTextAsync("High-priority delay (s)a shorter delay for values in the high-priority band");
        await page.Locator("#profile-grid .grid-help").ScrollIntoViewIfNeededAsync();
        await BrowserSupport.ShotAsync(page, "admin-limits-delay-high-1024x768");
        await NoSeriousViolationsAsync(page);
        await page.SetViewportSizeAsync(Wall.Width, Wall.Height);
        await page.Locator("#limits").ScrollIntoViewIfNeededAsync();
        await BrowserSupport.ShotAsync(page, "admin-limits-1920x1080");
    }

    [Fact]
    public async Task HealthCards_LastDataAge_InfluxFailingLooksDifferentFromNotConfigured_AutoRefresh_Fits1024()
    {
        // InfluxDB configured at a closed local port: forwarding fails.
        using var closed = new ReservedPort(); // refuses connections, and no one else can listen there meanwhile
        var port = closed.Port;
        var failing = NurseAdminBrowserTests.Chairs("stable", 30);
        failing.Influx = $"http://127.0.0.1:{port}/?db=vitals";
        await using var host = await NurseAdminBrowserTests.StartAsync(failing);
        await using var plain = await NurseAdminBrowserTests.StartAsync(NurseAdminBrowserTests.Chairs("stable", 30));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);

        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Tablet });
        await NurseAdminBrowserTests.LoginAsync(page, plain, "admin", GatewayHost.AdminPassword, "/admin");
        var feed = page.Locator("#health-feeds .health-card").First;
        await Assertions.Expect(feed).ToHaveAttributeAsync("data-state", "ok", new() { Timeout = 20_000 });
        await Assertions.Expect(feed).ToContainTextAsync(LastData());
        await Assertions.Expect(feed.Locator(".health-state")).ToHaveTextAsync("OK");
        var notConfigured = page.Locator("#health-body .health-card", new() { HasText = "InfluxDB" });
        await Assertions.Expect(notConfigured).ToHaveAttributeAsync("data-state", "off");
        await Assertions.Expect(notConfigured).ToContainTextAsync("Not configured");

        // Refreshes by itself: the "Updated" line changes without any click.
        var updated = await page.Locator("#health-updated").TextContentAsync();
        await Assertions.Expect(page.Locator("#health-updated")).Not.ToHaveTextAsync(updated!, new() { Timeout = 20_000 });

        // No raw ISO times with fractions anywhere in the health section, and nothing wider than 1024 px.
        var text = await page.Locator("#health").InnerTextAsync();
        Assert.DoesNotMatch(IsoTime(), text);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "page scrolls sideways at 1024 px");
        Assert.True(await page.EvaluateAsync<bool>("() => [...document.querySelectorAll('.health-card')].every((c) => c.getBoundingClientRect().right <= window.innerWidth)"));
        await page.Locator("#health").ScrollIntoViewIfNeededAsync();
        await BrowserSupport.ShotAsync(page, "admin-health-not-configured-1024x768");
        await NoSeriousViolationsAsync(page);

        var failingPage = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Wall });
        await NurseAdminBrowserTests.LoginAsync(failingPage, host, "admin", GatewayHost.AdminPassword, "/admin");
        var influx = failingPage.Locator("#health-body .health-card", new() { HasText = "InfluxDB" }).First;
        await Assertions.Expect(influx).ToHaveAttributeAsync("data-state", "bad", new() { Timeout = 60_000 });
        await Assertions.Expect(influx.Locator(".health-state")).ToHaveTextAsync("Failing");
        await Assertions.Expect(influx).ToContainTextAsync("Last error");
        Assert.DoesNotMatch(IsoTime(), await failingPage.Locator("#health").InnerTextAsync());
        await failingPage.Locator("#health").ScrollIntoViewIfNeededAsync();
        await BrowserSupport.ShotAsync(failingPage, "admin-health-influx-failing-1920x1080");
    }

    [Fact]
    public async Task AuditLog_DefaultsToPeoplesActions_PlainWords_24HourDates_DropDownFilters_AlarmsOneChoiceAway()
    {
        await using var host = await NurseAdminBrowserTests.StartAsync(NurseAdminBrowserTests.Chairs("hypotension", 20));
        using (var limit = await GatewayHost.SendAsync(host.Http, HttpMethod.Put, "api/admin/chairs/chair-1/overrides/nibp_sys.low.medium", new { value = 150 }))
        {
            limit.EnsureSuccessStatusCode();
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var nurse = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Wall });
        await NurseAdminBrowserTests.LoginAsync(nurse, host, "nurse1", NurseAdminBrowserTests.NursePassword);
        await Assertions.Expect(nurse.Locator(".alarm-list li[data-chair='chair-1']").First).ToBeVisibleAsync(new() { Timeout = 20_000 });

        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Tablet });
        await NurseAdminBrowserTests.LoginAsync(page, host, "admin", GatewayHost.AdminPassword, "/admin");
        var rows = page.Locator("#audit-rows");
        await Assertions.Expect(rows).ToContainTextAsync("Chair 1 override: NIBP systolic: medium alarm below (mmHg) 90 -> 150");
        await Assertions.Expect(rows).ToContainTextAsync("Signed in");
        await Assertions.Expect(rows).Not.ToContainTextAsync("raised"); // alarm transitions are not in the default view
        await Assertions.Expect(page.Locator("#audit-form select[name=type]")).ToHaveValueAsync("people");
        foreach (var when in await page.Locator("#audit-rows td.when").AllTextContentsAsync())
        {
            Assert.Matches(Stamp(), when);
        }

        // Filters are drop-downs of the known users and chairs.
        await Assertions.Expect(page.Locator("#audit-user option")).ToHaveTextAsync(["Everyone", "admin", "nurse1"]);
        await Assertions.Expect(page.Locator("#audit-chair option")).ToHaveTextAsync(["All chairs", "Chair 1", "Chair 2"]);
        await page.SelectOptionAsync("#audit-user", "nurse1");
        await page.ClickAsync("#audit-form button[type=submit]");
        await Assertions.Expect(rows).Not.ToContainTextAsync("NIBP systolic");
        await Assertions.Expect(rows).ToContainTextAsync("Signed in");

        // Alarm transitions are one choice away, in plain words.
        await page.SelectOptionAsync("#audit-user", string.Empty);
        await page.SelectOptionAsync("#audit-form select[name=type]", "alarm");
        await Assertions.Expect(rows).ToContainTextAsync("raised", new() { Timeout = 15_000 });
        await Assertions.Expect(rows).Not.ToContainTextAsync("nibp_sys.low raised");
        await page.Locator("#audit").ScrollIntoViewIfNeededAsync();
        await BrowserSupport.ShotAsync(page, "admin-audit-alarms-1024x768");

        // From/To are typed as 24-hour local times; anything else is named at the field.
        await page.FillAsync("#audit-form input[name=from]", "12/04/2026 2:00 PM");
        await page.ClickAsync("#audit-form button[type=submit]");
        await Assertions.Expect(page.Locator("#err-audit-from")).ToContainTextAsync("YYYY-MM-DD HH:MM");
        await page.FillAsync("#audit-form input[name=from]", "2999-01-01 00:00");
        await page.ClickAsync("#audit-form button[type=submit]");
        await Assertions.Expect(page.Locator("#err-audit-from")).ToBeEmptyAsync();
        await Assertions.Expect(rows).ToContainTextAsync("Nothing recorded for these filters.");
        await NoSeriousViolationsAsync(page);
    }

    [GeneratedRegex(@"Last data\s*\d+ s ago")]
    private static partial Regex LastData();

    [GeneratedRegex(@"\d{2}:\d{2}:\d{2}\.\d+|\d{4}-\d{2}-\d{2}T\d{2}")]
    private static partial Regex IsoTime();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")]
    private static partial Regex Stamp();
}
