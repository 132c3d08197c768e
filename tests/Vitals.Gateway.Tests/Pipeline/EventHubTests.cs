using System.Net.ServerSentEvents;

namespace Vitals.Gateway.Tests.Pipeline;

/// <summary>The dashboard stream's fan-out: nothing falls between snapshot and stream, and a slow browser is cut off, not fed gaps.</summary>
public sealed class EventHubTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Subscribe_EventPublishedWhileTheSnapshotIsTaken_FollowsTheSnapshot()
    {
        var hub = new EventHub();
        using var cts = new CancellationTokenSource(Generous);

        // The snapshot is taken while an alarm transition is dispatched: it reflects the state before the transition.
        var stream = hub.Subscribe(
            () =>
            {
                var snapshot = new SseItem<string>("{}", "snapshot");
                hub.Publish("alarm", new { rule = "hr.low", state = "raised" });
                return snapshot;
            },
            cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.True(await stream.MoveNextAsync());
        Assert.Equal("snapshot", stream.Current.EventType);
        Assert.True(await stream.MoveNextAsync());
        Assert.Equal("alarm", stream.Current.EventType);
        Assert.Contains("hr.low", stream.Current.Data, StringComparison.Ordinal);
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task Publish_SubscriberFallsAQueueBehind_StreamEndsAfterEveryQueuedEventInsteadOfDroppingAny()
    {
        var hub = new EventHub();
        using var cts = new CancellationTokenSource(Generous);
        var stream = hub.Subscribe(() => new SseItem<string>("{}", "snapshot"), cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await stream.MoveNextAsync()); // registered, snapshot read; now the browser stops reading

        var published = EventHub.SubscriberQueue + 10;
        for (var i = 0; i < published; i++)
        {
            hub.Publish("alarm", new { seq = i });
        }

        // What it gets is a gap-free prefix, then the end of the stream (the browser reconnects to a fresh snapshot).
        var received = new List<string>();
        while (await stream.MoveNextAsync())
        {
            received.Add(stream.Current.Data);
        }

        Assert.False(cts.IsCancellationRequested, "the stream should end by itself, not by the test's timeout");
        Assert.Equal(Enumerable.Range(0, EventHub.SubscriberQueue).Select(i => $$"""{"seq":{{i}}}"""), received);
        Assert.Equal(1, hub.Overflows);
        Assert.Equal(0, hub.SubscriberCount);
        await stream.DisposeAsync();
    }
}
