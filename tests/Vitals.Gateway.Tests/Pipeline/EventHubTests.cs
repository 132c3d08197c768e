using System.Net.ServerSentEvents;

namespace Vitals.Gateway.Tests.Pipeline;

/// <summary>
/// The dashboard stream's fan-out: nothing falls between snapshot and stream; a slow browser gets the newest state of
/// each chair instead of every one, every alarm event in order, and is cut off with a reason rather than fed gaps.
/// </summary>
public sealed class EventHubTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Subscribe_EventPublishedWhileTheSnapshotIsTaken_FollowsTheSnapshot()
    {
        var hub = new EventHub(TestJson.Options);
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
        var hub = new EventHub(TestJson.Options);
        using var cts = new CancellationTokenSource(Generous);
        var stream = hub.Subscribe(() => new SseItem<string>("{}", "snapshot"), cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await stream.MoveNextAsync()); // registered, snapshot read; now the browser stops reading

        var published = EventHub.SubscriberQueue + 10;
        for (var i = 0; i < published; i++)
        {
            hub.Publish("alarm", new { seq = i });
        }

        // What it gets is a gap-free prefix, then why it ends, then the end (the browser reconnects to a fresh snapshot).
        var received = new List<SseItem<string>>();
        while (await stream.MoveNextAsync())
        {
            received.Add(stream.Current);
        }

        Assert.False(cts.IsCancellationRequested, "the stream should end by itself, not by the test's timeout");
        Assert.Equal(Enumerable.Range(0, EventHub.SubscriberQueue).Select(i => $$"""{"seq":{{i}}}"""), received.SkipLast(1).Select(e => e.Data));
        Assert.Equal(EventHub.ClosedEvent, received[^1].EventType);
        Assert.Contains("fell more than 2048 events behind", received[^1].Data, StringComparison.Ordinal);
        Assert.Equal(1, hub.Overflows);
        Assert.Equal(0, hub.SubscriberCount);
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task PublishLatest_SlowSubscriberUnderAStateFlood_GetsEveryAlarmInOrderAndTheNewestStateOfEachChair()
    {
        var hub = new EventHub(TestJson.Options);
        using var cts = new CancellationTokenSource(Generous);
        var stream = hub.Subscribe(() => new SseItem<string>("{}", "snapshot"), cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await stream.MoveNextAsync()); // the browser stops reading here

        // 5,000 chair states per "second" for 4 s (100 chairs), an alarm transition every 500 states: far more than the queue.
        const int states = 20_000;
        var alarms = new List<int>();
        for (var i = 0; i < states; i++)
        {
            hub.PublishLatest("chair", $"c{i % 100}", new { chair = $"c{i % 100}", seq = i });
            if (i % 500 == 0)
            {
                hub.Publish("alarm", new { seq = i });
                alarms.Add(i);
            }
        }

        hub.Publish("alarm", new { seq = -1 }); // the last event
        var received = new List<SseItem<string>>();
        while (await stream.MoveNextAsync())
        {
            received.Add(stream.Current);
            if (stream.Current.Data == """{"seq":-1}""")
            {
                break;
            }
        }

        // Every alarm, in order; each chair once, with its newest state; the stream still open (nothing closed, no overflow).
        Assert.Equal([.. alarms.Select(i => $$"""{"seq":{{i}}}"""), """{"seq":-1}"""], received.Where(e => e.EventType == "alarm").Select(e => e.Data));
        var chairs = received.Where(e => e.EventType == "chair").Select(e => e.Data).ToList();
        Assert.Equal(100, chairs.Count);
        Assert.Equal(Enumerable.Range(0, 100).Select(c => $$"""{"chair":"c{{c}}","seq":{{states - 100 + c}}}""").Order(), chairs.Order());
        Assert.DoesNotContain(received, e => e.EventType == EventHub.ClosedEvent);
        Assert.Equal(0, hub.Overflows);
        Assert.Equal(states - 100, hub.Coalesced);
        Assert.Equal(1, hub.SubscriberCount);

        hub.Publish("alarm", new { seq = -2 });
        Assert.True(await stream.MoveNextAsync());
        Assert.Equal("""{"seq":-2}""", stream.Current.Data);
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task PublishLatest_SubscriberThatReads_GetsEveryStateInOrder()
    {
        var hub = new EventHub(TestJson.Options);
        using var cts = new CancellationTokenSource(Generous);
        var stream = hub.Subscribe(() => new SseItem<string>("{}", "snapshot"), cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await stream.MoveNextAsync());

        // Coalescing only replaces what is still queued: a browser that keeps up sees every state.
        for (var i = 0; i < 3; i++)
        {
            hub.PublishLatest("chair", "c1", new { seq = i });
            Assert.True(await stream.MoveNextAsync());
            Assert.Equal($$"""{"seq":{{i}}}""", stream.Current.Data);
        }

        Assert.Equal(0, hub.Coalesced);
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task PublishLatest_SiteStateQueuedAfterItsChair_LaterChairStateQueuesBehindIt()
    {
        var hub = new EventHub(TestJson.Options);
        using var cts = new CancellationTokenSource(Generous);
        var stream = hub.Subscribe(() => new SseItem<string>("{}", "snapshot"), cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await stream.MoveNextAsync()); // the browser stops reading

        // A chair state, its site's state (which holds the chair as it is then), then a newer chair state: replacing the
        // queued chair state in place would hand the browser the newest chair first and the older copy in the site last.
        hub.PublishLatest("chair", "north/c1", new { v = 1 });
        hub.PublishLatest("chair", "south/c1", new { v = 1 });
        hub.PublishLatest("site", "north", new { c1 = 2 });
        hub.PublishLatest("chair", "north/c1", new { v = 3 });
        hub.PublishLatest("chair", "north/c1", new { v = 4 });
        hub.PublishLatest("chair", "south/c1", new { v = 2 });
        hub.Publish("alarm", new { end = true });

        var received = new List<string>();
        while (await stream.MoveNextAsync() && stream.Current.EventType != "alarm")
        {
            received.Add($"{stream.Current.EventType} {stream.Current.Data}");
        }

        Assert.Equal(["chair {\"v\":1}", "chair {\"v\":2}", "site {\"c1\":2}", "chair {\"v\":4}"], received);
        Assert.Equal(2, hub.Coalesced);
        await stream.DisposeAsync();
    }
}
