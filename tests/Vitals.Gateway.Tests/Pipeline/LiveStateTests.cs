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
}
