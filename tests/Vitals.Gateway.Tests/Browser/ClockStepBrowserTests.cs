using Microsoft.Playwright;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>
/// The trends keep drawing when the gateway's clock is stepped back. The page sees the step as every stream time
/// (readings, heartbeat, snapshot) moving back by an hour; this test moves them in the page's own EventSource, which the
/// page cannot tell from the gateway's clock being set back. The trends are append-only in time, so before the fix
/// every reading on the stepped clock was dropped as late: the chart froze for the length of the step.
/// </summary>
public class ClockStepBrowserTests
{
    // Moves every time on the stream by window.serverStep ms once a test sets it.
    private const string SteppedStream = """
        const Native = window.EventSource;
        window.EventSource = class extends Native {
          addEventListener(type, handle, options) {
            super.addEventListener(type, (e) => {
              const step = window.serverStep || 0;
              if (!step || typeof e.data !== 'string') { handle(e); return; }
              const shift = (t) => new Date(new Date(t).getTime() + step).toISOString();
              const data = JSON.parse(e.data);
              if (type === 'obs') for (const o of data) o.at = shift(o.at);
              if (data && data.serverTime) data.serverTime = shift(data.serverTime);
              handle(new MessageEvent(type, { data: JSON.stringify(data) }));
            }, options);
          }
        };
        """;

    // The newest time (s) the HR line of the rate chart draws a value at.
    private const string LastHrPoint = "() => { const d = vitalsCharts[0].plot.data; let last = 0; for (let i = 0; i < d[0].length; i++) if (d[1][i] != null) last = d[0][i]; return last; }";

    [Fact]
    public async Task ChairPage_GatewayClockSteppedBackAnHour_TrendDrawsTheReadingsOnTheNewClock()
    {
        var options = GatewayHost.OneChair("stable", 1);
        options.Demo = true;
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromSeconds(1));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.AddInitScriptAsync(SteppedStream);
        await page.GotoAsync(new Uri(host.Address, "chairs/chair-1").ToString());
        await page.WaitForFunctionAsync($"() => ({LastHrPoint})() > Date.now() / 1000 - 60", null, new() { Timeout = 30_000 });

        await page.EvaluateAsync("() => { window.serverStep = -3600 * 1000; }");

        // Readings stamped on the stepped clock are drawn: the line goes on an hour earlier on the new clock.
        await page.WaitForFunctionAsync(
            $"() => {{ const last = ({LastHrPoint})(); return last > Date.now() / 1000 - 3600 - 60 && last < Date.now() / 1000 - 3000; }}", null, new() { Timeout = 30_000 });
        var drawn = await page.EvaluateAsync<double>(LastHrPoint);
        await page.WaitForFunctionAsync($"() => ({LastHrPoint})() > {drawn.ToString(System.Globalization.CultureInfo.InvariantCulture)}", null, new() { Timeout = 30_000 });
    }
}
