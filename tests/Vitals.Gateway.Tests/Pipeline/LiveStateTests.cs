using Microsoft.Extensions.Time.Testing;
using Vitals.Core;
using Vitals.Gateway.Pipeline;

namespace Vitals.Gateway.Tests.Pipeline;

/// <summary>The chairs' latest values and feeds as the API, the dashboard and the MQTT state publisher read them.</summary>
public sealed class LiveStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 11, 0, 0, TimeSpan.Zero);

    private static Observation Reading(string chair, Sign sign, double value, int second, ObservationQuality quality = ObservationQuality.Ok) =>
        new("clinic", chair, "dev-" + chair, sign, value, T0.AddSeconds(second), T0.AddSeconds(second).AddMilliseconds(20), SourceProtocol.Mqtt, quality);

    [Fact]
    public void Snapshot_AfterReadings_ShowsEachSignsLatestValueAndStaysAsTaken()
    {
        var live = new LiveState([("bed-1", "Bed 1")], new FeedRegistry());
        live.Apply(Reading("bed-1", Sign.Hr, 72, 0));
        live.Apply(Reading("bed-1", Sign.Spo2, 97, 0));
        live.Apply(Reading("bed-1", Sign.Hr, 130, 1, ObservationQuality.Questionable));

        var taken = live.Snapshot("bed-1")!;
        live.Apply(Reading("bed-1", Sign.Hr, 80, 2)); // after the snapshot: not in it

        Assert.Equal(new LatestValue(130, "/min", T0.AddSeconds(1), ObservationQuality.Questionable), taken.Values[Sign.Hr]);
        Assert.Equal(new LatestValue(97, "%", T0, ObservationQuality.Ok), taken.Values[Sign.Spo2]);
        Assert.Equal(80, live.Snapshot("bed-1")!.Values[Sign.Hr].Value);
    }

    [Fact]
    public void SnapshotOfOneChair_ListsOnlyThatChairsFeeds()
    {
        var feeds = new FeedRegistry();
        for (var i = 0; i < 3; i++)
        {
            feeds.Register($"bed-{i}", $"mq-{i}", "mqtt").FrameOk(T0, 40 + i);
        }

        var live = new LiveState([("bed-0", "Bed 0"), ("bed-1", "Bed 1"), ("bed-2", "Bed 2")], feeds);

        var feed = Assert.Single(live.Snapshot("bed-1")!.Feeds);
        Assert.Equal(("bed-1", "mq-1", 41L), (feed.Chair, feed.Device, feed.Bytes));
        Assert.Equal(["mq-0", "mq-1", "mq-2"], live.Snapshot().SelectMany(c => c.Feeds).Select(f => f.Device));
    }

    /// <summary>
    /// Live state keeps each chair's latest readings in arrays by sign, found by the identity of the chair string: against
    /// a model of the dictionaries it replaced, over random readings (copies of chair strings, unknown chairs, every sign)
    /// and wall-clock steps both ways, every snapshot lists the same values in the same order and the same stale signs.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomReadingsAndClockSteps_SnapshotsAsTheDictionaryModel(int seed)
    {
        var random = new Random(seed);
        var time = new FakeTimeProvider(T0);
        var chairs = Enumerable.Range(0, 6).Select(i => "bed-" + i).ToArray();
        var live = new LiveState(chairs.Select(c => (c, c.ToUpperInvariant())), new FeedRegistry(), new StalePolicy(), time);
        var policy = new StalePolicy();
        var latest = chairs.ToDictionary(c => c, _ => new Dictionary<Sign, Observation>());
        var received = chairs.ToDictionary(c => c, _ => new Dictionary<Sign, DateTimeOffset>());
        var signs = Enum.GetValues<Sign>();

        for (var i = 0; i < 3_000; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(random.Next(0, 2_000)));
            var now = time.GetUtcNow();
            if (random.Next(200) == 0)
            {
                var step = new WallClockStep(TimeSpan.FromSeconds(random.Next(2) == 0 ? -30 : 3_600), now);
                live.ClockStepped(step);
                foreach (var times in received.Values)
                {
                    foreach (var (sign, at) in times.Where(r => step.IsBefore(r.Value)).ToList())
                    {
                        times[sign] = at + step.By;
                    }
                }
            }

            var chair = random.Next(8) switch
            {
                0 => "bed-unknown",
                1 => new string(chairs[random.Next(chairs.Length)].AsSpan()),
                _ => chairs[random.Next(chairs.Length)],
            };
            var o = new Observation("clinic", chair, "dev", signs[random.Next(signs.Length)], random.Next(300), now.AddSeconds(-random.Next(5)), now, SourceProtocol.Mqtt);
            live.Apply(o);
            if (latest.TryGetValue(chair, out var values))
            {
                values[o.Sign] = o;
                received[chair][o.Sign] = o.ReceivedAt;
            }

            var look = chairs[random.Next(chairs.Length)];
            var view = live.Snapshot(look)!;
            Assert.Equal(latest[look].Keys, view.Values.Keys);
            Assert.Equal(latest[look].Values.Select(v => new LatestValue(v.Value, v.Unit, v.MeasuredAt, v.Quality)), view.Values.Values);
            Assert.Equal(policy.Evaluate(received[look], time.GetUtcNow()), view.StaleSigns);
            Assert.Equal(view.StaleSigns, live.StaleSigns(look));
        }

        Assert.Null(live.Snapshot("bed-unknown"));
    }
}
