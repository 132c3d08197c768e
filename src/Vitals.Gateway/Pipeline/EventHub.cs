using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Threading.Channels;

namespace Vitals.Gateway.Pipeline;

/// <summary>
/// Fans pipeline output out to dashboard streams. Each subscriber has its own bounded queue; a slow browser
/// loses its oldest updates rather than slowing the pipeline or other browsers.
/// </summary>
public sealed class EventHub
{
    /// <summary>Queued events per subscriber before the oldest are dropped.</summary>
    public const int SubscriberQueue = 2048;

    private readonly Lock gate = new();
    private List<Channel<SseItem<string>>> subscribers = [];

    /// <summary>Number of connected streams.</summary>
    public int SubscriberCount => Volatile.Read(ref subscribers).Count;

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
            s.Writer.TryWrite(item);
        }
    }

    /// <summary>Yields events until <paramref name="ct"/> is cancelled, starting with <paramref name="first"/>.</summary>
    public async IAsyncEnumerable<SseItem<string>> Subscribe(
        SseItem<string> first, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var channel = Channel.CreateBounded<SseItem<string>>(
            new BoundedChannelOptions(SubscriberQueue) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (gate)
        {
            subscribers = [.. subscribers, channel];
        }

        try
        {
            yield return first;
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
