using System.Globalization;
using Xunit.Abstractions;

namespace Vitals.Fuzz.Tests;

/// <summary>
/// The bounded fuzz run CI does on every build: each target for <see cref="SecondsPerTarget"/> (about a minute in total).
/// The mutation seed is fixed unless VITALS_FUZZ_SEED is set, so the suite replays the same inputs; the long run is
/// <c>dotnet run -c Release --project tests/Vitals.Fuzz -- --hours 8</c>.
/// </summary>
public sealed class FuzzCampaignTests(ITestOutputHelper output)
{
    private const int SecondsPerTarget = 10;

    public static TheoryData<string> TargetNames() => FuzzRegressionTests.TargetNames();

    [Theory]
    [MemberData(nameof(TargetNames))]
    public void Fuzz_BoundedRun_FindsNoCrashOrBrokenInvariant(string target)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("VITALS_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 12;
        var findings = Path.Combine(Path.GetTempPath(), "vitals-fuzz-findings");

        var report = Fuzzer.Run(
            FuzzTargets.All().Single(t => t.Name == target),
            new FuzzOptions { Duration = TimeSpan.FromSeconds(SecondsPerTarget), Seed = seed, SaveDirectory = findings, MaxFindings = 1 });

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{target}: {report.Inputs:N0} inputs in {report.Elapsed.TotalSeconds:0.0} s = {report.InputsPerSecond:N0}/s, corpus {report.CorpusSize}, seed {seed}"));
        Assert.True(report.Inputs > 0);
        var finding = report.Findings.FirstOrDefault();
        Assert.True(
            finding is null,
            finding is null ? string.Empty : $"{finding.Signature}\n{finding.Message}\nminimized reproducer ({finding.Input.Length} bytes) saved to {finding.SavedPath}; "
                + $"check it in under tests/Vitals.Fuzz/Regressions/{target}/ with the fix. base64: {Convert.ToBase64String(finding.Input)}");
    }
}
