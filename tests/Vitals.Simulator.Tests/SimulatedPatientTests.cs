using Vitals.Core;

namespace Vitals.Simulator.Tests;

public class SimulatedPatientTests
{
    private static readonly TimeSpan ThirtyMinutes = TimeSpan.FromMinutes(30);

    private static List<SimReading> Run(ScenarioKind scenario, int seed = 7, double scale = 1, TimeSpan? duration = null) =>
        new SimulatedPatient(new SimulatorOptions(scenario, seed, scale)).Run(duration ?? ThirtyMinutes);

    private static IEnumerable<double> Values(List<SimReading> readings, Sign sign, double fromMinute = 0) =>
        readings.Where(r => r.Sign == sign && r.Elapsed.TotalMinutes >= fromMinute).Select(r => r.Value);

    [Fact]
    public void Run_SameSeed_GivesIdenticalReadings()
    {
        Assert.Equal(Run(ScenarioKind.Hypotension, 42), Run(ScenarioKind.Hypotension, 42));
    }

    [Fact]
    public void Run_DifferentSeeds_GiveDifferentReadings()
    {
        Assert.NotEqual(Run(ScenarioKind.Stable, 1), Run(ScenarioKind.Stable, 2));
    }

    [Fact]
    public void Run_Stable_ContinuousSignsEverySecondAndWithinNormalRanges()
    {
        var readings = Run(ScenarioKind.Stable);
        Assert.Equal(1800, Values(readings, Sign.Hr).Count());
        Assert.Equal(1800, Values(readings, Sign.Spo2).Count());
        Assert.Equal(1800, Values(readings, Sign.Rr).Count());
        Assert.Equal(60, Values(readings, Sign.Temp).Count());
        Assert.All(Values(readings, Sign.Hr), v => Assert.InRange(v, 50, 100));
        Assert.All(Values(readings, Sign.Spo2), v => Assert.InRange(v, 92, 100));
        Assert.All(Values(readings, Sign.Rr), v => Assert.InRange(v, 10, 24));
        Assert.All(Values(readings, Sign.NibpSys), v => Assert.InRange(v, 100, 150));
        Assert.True(Values(readings, Sign.Hr).Distinct().Count() > 3, "heart rate should vary");
    }

    [Fact]
    public void Run_Nibp_IsEpisodicOnTheCycleWithConsistentSysDiaMap()
    {
        var readings = Run(ScenarioKind.Stable);
        var sys = readings.Where(r => r.Sign == Sign.NibpSys).ToList();
        var dia = readings.Where(r => r.Sign == Sign.NibpDia).ToList();
        var map = readings.Where(r => r.Sign == Sign.NibpMap).ToList();
        Assert.Equal(6, sys.Count); // first reading at 5 s, then every 5 min in 30 min
        Assert.Equal(TimeSpan.FromMinutes(5), sys[1].Elapsed - sys[0].Elapsed);
        for (var i = 0; i < sys.Count; i++)
        {
            Assert.Equal(sys[i].Elapsed, dia[i].Elapsed);
            Assert.True(sys[i].Value > dia[i].Value);
            Assert.InRange(map[i].Value, dia[i].Value, sys[i].Value);
            Assert.Equal(Math.Round(dia[i].Value + ((sys[i].Value - dia[i].Value) / 3)), map[i].Value);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(99)]
    [InlineData(200)]
    public void Run_Hypotension_SystolicFalls25To35PercentBelowBaseline(int seed)
    {
        var readings = Run(ScenarioKind.Hypotension, seed);
        var baseline = Values(readings, Sign.NibpSys).First();
        var late = Values(readings, Sign.NibpSys, fromMinute: 19).Average();
        var drop = 1 - (late / baseline);
        Assert.InRange(drop, 0.22, 0.38); // 25-35 % by design, widened by cuff noise on the single baseline reading
    }

    [Fact]
    public void Run_Bradycardia_HeartRateEndsBelow50()
    {
        Assert.All(Values(Run(ScenarioKind.Bradycardia), Sign.Hr, fromMinute: 13), v => Assert.InRange(v, 30, 50));
    }

    [Fact]
    public void Run_Tachycardia_HeartRateEndsAbove120()
    {
        Assert.All(Values(Run(ScenarioKind.Tachycardia), Sign.Hr, fromMinute: 13), v => Assert.InRange(v, 120, 160));
    }

    [Fact]
    public void Run_Desaturation_SpO2Below90AndBreathingSlows()
    {
        var readings = Run(ScenarioKind.Desaturation);
        Assert.True(Values(readings, Sign.Spo2, fromMinute: 15).Average() < 90);
        Assert.True(Values(readings, Sign.Rr, fromMinute: 15).Average() < 11);
    }

    [Fact]
    public void Run_FeedLoss_StopsFrom10To30MinutesThenReturns()
    {
        var readings = new SimulatedPatient(new SimulatorOptions(ScenarioKind.FeedLoss, 3)).Run(TimeSpan.FromMinutes(45));
        Assert.Contains(readings, r => r.Elapsed.TotalMinutes < 10);
        Assert.DoesNotContain(readings, r => r.Elapsed.TotalMinutes > 10.01 && r.Elapsed.TotalMinutes < 30);
        Assert.Contains(readings, r => r.Elapsed.TotalMinutes > 30);
    }

    [Fact]
    public void Run_TimeScale30_PlaysTheThirtyMinuteCourseInOneMonitorMinute()
    {
        var patient = new SimulatedPatient(new SimulatorOptions(ScenarioKind.Bradycardia, 5, TimeScale: 30));
        var readings = patient.Run(TimeSpan.FromMinutes(1));
        Assert.Equal(TimeSpan.FromMinutes(30), patient.ScenarioTime);
        Assert.True(Values(readings, Sign.Hr).TakeLast(10).Average() < 50);
    }

    [Fact]
    public void Scenarios_TryParse_KnowsEveryDocumentedName()
    {
        foreach (var name in new[] { "stable", "hypotension", "bradycardia", "tachycardia", "desaturation", "feed-loss" })
        {
            Assert.True(Scenarios.TryParse(name, out var kind), name);
            Assert.Equal(name, kind.Name());
        }

        Assert.False(Scenarios.TryParse("sepsis", out _));
    }
}
