using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>The MgSO4 infusion profile, nursing check prompts and magnesium rate warnings.</summary>
public class MagnesiumProfileTests
{
    [Fact]
    public void StartSession_MagnesiumDrug_UsesMgSo4Profile()
    {
        var h = new EngineHarness();

        h.StartSession(drug: "Magnesium sulfate");

        Assert.Equal(AlarmProfiles.MgSo4Name, h.Engine.ProfileFor(EngineHarness.Chair).Name);
        Assert.Equal(AlarmProfiles.DefaultAdultName, h.Engine.ProfileFor("c2").Name);
    }

    [Theory]
    [InlineData(Sign.Rr, 14.1, null, null)]
    [InlineData(Sign.Rr, 14, "rr.low", AlarmPriority.Medium)]
    [InlineData(Sign.Rr, 12, "rr.low", AlarmPriority.Medium)]
    [InlineData(Sign.Rr, 11.9, "rr.low", AlarmPriority.High)]
    [InlineData(Sign.Spo2, 94, null, null)]
    [InlineData(Sign.Spo2, 93.9, "spo2.low", AlarmPriority.Medium)]
    [InlineData(Sign.Spo2, 85, "spo2.low", AlarmPriority.High)]
    [InlineData(Sign.Hr, 50, null, null)]
    [InlineData(Sign.Hr, 49.9, "hr.low", AlarmPriority.Medium)]
    [InlineData(Sign.NibpSys, 90, null, null)]
    [InlineData(Sign.NibpSys, 89.9, "nibp_sys.low", AlarmPriority.Medium)]
    public void Observe_MgSo4ProfileLimit_RaisesExpectedPriority(Sign sign, double value, string? rule, AlarmPriority? priority)
    {
        var h = new EngineHarness();
        h.StartSession(drug: "MgSO4");
        var delay = (int)AlarmProfiles.MgSo4.TimingFor(sign).ConditionDelay.TotalSeconds;

        h.Hold(sign, value, delay + 1);

        var physiological = h.Engine.Alarms.Where(a => a.Kind == AlarmKind.Physiological && a.Sign is not null).ToList();
        if (rule is null)
        {
            Assert.Empty(physiological);
            return;
        }

        var alarm = Assert.Single(physiological);
        Assert.Equal((rule, priority), (alarm.Rule, (AlarmPriority?)alarm.Priority));
    }

    [Fact]
    public void Observe_MgSo4SessionWithConfirmedBaseline_SbpDropRaisesMedium()
    {
        var h = new EngineHarness();
        h.StartSession(drug: "magnesium sulfate");
        h.Engine.ConfirmBaseline(EngineHarness.Chair, EngineHarness.Nurse, h.Now, new Baseline(140, 80, 100, 75, 16, 0));

        h.Observe(Sign.NibpSys, 115);

        Assert.Equal(AlarmPriority.Medium, h.Alarm("nibp_sys.drop")?.Priority);
    }

