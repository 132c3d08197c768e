using System.Text;

namespace Vitals.Fuzz.Tests;

/// <summary>Every input the fuzzer ever found breaking a codec is replayed here (tests/Vitals.Fuzz/Regressions/&lt;target&gt;/).</summary>
public sealed class FuzzRegressionTests
{
    public static TheoryData<string, string> Reproducers()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in FuzzTargets.All())
        {
            foreach (var file in FuzzTargets.Reproducers(target.Name))
            {
                data.Add(target.Name, Path.GetFileName(file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Reproducers))]
    public void Reproducer_CheckedIn_NoLongerFails(string target, string file)
    {
        var fuzzTarget = FuzzTargets.All().Single(t => t.Name == target);
        var input = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Regressions", target, file));

        var failure = Fuzzer.Failure(fuzzTarget, input, out _);

        Assert.True(failure is null, $"{target}/{file} fails again: {failure}");
    }

    [Fact]
    public void Reproducers_CoverTheDefectsFoundSoFar()
    {
        // The defects of issue 12 item 4 and the ones the fuzzer found next; a reproducer is never deleted.
        var files = FuzzTargets.All().SelectMany(t => FuzzTargets.Reproducers(t.Name).Select(f => $"{t.Name}/{Path.GetFileName(f)}")).ToList();

        Assert.Contains("hl7/msh-ends-before-msh1-cr.bin", files);
        Assert.Contains("mllp/msh-ends-before-msh1-lf.bin", files);
        Assert.Contains("line/year-1-in-zone-ahead-of-utc.bin", files);
        Assert.Contains("json/year-9999-in-zone-behind-utc.bin", files);
    }

    [Theory]
    [MemberData(nameof(TargetNames))]
    public void Seeds_EveryCorpusInput_PassesAndMostDecode(string target)
    {
        var fuzzTarget = FuzzTargets.All().Single(t => t.Name == target);
        var seeds = fuzzTarget.Seeds();

        Assert.NotEmpty(seeds);
        var outcomes = new List<string>();
        foreach (var seed in seeds)
        {
            var failure = Fuzzer.Failure(fuzzTarget, seed, out var outcome);
            Assert.True(failure is null, $"{target} seed '{Encoding.Latin1.GetString(seed.AsSpan(0, Math.Min(60, seed.Length)))}' fails: {failure}");
            outcomes.Add(outcome);
        }

        // The captures are good data: the corpus starts from inputs that reach the decoders' success paths.
        Assert.Contains(outcomes, o => o.Contains("ok", StringComparison.Ordinal) || o.Contains("PUBLISH", StringComparison.Ordinal));
    }

    public static TheoryData<string> TargetNames() => [.. FuzzTargets.All().Select(t => t.Name)];
}
