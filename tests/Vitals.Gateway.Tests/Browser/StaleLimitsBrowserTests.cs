using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Vitals.Core;
using Vitals.Gateway.Config;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>The pages judge a value's age by the server's stale limits (config <c>staleSeconds</c>), not by limits of their own.</summary>
public class StaleLimitsBrowserTests
{
    // hr raised to 5 min, temp lowered to 20 s, rr's check turned off; spo2 keeps its default (15 s).
    private const string Config = """
        {
          "site": "stale-test",
          "staleSeconds": { "hr": 300, "temp": 20, "rr": 0 },
          "chairs": [ { "id": "chair-1", "name": "Chair 1", "devices": [ { "id": "monitor-1", "kind": "mqtt" } ] } ]
        }
        """;

    [Fact]
    public async Task NurseViewAndChairPage_NonDefaultStaleSecondsConfig_ValuesStruckThroughByTheServersLimits()
    {
        var options = ConfigLoader.Parse(Config, "test config");
        options.Demo = true; // demo mode: the pages need no login (the --demo flag, not a config key)
        await using var host = await GatewayHost.StartAsync(options, GatewayApp.DefaultSimulatorStep);

        // Every value was measured a minute ago: past the default hr limit, within the default temp limit.
        var measured = DateTimeOffset.UtcNow.AddMinutes(-1);
        var pipeline = host.App.Services.GetRequiredService<ObservationPipeline>();
        foreach (var (sign, value) in new[] { (Sign.Hr, 71.0), (Sign.Spo2, 97.0), (Sign.Rr, 14.0), (Sign.Temp, 36.8) })
        {
            await pipeline.Writer.WriteAsync(new Observation("stale-test", "chair-1", "monitor-1", sign, value, measured, DateTimeOffset.UtcNow, SourceProtocol.Mqtt));
        }

        var live = host.App.Services.GetRequiredService<LiveState>();
        await Eventually.TrueAsync(() => live.Snapshot("chair-1")!.Values.Count == 4, "the four readings in the live state");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.Address.ToString());
        var tile = page.Locator("article.tile[data-chair='chair-1']");
        var stale = new System.Text.RegularExpressions.Regex(@"\bstale\b");

        // Lowered limit: stale (the page's old 120 s would not strike it through yet).
        await Assertions.Expect(tile.Locator(".v.temp")).ToHaveClassAsync(stale);
        await Assertions.Expect(tile.Locator(".v.spo2")).ToHaveClassAsync(stale);
        await Assertions.Expect(tile.Locator(".v.hr .num")).ToHaveTextAsync("71");
        await Assertions.Expect(tile.Locator(".v.hr")).Not.ToHaveClassAsync(stale); // raised limit
        await Assertions.Expect(tile.Locator(".v.rr")).Not.ToHaveClassAsync(stale); // check turned off

        await page.GotoAsync(new Uri(host.Address, "chairs/chair-1").ToString());
        ILocator Value(string label) => page.Locator($"#live-values > span:has(small:text-is('{label}'))");
        await Assertions.Expect(Value("Temp")).ToHaveClassAsync(stale);
        await Assertions.Expect(Value("SpO2")).ToHaveClassAsync(stale);
        await Assertions.Expect(Value("HR")).ToContainTextAsync("71");
        await Assertions.Expect(Value("HR")).Not.ToHaveClassAsync(stale);
        await Assertions.Expect(Value("RR")).Not.ToHaveClassAsync(stale);
    }
}
