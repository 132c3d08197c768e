using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Threading.Channels;

namespace Vitals.Web;

/// <summary>
/// Fans pipeline output out to dashboard streams. Each subscriber has its own bounded queue. A browser too slow to
/// keep up never slows the pipeline or other browsers, and never silently misses an alarm event either: when its
/// queue is full its stream ends, and the browser reconnects (EventSource does so by itself) to a fresh snapshot.
/// </summary>
public sealed class EventHub
{
    /// <summary>Queued events per subscriber before its stream is ended.</summary>
    public const int SubscriberQueue = 2048;

    private readonly Lock gate = new();
    private List<Channel<SseItem<string>>> subscribers = [];
    private long overflows;

    /// <summary>Number of connected streams.</summary>
    public int SubscriberCount => Volatile.Read(ref subscribers).Count;

    /// <summary>Streams ended since start because their browser could not keep up.</summary>
    public long Overflows => Interlocked.Read(ref overflows);

    /// <summary>Sends <paramref name="payload"/> as an SSE event of type <paramref name="eventType"/> to every subscriber.</summary>
    public void Publish<T>(string eventType, T payload)
    {
        var current = Volatile.Read(ref subscribers);
        if (current.Count == 0)
        {
            return;
        }

        var item = new SseItem<string>(JsonSerializer.Serialize(payload, Json.Options), eventType);
        foreach (var s in current)
        {
            if (!s.Writer.TryWrite(item) && s.Writer.TryComplete())
            {
                Interlocked.Increment(ref overflows);
            }
        }
    }

    /// <summary>
    /// Yields <paramref name="snapshot"/>, then every event published since it was taken, until <paramref name="ct"/>
    /// is cancelled or the subscriber falls <see cref="SubscriberQueue"/> events behind. The subscriber is registered
    /// before the snapshot is taken, so nothing falls between them (an event may arrive that the snapshot already shows).
    /// </summary>
    public async IAsyncEnumerable<SseItem<string>> Subscribe(
        Func<SseItem<string>> snapshot, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var channel = Channel.CreateBounded<SseItem<string>>(
            new BoundedChannelOptions(SubscriberQueue) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        lock (gate)
        {
            subscribers = [.. subscribers, channel];
        }

        try
        {
            yield return snapshot();
            while (await channel.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var item))
                {
                    yield return item;
                }
            }
        }
        finally
        {
            lock (gate)
            {
                subscribers = [.. subscribers.Where(s => s != channel)];
            }
        }
    }
}
