using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>
/// Seeded random walks through half an hour of a chair (drifting signs, cuff readings, acknowledges, pauses, feed
/// gaps): the engine must be deterministic and every rule's events must follow the state machine.
/// </summary>
public class RandomisedInvariantTests
{
    private static readonly Dictionary<AlarmState, AlarmState[]> Allowed = new()
    {
        [AlarmState.Cleared] = [AlarmState.Raised],
        [AlarmState.Raised] = [AlarmState.Escalated, AlarmState.Acknowledged, AlarmState.Cleared, AlarmState.Latched],
        [AlarmState.Escalated] = [AlarmState.Escalated, AlarmState.Acknowledged, AlarmState.Cleared, AlarmState.Latched],
        [AlarmState.Acknowledged] = [AlarmState.Reannounced, AlarmState.Escalated, AlarmState.Cleared],
        [AlarmState.Reannounced] = [AlarmState.Acknowledged, AlarmState.Escalated, AlarmState.Cleared, AlarmState.Latched],
        [AlarmState.Latched] = [AlarmState.Acknowledged, AlarmState.Raised],
    };

    private static List<AlarmEvent> Run(int seed)
    {
        var random = new Random(seed);
        var h = new EngineHarness();
        h.StartSession(drug: seed % 2 == 0 ? "magnesium sulfate" : "iron sucrose", nibpCycle: TimeSpan.FromMinutes(3));
        double hr = 75, spo2 = 97, rr = 15;
        for (var second = 0; second < 1800; second++)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(1));
            if (random.NextDouble() < 0.003)
            {
                h.Clock.Advance(TimeSpan.FromSeconds(random.Next(10, 70))); // the feed drops out for a while
            }

            hr = Math.Clamp(hr + random.Next(-3, 4), 30, 170);
            spo2 = Math.Clamp(spo2 + random.Next(-1, 2), 80, 100);
            rr = Math.Clamp(rr + random.Next(-1, 2), 5, 35);
            h.Observe(Sign.Hr, hr);
            h.Observe(Sign.Spo2, spo2);
            h.Observe(Sign.Rr, rr);
            if (second % 180 == 0)
            {
                h.Observe(Sign.NibpSys, random.Next(70, 190));
            }

            if (second == 300)
            {
                h.Engine.ConfirmBaseline(EngineHarness.Chair, EngineHarness.Nurse, h.Now, new Baseline(130, 80, 95, 75, 15, 0));
            }

            if (random.NextDouble() < 0.02 && h.Engine.Alarms.Count > 0)
            {
                var alarm = h.Engine.Alarms[random.Next(h.Engine.Alarms.Count)];
                h.Acknowledge(alarm.Rule, alarm.Chair);
            }

            if (random.NextDouble() < 0.005)
            {
                h.Engine.Pause(random.Next(2) == 0 ? null : EngineHarness.Chair, EngineHarness.Nurse, h.Now, TimeSpan.FromSeconds(random.Next(30, 300)), h.Events);
            }

            h.Tick();
        }

        return h.Events;
    }

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 8)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Run_SameSeedTwice_IdenticalEvents(int seed) => Assert.Equal(Run(seed), Run(seed));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Run_RandomWalk_EveryRuleFollowsStateMachine(int seed)
    {
        var events = Run(seed);

        Assert.Contains(events, e => e.Kind == AlarmKind.Physiological);
        foreach (var rule in events.Where(e => e.Rule != AlarmEngine.PauseRule).GroupBy(e => (e.Chair, e.Rule)))
        {
            var previous = AlarmState.Cleared;
            var priority = AlarmPriority.Low;
            foreach (var e in rule)
            {
                Assert.True(Allowed[previous].Contains(e.State), $"{rule.Key.Rule}: {previous} -> {e.State} at {e.At:HH:mm:ss}");
                if (e.State == AlarmState.Latched)
                {
                    Assert.Equal((AlarmPriority.High, AlarmKind.Physiological), (e.Priority, e.Kind));
                }

                if (previous != AlarmState.Cleared && e.State != AlarmState.Raised)
                {
                    Assert.True(e.Priority >= priority, $"{rule.Key.Rule}: priority fell from {priority} to {e.Priority}");
                }

                priority = e.Priority ?? throw new InvalidOperationException($"{rule.Key.Rule}: an alarm event without a priority");
                previous = e.State;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Run_RandomWalk_NoContinuousAlarmReturnsWithinItsConditionDelay(int seed)
    {
        var events = Run(seed);

        foreach (var (rule, delay) in new[] { ("hr.low", 10), ("hr.high", 10), ("spo2.low", 15), ("rr.low", 30), ("rr.high", 30) })
        {
            var ruleEvents = events.Where(e => e.Rule == rule).ToList();
            for (var i = 1; i < ruleEvents.Count; i++)
            {
                // A clear by acknowledgement (of a latched alarm) is not the condition ending: a new one may already be pending.
                if (ruleEvents[i - 1] is { State: AlarmState.Cleared, User: null } && ruleEvents[i].State == AlarmState.Raised)
                {
                    Assert.True(ruleEvents[i].At - ruleEvents[i - 1].At >= TimeSpan.FromSeconds(delay), $"{rule} flapped at {ruleEvents[i].At:HH:mm:ss}");
                }
            }
        }
    }

    [Fact]
    public void Run_PauseRequests_NeverExceedTwoMinutes()
    {
        var events = Enumerable.Range(1, 4).SelectMany(Run).Where(e => e.State == AlarmState.Paused).ToList();

        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.InRange(e.Value!.Value, 1, 120));
    }
}
