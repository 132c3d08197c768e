namespace Vitals.Simulator;

/// <summary>The named clinical courses a simulated patient can follow.</summary>
public enum ScenarioKind
{
    /// <summary>Normal adult values with ordinary variation throughout.</summary>
    Stable,

    /// <summary>Systolic pressure falls 25-35 % below its pre-infusion baseline during the infusion.</summary>
    Hypotension,

    /// <summary>Heart rate drifts down to about 42 /min.</summary>
    Bradycardia,

    /// <summary>Heart rate climbs to about 135 /min.</summary>
    Tachycardia,

    /// <summary>SpO2 falls to about 86 % while breathing slows.</summary>
    Desaturation,

    /// <summary>The monitor stops sending for a while, then returns; repeats.</summary>
    FeedLoss,
}

/// <summary>Scenario names as typed on the command line and in config files.</summary>
public static class Scenarios
{
    private static readonly Dictionary<string, ScenarioKind> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["stable"] = ScenarioKind.Stable,
        ["hypotension"] = ScenarioKind.Hypotension,
        ["bradycardia"] = ScenarioKind.Bradycardia,
        ["tachycardia"] = ScenarioKind.Tachycardia,
        ["desaturation"] = ScenarioKind.Desaturation,
        ["feed-loss"] = ScenarioKind.FeedLoss,
    };

    /// <summary>All scenario names.</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;

    /// <summary>Parses a scenario name such as <c>feed-loss</c>.</summary>
    public static bool TryParse(string? name, out ScenarioKind kind)
    {
        kind = default;
        return name is not null && ByName.TryGetValue(name, out kind);
    }

    /// <summary>The name of <paramref name="kind"/> as typed by users.</summary>
    public static string Name(this ScenarioKind kind) => ByName.First(p => p.Value == kind).Key;
}

/// <summary>How a simulated monitor behaves.</summary>
/// <param name="Scenario">The clinical course.</param>
/// <param name="Seed">Random seed: the same seed gives the same readings.</param>
/// <param name="TimeScale">Scenario minutes that pass per monitor minute (30 plays a 30-minute course in 1 minute).</param>
/// <param name="NibpCycle">Cuff cycle in scenario time (5 min is a common infusion setting).</param>
public sealed record SimulatorOptions(
    ScenarioKind Scenario = ScenarioKind.Stable,
    int Seed = 1,
    double TimeScale = 1,
    TimeSpan? NibpCycle = null)
{
    /// <summary>Default NIBP cuff cycle.</summary>
    public static readonly TimeSpan DefaultNibpCycle = TimeSpan.FromMinutes(5);
}
