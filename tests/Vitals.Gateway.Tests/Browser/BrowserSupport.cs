using System.Text.Json;
using Microsoft.Playwright;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>Screenshots and the axe-core accessibility and contrast checks, run inside the real Chromium.</summary>
public static class BrowserSupport
{
    private static readonly Lazy<string> AxeSource = new(() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "axe", "axe.min.js")));

    /// <summary>TestResults/screenshots under the repository root (found by Vitals.sln), else next to the test assembly.</summary>
    public static string ScreenshotDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Vitals.sln")))
            {
                return Path.Combine(dir.FullName, "TestResults", "screenshots");
            }
        }

        return Path.Combine(AppContext.BaseDirectory, "screenshots");
    }

    /// <summary>Saves a PNG of <paramref name="page"/> as <c>name.png</c> in <see cref="ScreenshotDirectory"/>.</summary>
    public static async Task ShotAsync(IPage page, string name, bool fullPage = false)
    {
        Directory.CreateDirectory(DashboardBrowserTests.Artifacts);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardBrowserTests.Artifacts, name + ".png"), FullPage = fullPage });
    }

    /// <summary>
    /// Freezes every CSS animation (alarm flashes) at <paramref name="phase"/> of its cycle: 0.25 is the bright phase
    /// of the flash keyframes, 0.75 the dark one.
    /// </summary>
    public static Task FreezeAnimationsAsync(IPage page, double phase) => page.EvaluateAsync(
        "phase => { for (const a of document.getAnimations()) { a.pause(); a.currentTime = a.effect.getComputedTiming().duration * phase; } }", phase);

    /// <summary>Runs axe-core (from npm) on the page; returns the serious and critical violations, one line each.</summary>
    public static async Task<List<string>> SeriousViolationsAsync(IPage page)
    {
        await InjectAxeAsync(page);
        var json = await page.EvaluateAsync<string>("""
            async () => JSON.stringify((await axe.run(document, { resultTypes: ['violations'] })).violations
              .filter((v) => v.impact === 'serious' || v.impact === 'critical')
              .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\s+/g, ' ')).join(' | ')}`))
            """);
        return JsonSerializer.Deserialize<List<string>>(json)!;
    }

    /// <summary>Every text contrast ratio axe measured on the page below <paramref name="minimum"/> (large text included), one line each.</summary>
    public static async Task<List<string>> ContrastBelowAsync(IPage page, double minimum)
    {
        await InjectAxeAsync(page);
        var json = await page.EvaluateAsync<string>("""
            async (minimum) => {
              const r = await axe.run(document, { runOnly: ['color-contrast'] });
              const low = [];
              for (const node of [...r.passes, ...r.violations].flatMap((x) => x.nodes)) {
                const data = (node.any[0] || {}).data;
                if (data && data.contrastRatio && data.contrastRatio < minimum) low.push(`${node.target.join(' ')}: ${data.contrastRatio} (${data.fgColor} on ${data.bgColor})`);
              }
              return JSON.stringify(low);
            }
            """, minimum);
        return JsonSerializer.Deserialize<List<string>>(json)!;
    }

    private static async Task InjectAxeAsync(IPage page)
    {
        // Evaluated, not added as a script tag, so a Content-Security-Policy without 'unsafe-inline' does not block it.
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'"))
        {
            await page.EvaluateAsync(AxeSource.Value);
        }
    }
}
