using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>
/// The nurse overview and chair page as a nurse sees them, in a real Chromium against a real gateway: one screen,
/// alarming values, words instead of rule ids, a lost connection, trends, pause state, navigation and axe-core.
/// </summary>
public partial class NurseScreenBrowserTests(ITestOutputHelper output)
{
    private static readonly ViewportSize Wall = new() { Width = 1920, Height = 1080 };
    private static readonly ViewportSize Tablet = new() { Width = 1024, Height = 768 };

    /// <summary>
    /// For every tile: inside the viewport, between the alarm strip and the safety footer, with its name, state badge
    /// and alarm line drawn inside it. Returns what is wrong, one line per problem.
    /// </summary>
    private const string TileProblems = """
        () => {
          const problems = [];
          const footer = document.querySelector('footer.safety').getBoundingClientRect();
          const banner = document.getElementById('banner');
          const top = banner.hidden ? 0 : banner.getBoundingClientRect().bottom;
          if (document.documentElement.scrollHeight > innerHeight + 1) problems.push(`page scrolls: ${document.documentElement.scrollHeight} > ${innerHeight}`);
          if (footer.bottom > innerHeight + 1 || footer.height === 0) problems.push('safety notice not fully visible');
          for (const tile of document.querySelectorAll('article.tile')) {
            const t = tile.getBoundingClientRect();
            const name = tile.dataset.chair;
            if (t.top < top - 1 || t.left < 0 || t.right > innerWidth + 1 || t.bottom > footer.top + 1) problems.push(`${name}: tile ${Math.round(t.top)}-${Math.round(t.bottom)} not between ${Math.round(top)} and ${Math.round(footer.top)}`);
            for (const sel of ['.chair-name', '.feed-state', '.alarm-strip']) {
              const e = tile.querySelector(sel).getBoundingClientRect();
              if (e.width === 0 || e.height === 0 || e.top < t.top - 1 || e.bottom > t.bottom + 1 || e.right > t.right + 1) problems.push(`${name}: ${sel} not fully inside its tile`);
            }
          }
          return problems;
        }
        """;

