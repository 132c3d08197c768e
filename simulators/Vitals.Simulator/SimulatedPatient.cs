using Vitals.Core;

namespace Vitals.Simulator;

/// <summary>One reading a simulated monitor emits.</summary>
/// <param name="Sign">The sign.</param>
/// <param name="Value">The value in the sign's unit, rounded as a monitor displays it.</param>
/// <param name="Elapsed">Monitor time since the simulation started.</param>
public readonly record struct SimReading(Sign Sign, double Value, TimeSpan Elapsed);

/// <summary>
/// A deterministic simulated patient and monitor. Each call to <see cref="Step"/> advances one monitor
/// second and returns that second's readings: HR, PR, SpO2 and RR every second, temperature every
/// 30 s, NIBP sys/dia/map together once per cuff cycle. Pure: no clock, no I/O.
/// </summary>
public sealed class SimulatedPatient
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan TempEvery = TimeSpan.FromSeconds(30);

    private readonly SimulatorOptions options;
    private readonly Random random;
    private readonly Baseline baseline;
    private readonly TimeSpan nibpCycle;
    private double hrNoise;
    private double spo2Noise;
    private double rrNoise;
    private TimeSpan nextNibp;

    /// <summary>Creates a patient following <paramref name="options"/>.</summary>
    public SimulatedPatient(SimulatorOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.TimeScale);
        this.options = options;
        random = new Random(options.Seed);
        baseline = new Baseline(
            Hr: 64 + (random.NextDouble() * 16),
            Sys: 118 + (random.NextDouble() * 16),
            Dia: 70 + (random.NextDouble() * 10),
            Spo2: 96 + (random.NextDouble() * 2.5),
            Rr: 14 + (random.NextDouble() * 4),
            Temp: 36.5 + (random.NextDouble() * 0.5));
        nibpCycle = options.NibpCycle ?? SimulatorOptions.DefaultNibpCycle;

        // The first cuff reading comes a few seconds in, as when a nurse starts the monitor.
        nextNibp = TimeSpan.FromSeconds(5);
    }

    /// <summary>Monitor time simulated so far.</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>Scenario time simulated so far (monitor time x time scale).</summary>
    public TimeSpan ScenarioTime => Elapsed * options.TimeScale;

    /// <summary>True while a <see cref="ScenarioKind.FeedLoss"/> monitor is silent.</summary>
    public bool IsSilent => options.Scenario == ScenarioKind.FeedLoss && InOutage(ScenarioTime);

    /// <summary>Advances one monitor second and appends that second's readings to <paramref name="output"/>.</summary>
    public void Step(List<SimReading> output)
    {
        Elapsed += Second;
        var t = ScenarioTime;

        // AR(1) noise: successive seconds are correlated, as real beat-to-beat variation is.
        hrNoise = (0.9 * hrNoise) + Gaussian(0.8);
        spo2Noise = (0.95 * spo2Noise) + Gaussian(0.15);
        rrNoise = (0.9 * rrNoise) + Gaussian(0.4);

        if (IsSilent)
        {
            return;
        }

        var hr = Math.Clamp(HeartRate(t) + hrNoise, 25, 220);
        var spo2 = Math.Clamp(Saturation(t) + spo2Noise, 70, 100);
        var rr = Math.Clamp(Respiration(t) + rrNoise, 4, 45);
        output.Add(new(Sign.Hr, Math.Round(hr), Elapsed));
        output.Add(new(Sign.Pr, Math.Round(hr + Gaussian(0.7)), Elapsed));
        output.Add(new(Sign.Spo2, Math.Round(spo2), Elapsed));
        output.Add(new(Sign.Rr, Math.Round(rr), Elapsed));

        if (Elapsed.Ticks % TempEvery.Ticks == 0)
        {
            output.Add(new(Sign.Temp, Math.Round(baseline.Temp + Gaussian(0.05), 1), Elapsed));
        }

        if (t >= nextNibp)
        {
            nextNibp = t + nibpCycle;
            var sys = Math.Round(Systolic(t) + Gaussian(3));
            var dia = Math.Round(Math.Min(sys - 20, (baseline.Dia * sys / baseline.Sys) + Gaussian(2)));
            output.Add(new(Sign.NibpSys, sys, Elapsed));
            output.Add(new(Sign.NibpDia, dia, Elapsed));
            output.Add(new(Sign.NibpMap, Math.Round(dia + ((sys - dia) / 3)), Elapsed));
        }
    }

    /// <summary>Runs <paramref name="monitorTime"/> of monitor seconds at once (for tests and replays).</summary>
    public List<SimReading> Run(TimeSpan monitorTime)
    {
        var all = new List<SimReading>();
        while (Elapsed < monitorTime)
        {
            Step(all);
        }

        return all;
    }

    private static bool InOutage(TimeSpan t)
    {
        // Silent from minute 10 for 20 minutes, then back for 20 minutes, repeating.
        var minutes = t.TotalMinutes - 10;
        return minutes >= 0 && minutes % 40 < 20;
    }

    /// <summary>0 before <paramref name="from"/>, 1 after <paramref name="to"/>, linear between: a scenario's course.</summary>
    private static double Ramp(TimeSpan t, double from, double to) =>
        Math.Clamp((t.TotalMinutes - from) / (to - from), 0, 1);

    private double HeartRate(TimeSpan t) => options.Scenario switch
    {
        ScenarioKind.Bradycardia => baseline.Hr + ((42 - baseline.Hr) * Ramp(t, 6, 12)),
        ScenarioKind.Tachycardia => baseline.Hr + ((135 - baseline.Hr) * Ramp(t, 6, 12)),
        ScenarioKind.Hypotension => baseline.Hr + (14 * Ramp(t, 8, 18)),
        _ => baseline.Hr,
    };

    private double Systolic(TimeSpan t) => options.Scenario switch
    {
        // 25-35 % below baseline: the fall size is drawn from the seed.
        ScenarioKind.Hypotension => baseline.Sys * (1 - (DropFraction * Ramp(t, 8, 18))),
        _ => baseline.Sys,
    };

    private double DropFraction => 0.27 + (0.06 * ((options.Seed & 0xFF) / 255.0));

    private double Saturation(TimeSpan t) => options.Scenario == ScenarioKind.Desaturation
        ? baseline.Spo2 + ((86 - baseline.Spo2) * Ramp(t, 8, 14))
        : baseline.Spo2;

    private double Respiration(TimeSpan t) => options.Scenario == ScenarioKind.Desaturation
        ? baseline.Rr + ((9 - baseline.Rr) * Ramp(t, 8, 14))
        : baseline.Rr;

    private double Gaussian(double sd)
    {
        // Box-Muller; 1 - NextDouble avoids log(0).
        var u1 = 1 - random.NextDouble();
        var u2 = random.NextDouble();
        return sd * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private sealed record Baseline(double Hr, double Sys, double Dia, double Spo2, double Rr, double Temp);
}