    [Fact]
    public void Tick_FifteenMinutesIntoMgSo4Infusion_PromptsThreeLowPriorityChecks()
    {
        var h = new EngineHarness();
        h.StartSession(drug: "magnesium sulfate");

        h.Wait(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(h.Events, e => e.Rule.StartsWith(AlarmEngine.CheckRulePrefix, StringComparison.Ordinal));
        h.Wait(TimeSpan.FromSeconds(1));

        var prompts = h.Events.Where(e => e.Rule.StartsWith(AlarmEngine.CheckRulePrefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(["check.consciousness", "check.patellar_reflex", "check.urine_output"], prompts.Select(e => e.Rule).Order(StringComparer.Ordinal));
        Assert.All(prompts, e => Assert.Equal((AlarmState.Raised, AlarmPriority.Low), (e.State, e.Priority)));
    }

    [Fact]
    public void ConfirmCheck_DuringLoading_ClearsPromptAndNextDueInFifteenMinutes()
    {
        var h = new EngineHarness();
        h.StartSession(drug: "magnesium sulfate");
        h.Wait(TimeSpan.FromMinutes(15));

        Assert.True(h.Engine.ConfirmCheck(EngineHarness.Chair, "patellar_reflex", EngineHarness.Nurse, h.Now, h.Events));

        Assert.Equal([AlarmState.Raised, AlarmState.Acknowledged, AlarmState.Cleared], h.StatesOf("check.patellar_reflex"));
        Assert.Equal(EngineHarness.Nurse, h.EventsFor("check.patellar_reflex")[^1].User);
        Assert.Equal(h.Now + TimeSpan.FromMinutes(15), h.Engine.ChecksDue(EngineHarness.Chair).Single(c => c.CheckId == "patellar_reflex").DueAt);
    }

    [Fact]
    public void ConfirmCheck_AfterLoading_NextDueInOneHour()
    {
        var h = new EngineHarness();
        h.StartSession(drug: "magnesium sulfate");
        h.Wait(TimeSpan.FromMinutes(30));

        h.Engine.ConfirmCheck(EngineHarness.Chair, "urine_output", EngineHarness.Nurse, h.Now, h.Events);

        Assert.Equal(h.Now + TimeSpan.FromHours(1), h.Engine.ChecksDue(EngineHarness.Chair).Single(c => c.CheckId == "urine_output").DueAt);
    }

    [Fact]
    public void ConfirmCheck_NonMagnesiumSession_ReturnsFalse()
    {
        var h = new EngineHarness();
        h.StartSession();

        Assert.False(h.Engine.ConfirmCheck(EngineHarness.Chair, "patellar_reflex", EngineHarness.Nurse, h.Now, h.Events));
        Assert.Empty(h.Engine.ChecksDue(EngineHarness.Chair));
    }

    [Fact]
    public void StartSession_MagnesiumRateAboveMaximum_WarnsAndRaisesMgRate()
    {
        var h = new EngineHarness();

        h.StartSession(drug: "magnesium sulfate", rate: 4);

        var raised = Assert.Single(h.EventsFor(AlarmEngine.MagnesiumRateRule));
        Assert.Equal((AlarmState.Raised, AlarmPriority.Medium), (raised.State, raised.Priority));
        Assert.Equal((4d, 3d), (raised.Value, raised.Limit));
        Assert.Contains("4 g/h", raised.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UpdateSession_RateCorrected_MgRateCleared()
    {
        var h = new EngineHarness();
        var session = h.StartSession(drug: "magnesium sulfate", rate: 4);

        var warnings = h.Engine.UpdateSession(session with { RateGramsPerHour = 2 }, h.Now, h.Events);

        Assert.Empty(warnings);
        Assert.Equal([AlarmState.Raised, AlarmState.Cleared], h.StatesOf(AlarmEngine.MagnesiumRateRule));
    }

    [Theory]
    [InlineData(3, null, null, 0)]
    [InlineData(3.1, null, null, 1)]
    [InlineData(2, 6.0, 15, 0)]
    [InlineData(2, 6.5, 20, 1)]
    [InlineData(2, 4.0, 10, 1)]
    [InlineData(4, 8.0, 5, 3)]
    public void Check_MagnesiumRateAndBolus_WarnsPerExceededLimit(double rate, double? bolus, int? minutes, int expectedWarnings)
    {
        var session = new InfusionSession("s1", "c1", "P-1", "magnesium sulfate", 4, rate, DateTimeOffset.UnixEpoch,
            BolusGrams: bolus, BolusDuration: minutes is { } m ? TimeSpan.FromMinutes(m) : null);

        Assert.Equal(expectedWarnings, MagnesiumChecks.Check(session, new MagnesiumLimits()).Count);
    }

    [Fact]
    public void Check_NonMagnesiumDrugAtHighRate_NoWarning()
    {
        var session = new InfusionSession("s1", "c1", "P-1", "iron sucrose", 1, 10, DateTimeOffset.UnixEpoch);

        Assert.Empty(MagnesiumChecks.Check(session, new MagnesiumLimits()));
    }

    [Fact]
    public void StartSession_PseudonymLooksLikeName_ThrowsNamingField()
    {
        var h = new EngineHarness();
        var session = new InfusionSession("s1", EngineHarness.Chair, "Jane Doe", "magnesium sulfate", 4, 1, h.Now);

        var ex = Assert.Throws<ArgumentException>(() => h.Engine.StartSession(session, h.Now, h.Events));

        Assert.Contains("session.patient_pseudonym", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StartSession_SecondSessionAtBusyChair_Throws()
    {
        var h = new EngineHarness();
        h.StartSession();

        var other = new InfusionSession("s2", EngineHarness.Chair, "P-2", "iron sucrose", 1, null, h.Now);

        Assert.Throws<InvalidOperationException>(() => h.Engine.StartSession(other, h.Now, h.Events));
    }
}
