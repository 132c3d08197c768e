using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Threading.Channels;
using Vitals.Storage;

namespace Vitals.Web;

/// <summary>
/// Fans pipeline output out to dashboard streams. Each subscriber has its own bounded queue, so a browser too slow to
/// keep up never slows the pipeline or other browsers. Two kinds of events:
/// <list type="bullet">
/// <item>events that must each arrive, in order (<see cref="Publish{T}"/>: alarms, alarm lists, log entries): never dropped;</item>
/// <item>state where only the latest counts (<see cref="PublishLatest{T}"/>: a chair's or site's current view, the
/// heartbeat): a newer one replaces the one still queued under the same key, so a state flood costs a slow browser one
/// queued event per chair instead of pushing it off the stream.</item>
/// </list>
/// A subscriber that still falls <see cref="SubscriberQueue"/> ordered events behind gets a last <c>closed</c> event
/// with the reason, after everything queued before it, and its stream ends: the page shows the reason and reconnects
/// (EventSource does so by itself) to a fresh snapshot. It never silently misses an alarm event.
/// </summary>
public sealed class EventHub
{
    /// <summary>Queued ordered events per subscriber before its stream is closed.</summary>
    public const int SubscriberQueue = 2048;

    /// <summary>Distinct latest-wins keys queued per subscriber before its stream is closed (far above any chair count).</summary>
    public const int SubscriberKeys = 65_536;

    /// <summary>Event type of the last event of a stream closed for falling behind; its data is <see cref="StreamClosed"/>.</summary>
    public const string ClosedEvent = "closed";

    private readonly Lock gate = new();
    private readonly JsonSerializerOptions json;
    private List<Subscriber> subscribers = [];
    private long overflows;
    private long coalesced;

    /// <summary>A hub writing events with <paramref name="json"/> (a host's options with its own generated metadata); <see cref="Json.Options"/> by default.</summary>
    public EventHub(JsonSerializerOptions? json = null) => this.json = json ?? Json.Options;

    /// <summary>Number of connected streams.</summary>
    public int SubscriberCount => Volatile.Read(ref subscribers).Count;

    /// <summary>Streams closed since start because their browser could not keep up.</summary>
    public long Overflows => Interlocked.Read(ref overflows);

    /// <summary>Queued latest-wins events replaced by a newer one before a slow browser read them, since start.</summary>
    public long Coalesced => Interlocked.Read(ref coalesced);

    /// <summary>Sends <paramref name="payload"/> as an SSE event of type <paramref name="eventType"/> to every subscriber; never dropped.</summary>
    public void Publish<T>(string eventType, T payload) => Send(eventType, null, payload);

    /// <summary>
    /// Sends <paramref name="payload"/>, the whole current state of <paramref name="key"/> (one chair, one site), to every
    /// subscriber; one that has not read the previous event of the same type and key yet gets this one in its place.
    /// Keys nest with <c>/</c>: an event for <c>north</c> (a site, with its chairs) is newer than every queued event
    /// under <c>north/</c> (its chairs), so those keep their content and place, and a later one queues behind it instead
    /// of replacing them: a slow subscriber never gets a chair's state ahead of an older site state that holds it.
    /// </summary>
    public void PublishLatest<T>(string eventType, string key, T payload)
    {
        ArgumentNullException.ThrowIfNull(key);
        Send(eventType, key, payload);
    }

    private void Send<T>(string eventType, string? key, T payload)
    {
        var current = Volatile.Read(ref subscribers);
        if (current.Count == 0)
        {
            return;
        }

        var item = new SseItem<string>(JsonSerializer.Serialize(payload, json.TypeInfo<T>()), eventType);
        foreach (var s in current)
        {
            switch (s.Offer(item, key))
            {
                case Offered.Coalesced:
                    Interlocked.Increment(ref coalesced);
                    break;
                case Offered.Overflowed:
                    Interlocked.Increment(ref overflows);
                    break;
            }
        }
    }

    /// <summary>
    /// Yields <paramref name="snapshot"/>, then every event published since it was taken (latest-wins ones possibly
    /// replaced by newer ones), until <paramref name="ct"/> is cancelled or the subscriber falls too far behind (then a
    /// <see cref="ClosedEvent"/> ends it). The subscriber is registered before the snapshot is taken, so nothing falls
    /// between them (an event may arrive that the snapshot already shows).
    /// </summary>
    public async IAsyncEnumerable<SseItem<string>> Subscribe(
        Func<SseItem<string>> snapshot, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var subscriber = new Subscriber();
        lock (gate)
        {
            subscribers = [.. subscribers, subscriber];
        }

        try
        {
            yield return snapshot();
            while (true)
            {
                while (subscriber.TryTake(out var item))
                {
                    yield return item;
                }

                if (subscriber.Ended || !await subscriber.WaitAsync(ct).ConfigureAwait(false))
                {
                    yield break;
                }
            }
        }
        finally
        {
            lock (gate)
            {
                subscribers = [.. subscribers.Where(s => s != subscriber)];
            }
        }
    }

