using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Feeds;
using Vitals.Gateway.Pipeline;
using Vitals.Simulator;

namespace Vitals.Gateway.Tests.Feeds;

/// <summary>
/// The demo's timeline as the README tells it, replayed on a manual clock: the demo's chairs and simulated monitors,
/// one monitor second per <see cref="GatewayApp.DefaultSimulatorStep"/>, judged by the engine the gateway builds,
/// with the pipeline's once-a-second tick. No wall clock, so the times are exact and the same on any machine.
/// </summary>
public class DemoTimelineTests
{
    private static readonly TimeSpan Run = TimeSpan.FromSeconds(75);

    /// <summary>When each (chair, rule, state) first happened, in seconds after the demo started.</summary>
    private static Dictionary<(string Chair, string Rule, AlarmState State), double> PlayDemo(out Dictionary<string, double> lastReading)
    {
        var options = GatewayApp.DemoOptions();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 8, 0, 0, TimeSpan.Zero));
        var start = clock.GetUtcNow();
        var engine = new AlarmEngine(site: options.Site);
        var chairs = options.Chairs.Select(c =>
        {
            var device = c.Devices[0];
            var feed = new SimulatorFeed(
                options.Site, c.Id, device.Id, device.ToSimulatorOptions(), GatewayApp.DefaultSimulatorStep,
                new FeedStatus(c.Id, device.Id, device.Kind), Channel.CreateUnbounded<Observation>().Writer, clock);
            return (c.Id, Feed: feed, Patient: new SimulatedPatient(device.ToSimulatorOptions()));
        }).ToList();

        var first = new Dictionary<(string, string, AlarmState), double>();
        lastReading = [];
        var events = new List<AlarmEvent>();
        var readings = new List<SimReading>();
        while (clock.GetUtcNow() - start < Run)
        {
            clock.Advance(GatewayApp.DefaultSimulatorStep);
            var now = clock.GetUtcNow();
            var second = (now - start).TotalSeconds;
            foreach (var (id, feed, patient) in chairs)
            {
                foreach (var o in feed.Step(patient, readings, now))
                {
                    engine.Observe(o, events);
                    lastReading[id] = second;
                }
            }

            engine.Tick(now, events);
            foreach (var e in events)
            {
                first.TryAdd((e.Chair, e.Rule, e.State), (e.At - start).TotalSeconds);
            }

            events.Clear();
        }

        return first;
    }

    [Fact]
    public void Demo_ManualClock_TimelineMatchesTheReadme()
    {
        var first = PlayDemo(out _);
        var timeline = string.Join("; ", first.OrderBy(p => p.Value).Select(p => $"{p.Value:0} s {p.Key.Chair} {p.Key.Rule} {p.Key.State}"));
        void RaisedBetween(string chair, string rule, double from, double to) => Assert.True(
            first.TryGetValue((chair, rule, AlarmState.Raised), out var at) && at >= from && at <= to,
            $"{chair} {rule} raised at {(first.ContainsKey((chair, rule, AlarmState.Raised)) ? at : double.NaN)} s, expected {from}-{to} s. Timeline: {timeline}");

        // Chair 3 (bradycardia): HR low after its 10 s condition delay, "about 35 s".
        RaisedBetween("chair-3", "hr.low", 30, 40);

        // Chair 5 (tachycardia): HR high "at about 35 s".
        RaisedBetween("chair-5", "hr.high", 30, 40);

        // Chair 2 (hypotension): NIBP low "at about 50 s", raised by the first cuff reading (every 10 s at 30x) below 90.
        RaisedBetween("chair-2", "nibp_sys.low", 45, 55);

        // Chair 7 (desaturation): SpO2 low "at about 40 s".
        RaisedBetween("chair-7", "spo2.low", 35, 45);

        // Chairs 1, 4 and 8 (stable) raise nothing in that time.
        Assert.DoesNotContain(first.Keys, k => k.Chair is "chair-1" or "chair-4" or "chair-8");
    }

    [Fact]
    public void Demo_ManualClock_FeedLossChairSilentAt20s_FeedLostAfter15s_ClearedWhenDataReturnsAt60s()
    {
        var first = PlayDemo(out var lastReading);

        // Chair 6 (feed-loss) falls silent at 20 s: its last reading before the outage is at 19 s.
        Assert.InRange(first[("chair-6", AlarmEngine.FeedLostRule, AlarmState.Raised)], 19 + 15, 19 + 16);
        Assert.Equal(60, first[("chair-6", AlarmEngine.FeedLostRule, AlarmState.Cleared)]);
        Assert.Equal(Run.TotalSeconds, lastReading["chair-6"]); // back and sending

        // The other chairs never lose their feed.
        Assert.DoesNotContain(first.Keys, k => k.Rule == AlarmEngine.FeedLostRule && k.Chair != "chair-6");
    }
}
