using Vitals.Core.Alarms;

namespace Vitals.Core.Tests.Alarms;

/// <summary>
/// The engine finds a reading's chair first by the identity of its site and chair strings (a feed's readings carry the
/// same instances), then by their text. Whatever the instances, one site and chair is one chair, and two are two.
/// </summary>
public class ChairLookupTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void SameChairStringAtTwoSites_AreTwoChairs()
    {
        var engine = new AlarmEngine(site: "north");
        var events = new List<AlarmEvent>();
        var chair = "c1"; // the very same instance at both sites

        for (var s = 0; s < 60; s++)
        {
            var at = Start.AddSeconds(s);
            engine.Observe(new Observation("north", chair, "m", Sign.Hr, 150, at, at, SourceProtocol.Mqtt), events);
            engine.Observe(new Observation("south", chair, "m", Sign.Hr, 70, at, at, SourceProtocol.Mqtt), events);
            engine.Tick(at, events);
        }

        var raised = Assert.Single(events, e => e.Rule == "hr.high" && e.State == AlarmState.Raised);
        Assert.Equal(("north", "c1"), (raised.Site, raised.Chair));
    }

    [Fact]
    public void EqualChairStringsFromNewInstances_AreOneChair()
    {
        var engine = new AlarmEngine(site: "north");
        var events = new List<AlarmEvent>();

        for (var s = 0; s < 60; s++)
        {
            var at = Start.AddSeconds(s);
            var chair = new string(['c', '1']); // a new instance every reading, as a parser or the store would make
            engine.Observe(new Observation(new string(['n', 'o', 'r', 't', 'h']), chair, "m", Sign.Hr, 150, at, at, SourceProtocol.Mqtt), events);
            engine.Tick(at, events);
        }

        Assert.Single(events, e => e.Rule == "hr.high" && e.State == AlarmState.Raised);
        Assert.Single(engine.Snapshot().Alarms);
    }

    /// <summary>Far more chairs than the identity table has room for: each keeps its own state.</summary>
    [Fact]
    public void ThousandsOfChairsRoundRobin_EachJudgedOnItsOwnReadings()
    {
        var engine = new AlarmEngine(site: "north");
        var events = new List<AlarmEvent>();
        var chairs = Enumerable.Range(0, 3_000).Select(i => "bed-" + i).ToArray();

        for (var s = 0; s < 40; s++)
        {
            var at = Start.AddSeconds(s);
            for (var i = 0; i < chairs.Length; i++)
            {
                engine.Observe(new Observation("north", chairs[i], "m", Sign.Hr, i % 3 == 0 ? 150 : 70, at, at, SourceProtocol.Mqtt), events);
            }

            engine.Tick(at, events);
        }

        var raised = events.Where(e => e.Rule == "hr.high" && e.State == AlarmState.Raised).Select(e => e.Chair).ToList();
        Assert.Equal(chairs.Where((_, i) => i % 3 == 0).Order(StringComparer.Ordinal), raised.Order(StringComparer.Ordinal));
    }
}