    [Fact]
    public async Task Overview_Demo_AllChairsOnOneScreen_StripHidesNoAlarm_ValuesInverted_WordsNotIds_Accessible()
    {
        await using var host = await GatewayHost.StartAsync(GatewayApp.DemoOptions(), GatewayApp.DefaultSimulatorStep);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Wall });
        var missing = new List<string>();
        page.Response += (_, r) => { if (r.Status == 404) missing.Add(r.Url); };
        await page.GotoAsync(host.Address.ToString());
        await Assertions.Expect(page.Locator("article.tile")).ToHaveCountAsync(8, new() { Timeout = 20_000 });

        // The demo raises alarms at several chairs within its first minute or so; wait for most of them.
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#all-alarm-list li').length >= 6", null, new() { Timeout = 120_000 });
        await Assertions.Expect(page.Locator(".v.out-high .num, .v.out-medium .num").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await BrowserSupport.ShotAsync(page, "overview-demo-1920x1080");
        await AssertEverythingOnOneScreenAsync(page, "1920x1080");
        await Assertions.Expect(page.Locator("article.tile .legend").First).ToContainTextAsync("HR /min");
        await Assertions.Expect(page.Locator("article.tile .legend").First).ToContainTextAsync("NIBP sys mmHg");
        await Assertions.Expect(page.Locator("article.tile .legend").First).ToContainTextAsync("%");

        // The "+N more" list holds every alarm, with its button.
        if (await page.Locator("#more-alarms").IsVisibleAsync())
        {
            await page.Locator("#more-alarms").ClickAsync();
            await Assertions.Expect(page.Locator("#all-alarms")).ToBeVisibleAsync();
            var listed = await page.Locator("#all-alarm-list li").CountAsync();
            Assert.Equal(listed, await page.Locator("#all-alarm-list li:visible").CountAsync());
            await BrowserSupport.ShotAsync(page, "overview-demo-all-alarms");
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(page.Locator("#all-alarms")).ToBeHiddenAsync();
        }

        // Words, not rule ids; each alarm states its state once.
        var text = await page.Locator("body").InnerTextAsync();
        Assert.DoesNotMatch(RuleId(), text);
        Assert.DoesNotContain("(ESCALATED)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("unacknowledged for", text, StringComparison.Ordinal);
        foreach (var item in await page.Locator("#all-alarm-list li .text").AllInnerTextsAsync())
        {
            Assert.True(StateLabel().Matches(item).Count <= 1, $"more than one state label: {item}");
        }

        // Alarming values are large and inverted onto the priority colour; text stays >= 4.5:1 in both flash phases.
        await BrowserSupport.FreezeAnimationsAsync(page, 0.25);
        var inverted = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('.v.out-high .num, .v.out-medium .num')].map((n) => {
              const s = getComputedStyle(n);
              return `${n.closest('.v').className}|${s.backgroundColor}|${parseFloat(s.fontSize)}`;
            })
            """);
        Assert.NotEmpty(inverted);
        foreach (var value in inverted)
        {
            var parts = value.Split('|');
            var expected = parts[0].Contains("out-high", StringComparison.Ordinal) ? "rgb(224, 32, 42)" : "rgb(242, 194, 0)";
            Assert.True(parts[1] == expected, $"{parts[0]}: background {parts[1]}, expected {expected}");
            Assert.True(double.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) >= 40, $"{parts[0]}: font {parts[2]} px");
        }

        Assert.Empty(await BrowserSupport.ContrastBelowAsync(page, 4.5));
        Assert.Empty(await BrowserSupport.SeriousViolationsAsync(page));
        await BrowserSupport.FreezeAnimationsAsync(page, 0.75);
        await BrowserSupport.ShotAsync(page, "overview-demo-flash-dark-phase");
        Assert.Empty(await BrowserSupport.ContrastBelowAsync(page, 4.5));

        // In between, tiles keep their trend only where it has room to be read: at 1600x1000 it was ~35 px high, its
        // value labels drawn over each other.
        foreach (var (width, height) in new[] { (1600, 1000), (1680, 1050), (1920, 1080) })
        {
            await page.SetViewportSizeAsync(width, height);
            await page.WaitForTimeoutAsync(500); // one layout pass after the resize
            await BrowserSupport.ShotAsync(page, $"overview-demo-{width}x{height}");
            var cramped = await page.EvaluateAsync<string[]>(
                """
                () => [...document.querySelectorAll('article.tile')].flatMap(tile => {
                  const box = tile.querySelector('.trend-box'), trend = tile.querySelector('.trend');
                  const shown = getComputedStyle(box).display !== 'none' && getComputedStyle(trend).visibility !== 'hidden';
                  const squeezed = shown && trend.clientHeight < 70 ? [`${tile.dataset.chair}: trend ${trend.clientHeight} px high`] : [];
                  // A value's number and unit stay inside its own cell (an alarming "135 /min" ran into SpO2's "98").
                  const spill = [...tile.querySelectorAll('.v')].flatMap(v => {
                    const cell = v.getBoundingClientRect();
                    return [...v.querySelectorAll('.num, .unit')].filter(e => e.getBoundingClientRect().right > cell.right + 1)
                      .map(e => `${tile.dataset.chair}: ${v.classList[1]} ${e.className} "${e.textContent}" ends at ${Math.round(e.getBoundingClientRect().right)}, its cell at ${Math.round(cell.right)}`);
                  });
                  return [...squeezed, ...spill];
                })
                """);
            Assert.True(cramped.Length == 0, $"{width}x{height}: {string.Join("; ", cramped)}");
        }

        await page.SetViewportSizeAsync(Tablet.Width, Tablet.Height);
        await page.WaitForTimeoutAsync(500); // one layout pass after the resize
        await BrowserSupport.ShotAsync(page, "overview-demo-1024x768");
        await AssertEverythingOnOneScreenAsync(page, "1024x768");
        Assert.Empty(missing);
    }

    [Fact]
    public async Task AlarmStrip_AtEveryWidth_NoAlarmCountedAsShownIsCutOff()
    {
        await using var host = await GatewayHost.StartAsync(GatewayApp.DemoOptions(), GatewayApp.DefaultSimulatorStep);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Wall });
        await page.GotoAsync(host.Address.ToString());
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#all-alarm-list li').length >= 6", null, new() { Timeout = 120_000 });

        // The strip is fitted again on every resize. Starting each fit with "+N more" hidden (as after a moment with
        // few alarms) is when an alarm that fitted only beside the absent button was counted as shown, then pushed into
        // a row the strip cuts off: a high alarm showed as a 7 px sliver at 1920x1080 while "+N more" left it out.
        var problems = new List<string>();
        for (var width = 1000; width <= 1920; width += 8)
        {
            await page.SetViewportSizeAsync(width, 1080);
            problems.AddRange(await page.EvaluateAsync<string[]>("""
                () => {
                  document.getElementById('more-alarms').hidden = true;
                  window.dispatchEvent(new Event('resize'));
                  const list = document.getElementById('alarm-list').getBoundingClientRect();
                  const more = document.getElementById('more-alarms');
                  const shown = [...document.querySelectorAll('#alarm-list li:not([hidden])')];
                  const hidden = more.hidden ? 0 : parseInt(more.textContent.replace(/\D/g, ''), 10);
                  const total = document.querySelectorAll('#alarm-list li').length;
                  return [
                    ...shown.filter((li) => li.getBoundingClientRect().bottom > list.bottom + 1)
                      .map((li) => `${innerWidth} px: "${li.textContent.slice(0, 50)}" counted as shown, ${Math.round(li.getBoundingClientRect().bottom - list.bottom)} px below the strip`),
                    ...(shown.length + hidden === total ? [] : [`${innerWidth} px: ${shown.length} shown + ${hidden} more of ${total}`]),
                  ];
                }
                """));
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public async Task Overview_SixteenChairs_At1920_AllFullyVisible()
    {
        await using var host = await GatewayHost.StartAsync(GatewayApp.DemoOptions(16), GatewayApp.DefaultSimulatorStep);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Wall });
        await page.GotoAsync(host.Address.ToString());
        await Assertions.Expect(page.Locator(".feed-state.live")).ToHaveCountAsync(16, new() { Timeout = 30_000 });
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#all-alarm-list li').length >= 3", null, new() { Timeout = 120_000 });
        await BrowserSupport.ShotAsync(page, "overview-16-chairs-1920x1080");
        await AssertEverythingOnOneScreenAsync(page, "16 chairs at 1920x1080");
    }

    [Fact]
    public async Task GatewayStops_EveryTileNotLive_ActionsDisabled_OwnTone_ReloadRetriesItself_WallRecoversUntouched()
    {
        var host = await GatewayHost.StartAsync(GatewayApp.DemoOptions(4), GatewayApp.DefaultSimulatorStep);
        var (port, dataDir) = (host.Address.Port, host.DataDir);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = Wall });
        var wall = await context.NewPageAsync();
        var reloaded = await context.NewPageAsync();
        foreach (var page in new[] { wall, reloaded })
        {
            await page.GotoAsync(host.Address.ToString());
            await Assertions.Expect(page.Locator(".feed-state.live, .feed-state.lost")).ToHaveCountAsync(4, new() { Timeout = 20_000 });
            await page.WaitForFunctionAsync("() => navigator.serviceWorker.controller !== null", null, new() { Timeout = 20_000 });
        }

        await Assertions.Expect(wall.Locator("#alarm-list button.ack").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await wall.Locator("#sound-toggle").ClickAsync();
        await Assertions.Expect(wall.Locator("#sound-toggle")).ToHaveAttributeAsync("aria-pressed", "true");

        var stopped = Stopwatch.StartNew();
        await host.DisposeAsync();
        await Assertions.Expect(wall.Locator(".feed-state.not-live")).ToHaveCountAsync(4, new() { Timeout = 10_000 });
        output.WriteLine($"every tile NOT LIVE {stopped.ElapsedMilliseconds} ms after the gateway began stopping");
        await Assertions.Expect(wall.Locator("#connection")).ToBeVisibleAsync();
        Assert.True(
            await wall.EvaluateAsync<bool>("() => { const b = [...document.querySelectorAll('button.act')]; return b.length > 0 && b.every((x) => x.disabled); }"),
            "an action button is still enabled while not live");
        var colours = await wall.EvaluateAsync<string[]>("() => [...document.querySelectorAll('article.tile .v .num')].map((n) => getComputedStyle(n).color)");
        Assert.All(colours, c => Assert.Equal("rgb(138, 150, 163)", c));
        var flashing = await wall.EvaluateAsync<int>("() => document.getAnimations().filter((a) => a.playState === 'running').length");
        Assert.Equal(0, flashing);
        await wall.WaitForFunctionAsync("() => document.documentElement.dataset.tone === 'lost'", null, new() { Timeout = 10_000 });
        await BrowserSupport.ShotAsync(wall, "connection-lost-1920x1080");

        // A reload while the gateway is down: the cached offline page, which keeps trying by itself.
        await reloaded.ReloadAsync();
        await Assertions.Expect(reloaded.Locator("h1")).ToHaveTextAsync("Vitals gateway not reachable");
        await Assertions.Expect(reloaded.Locator("#attempt")).ToContainTextAsync("attempt", new() { Timeout = 10_000 });
        await BrowserSupport.ShotAsync(reloaded, "offline-page-1920x1080");

        await using var again = await GatewayHost.StartAsync(GatewayApp.DemoOptions(4), GatewayApp.DefaultSimulatorStep, dataDir, port: port);
        await Assertions.Expect(reloaded.Locator("article.tile")).ToHaveCountAsync(4, new() { Timeout = 30_000 });
        await Assertions.Expect(reloaded.Locator(".feed-state.not-live")).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        await Assertions.Expect(wall.Locator("#connection")).ToBeHiddenAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(wall.Locator(".feed-state.not-live")).ToHaveCountAsync(0);
        await Assertions.Expect(wall.Locator(".feed-state.live")).Not.ToHaveCountAsync(0, new() { Timeout = 20_000 });
        await BrowserSupport.ShotAsync(wall, "connection-recovered-1920x1080");
    }

    [Fact]
    public async Task KeyboardOnly_AcknowledgeAndPauseAll_PauseSurvivesReload_ChairPageWordsTrendsNavigation_Accessible()
    {
        await using var host = await NurseAdminBrowserTests.StartAsync(NurseAdminBrowserTests.Chairs("hypotension", 20));
        using (var limit = await GatewayHost.SendAsync(host.Http, HttpMethod.Put, "api/admin/chairs/chair-1/overrides/nibp_sys.low.medium", new { value = 100 }))
        {
            Assert.Equal(HttpStatusCode.OK, limit.StatusCode);
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = Wall });

        // The login page: navigation back, accessible before anyone signs in.
        await page.GotoAsync(new Uri(host.Address, "login").ToString());
        await Assertions.Expect(page.Locator("a.nav-back")).ToBeVisibleAsync();
        Assert.Empty(await BrowserSupport.SeriousViolationsAsync(page));
        Assert.Empty(await BrowserSupport.ContrastBelowAsync(page, 4.5));
        await BrowserSupport.ShotAsync(page, "login-1920x1080");

        await NurseAdminBrowserTests.LoginAsync(page, host, "nurse1", NurseAdminBrowserTests.NursePassword);
        const string Item = ".alarm-list li[data-chair='chair-1'][data-rule='nibp_sys.low']";
        await Assertions.Expect(page.Locator($"{Item} button.ack")).ToBeVisibleAsync(new() { Timeout = 40_000 });
        await Assertions.Expect(page.Locator("#logout")).ToBeVisibleAsync();

        // Keyboard only: Tab to the alarm's Acknowledge button, press Enter.
        await TabToAsync(page, $"{Item} button.ack");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator(Item)).ToHaveClassAsync(new Regex("silenced"), new() { Timeout = 5_000 });
        await Assertions.Expect(page.Locator("#action-msg")).ToContainTextAsync("acknowledged");
        Assert.DoesNotMatch(RuleId(), await page.Locator("#action-msg").InnerTextAsync());

        // Keyboard only: Tab to "Pause audio, all chairs", press Space; the countdown survives a reload.
        await TabToAsync(page, "#pause-all");
        await page.Keyboard.PressAsync(" ");
        await Assertions.Expect(page.Locator("#pause-all-state")).ToContainTextAsync("AUDIO PAUSED, all chairs:");
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#pause-all-state")).ToContainTextAsync(new Regex(@"AUDIO PAUSED, all chairs: [12]:\d\d"), new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("#pause-all")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#resume-all")).ToBeVisibleAsync();
        Assert.Empty(await BrowserSupport.SeriousViolationsAsync(page));

        // Chair page: styled way back, the account links, the alarming value marked, history in words.
        await page.GotoAsync(new Uri(host.Address, "chairs/chair-1").ToString());
        await Assertions.Expect(page.Locator("a.nav-back")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#logout")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#admin-link")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#live-values .now-value.out-medium, #live-values .now-value.out-high").First).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("#history")).ToContainTextAsync("Audio paused", new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("#history")).ToContainTextAsync("Acknowledged");
        var history = await page.Locator("#history").InnerTextAsync();
        Assert.DoesNotMatch(RuleId(), history);
        Assert.DoesNotMatch(new Regex(@"\blow\s+resumed\b|\blow\s+paused\b"), history);

        // Trends: 24-hour HH:MM labels, a window that really is 30 min / 8 h, HR and PR apart, RR on its own scale.
        var label = await page.EvaluateAsync<string>("() => { const p = vitalsCharts[0].plot; return p.axes[0].values(p, [Date.UTC(2026, 0, 1, 20, 45) / 1000], 0, 90, 60)[0]; }");
        Assert.Matches(new Regex(@"^\d\d:\d\d$"), label);
        Assert.InRange(await XWindowSecondsAsync(page), 1770, 1830);
        await page.Locator(".range button[data-minutes='480']").ClickAsync();
        await page.WaitForFunctionAsync("() => { const x = vitalsCharts[0].plot.scales.x; return x.max - x.min > 20000; }", null, new() { Timeout = 10_000 });
        Assert.InRange(await XWindowSecondsAsync(page), (8 * 3600) - 30, (8 * 3600) + 30);
        var series = await page.EvaluateAsync<string[]>("() => vitalsCharts[0].plot.series.slice(1).map((s) => `${s.label}|${s.scale}|${s._stroke || s.stroke()}`)");
        Assert.NotEqual(series[0].Split('|')[2], series[1].Split('|')[2]);
        Assert.Equal("r", series[2].Split('|')[1]);
        Assert.Contains("/min", series[2], StringComparison.Ordinal);
        await BrowserSupport.ShotAsync(page, "chair-page-8h-1920x1080");
        Assert.Empty(await BrowserSupport.SeriousViolationsAsync(page));
        await BrowserSupport.FreezeAnimationsAsync(page, 0.75);
        Assert.Empty(await BrowserSupport.ContrastBelowAsync(page, 4.5));
        await page.SetViewportSizeAsync(Tablet.Width, Tablet.Height);
        await BrowserSupport.ShotAsync(page, "chair-page-8h-1024x768");

        // A favicon on every page.
        using var icon = await host.Http.GetAsync(new Uri("favicon.svg", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, icon.StatusCode);
        Assert.Equal(1, await page.Locator("link[rel=icon][href='/favicon.svg']").CountAsync());
    }

    private static async Task AssertEverythingOnOneScreenAsync(IPage page, string where)
    {
        var problems = await page.EvaluateAsync<string[]>(TileProblems);
        Assert.True(problems.Length == 0, $"{where}: {string.Join("; ", problems)}");

        // The strip hides no alarm: what it shows plus "+N more" is every alarm.
        var total = await page.Locator("#all-alarm-list li").CountAsync();
        var shown = await page.Locator("#alarm-list li:visible").CountAsync();
        var more = await page.Locator("#more-alarms").IsVisibleAsync() ? int.Parse(Regex.Match(await page.Locator("#more-alarms").InnerTextAsync(), @"\d+").Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        Assert.True(shown + more == total, $"{where}: strip shows {shown} + {more} more of {total} alarms");
        var bottoms = await page.EvaluateAsync<double[]>("() => { const l = document.getElementById('alarm-list').getBoundingClientRect(); return [...document.querySelectorAll('#alarm-list li:not([hidden])')].map((li) => li.getBoundingClientRect().bottom - l.bottom); }");
        Assert.All(bottoms, b => Assert.True(b <= 1, $"{where}: an alarm in the strip is cut ({b:0.0} px below it)"));
    }

    private static async Task<double> XWindowSecondsAsync(IPage page) =>
        await page.EvaluateAsync<double>("() => { const x = vitalsCharts[0].plot.scales.x; return x.max - x.min; }");

    /// <summary>Presses Tab until <paramref name="selector"/> has the focus (keyboard-only use), failing after 150 presses.</summary>
    private static async Task TabToAsync(IPage page, string selector)
    {
        for (var i = 0; i < 150; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<bool>("s => document.activeElement && document.activeElement.matches(s)", selector))
            {
                return;
            }
        }

        Assert.Fail($"Tab never reached {selector}");
    }

    [GeneratedRegex(@"\b(?:hr|pr|spo2|rr|nibp_sys|nibp_dia|nibp_map|nibp|temp|feed|mg|check|device|gateway|audio)\.[a-z_]+", RegexOptions.None, 1000)]
    private static partial Regex RuleId();

    [GeneratedRegex("ACKNOWLEDGED|ENDED: acknowledge to clear|STILL PRESENT|ESCALATED", RegexOptions.None, 1000)]
    private static partial Regex StateLabel();
}
