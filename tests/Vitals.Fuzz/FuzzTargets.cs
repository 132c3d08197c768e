using Vitals.Fuzz.Targets;

namespace Vitals.Fuzz;

/// <summary>Every fuzz target, by name.</summary>
public static class FuzzTargets
{
    /// <summary>Creates one of each target (they load their seed corpus on demand).</summary>
    public static IReadOnlyList<FuzzTarget> All() => [new Hl7Target(), new MllpTarget(), new MasimoTarget(), new LineTarget(), new JsonTarget(), new MqttTarget()];

    /// <summary>The checked-in reproducers of <paramref name="target"/> (files under Regressions/&lt;target&gt;/).</summary>
    public static IEnumerable<string> Reproducers(string target)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Regressions", target);
        return Directory.Exists(folder) ? Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal) : [];
    }
}