    private enum Offered
    {
        Queued,
        Coalesced,
        Overflowed,
        Refused,
    }

    /// <summary>One stream's queue: ordered events, and latest-wins slots that keep their place while their content is replaced.</summary>
    private sealed class Subscriber
    {
        private readonly Lock queueGate = new();
        private readonly Queue<Slot> queue = new();

        // Event type + key -> its replaceable queued slot.
        private readonly Dictionary<string, Slot> latest = new(StringComparer.Ordinal);

        // Key "north" -> the replaceable queued slots of keys "north/...", so sealing costs the chairs of one site, not a scan.
        private readonly Dictionary<string, HashSet<Slot>> children = new(StringComparer.Ordinal);

        // Holds at most one pending wake-up: an offer while the reader is busy makes its next wait return at once.
        private readonly Channel<bool> signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        private int ordered;
        private bool closed;

        /// <summary>True once the stream was closed and everything queued before the close has been taken.</summary>
        public bool Ended
        {
            get
            {
                lock (queueGate)
                {
                    return closed && queue.Count == 0;
                }
            }
        }

        /// <summary>Waits for the next offer; false when <paramref name="ct"/> ends the stream (browser gone, host stopping).</summary>
        public async ValueTask<bool> WaitAsync(CancellationToken ct)
        {
            try
            {
                await signal.Reader.ReadAsync(ct).ConfigureAwait(false);
                return true;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return false;
            }
        }

        public Offered Offer(SseItem<string> item, string? key)
        {
            var result = Offered.Queued;
            lock (queueGate)
            {
                if (closed)
                {
                    return Offered.Refused;
                }

                var identity = key is null ? null : item.EventType + "\n" + key;
                if (identity is not null && latest.TryGetValue(identity, out var slot))
                {
                    slot.Item = item;
                    result = Offered.Coalesced;
                }
                else if (key is null ? ordered >= SubscriberQueue : latest.Count >= SubscriberKeys)
                {
                    // Everything queued so far still goes out, then the reason; the page reconnects to a fresh snapshot.
                    var reason = $"This display fell more than {(key is null ? $"{SubscriberQueue} events" : $"{SubscriberKeys} chair states")} behind the server, "
                        + "so its stream was closed instead of skipping any alarm event. It reconnects and reloads every site.";
                    queue.Enqueue(new Slot(new SseItem<string>(JsonSerializer.Serialize(new StreamClosed(reason), Json.Options.TypeInfo<StreamClosed>()), ClosedEvent), null, null));
                    closed = true;
                    result = Offered.Overflowed;
                }
                else if (key is null)
                {
                    queue.Enqueue(new Slot(item, null, null));
                    ordered++;
                }
                else
                {
                    Seal(key);
                    var parent = key.LastIndexOf('/') is > 0 and var slash ? key[..slash] : null;
                    slot = new Slot(item, identity, parent);
                    queue.Enqueue(slot);
                    latest[identity!] = slot;
                    if (parent is not null)
                    {
                        if (!children.TryGetValue(parent, out var siblings))
                        {
                            children[parent] = siblings = [];
                        }

                        siblings.Add(slot);
                    }
                }
            }

            signal.Writer.TryWrite(true);
            return result;
        }

        public bool TryTake(out SseItem<string> item)
        {
            lock (queueGate)
            {
                if (!queue.TryDequeue(out var slot))
                {
                    item = default;
                    return false;
                }

                if (slot.Identity is null || slot.Sealed)
                {
                    ordered = Math.Max(0, ordered - 1);
                }
                else
                {
                    latest.Remove(slot.Identity);
                    if (slot.Parent is { } parent && children.TryGetValue(parent, out var siblings) && siblings.Remove(slot) && siblings.Count == 0)
                    {
                        children.Remove(parent);
                    }
                }

                item = slot.Item;
                return true;
            }
        }

        /// <summary>
        /// Queued latest-wins events of keys <c><paramref name="key"/>/...</c> stay as they are, newer ones queue behind
        /// the event of <paramref name="key"/> being queued; they now count as ordered events.
        /// </summary>
        private void Seal(string key)
        {
            if (!children.Remove(key, out var under))
            {
                return;
            }

            foreach (var child in under)
            {
                latest.Remove(child.Identity!);
                child.Sealed = true;
                ordered++;
            }
        }
    }

    private sealed class Slot(SseItem<string> item, string? identity, string? parent)
    {
        public SseItem<string> Item { get; set; } = item;

        /// <summary>Event type and key of a latest-wins event; null for an ordered one.</summary>
        public string? Identity { get; } = identity;

        /// <summary>The enclosing key (<c>north</c> of <c>north/c1</c>), if any.</summary>
        public string? Parent { get; } = parent;

        /// <summary>No longer replaceable: an event of its enclosing key is queued behind it.</summary>
        public bool Sealed { get; set; }
    }
}

/// <summary>Data of the <see cref="EventHub.ClosedEvent"/> that ends a stream which fell behind: why, in words for the page.</summary>
public sealed record StreamClosed(string Reason);
