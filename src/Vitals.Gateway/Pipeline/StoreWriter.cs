using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Pipeline;

/// <summary>
/// Moves pipeline output to disk in batches, off the alarm path: the pipeline and the alarm dispatcher only enqueue.
/// Readings are bounded (a full queue makes feeds wait); event-log entries and saved settings never wait, so a slow
/// or locked disk never holds up an alarm. On shutdown everything queued is written before the store closes.
/// As an <see cref="IReadingStore"/> it tells feeds that acknowledge readings (HL7 AA) when a reading is committed: each
/// batch is one transaction (a group commit across every connection and feed), and waiters are released after it.
/// </summary>
public sealed partial class StoreWriter(SqliteStore store, TimeProvider time, LoopSupervisor supervisor, ILogger<StoreWriter> logger)
    : BackgroundService, IReadingStore
{
    /// <summary>Observations written per transaction at most.</summary>
    public const int MaxBatch = 5000;

    /// <summary>Readings queued before feeds wait.</summary>
    public const int ObservationCapacity = 100_000;

    private readonly Channel<object> queue = Channel.CreateUnbounded<object>(); // not SingleReader: that one cannot count Pending
    private readonly SemaphoreSlim observationRoom = new(ObservationCapacity, ObservationCapacity);

    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    // Fields, not locals: a loop restarted by the supervisor retries what the failed one held.
    private readonly List<Observation> batch = new(MaxBatch);
    private readonly List<EventEntry> events = [];
    private readonly Dictionary<string, ConfigEntry> settings = new(StringComparer.Ordinal);

    // Readings a feed waits on (by reference: two equal readings are still two rows), released once committed.
    private readonly ConcurrentDictionary<Observation, TaskCompletionSource> watched = new(ReferenceEqualityComparer.Instance);

    private long written;
    private volatile string? failure;

    /// <summary>Observations written since start.</summary>
    public long Written => Interlocked.Read(ref written);

    /// <summary>Why the last write failed, while writes are failing; null when healthy.</summary>
    public string? Failure => failure;

    /// <summary>Observations and events waiting to be written.</summary>
    public int Pending => queue.Reader.Count;

    /// <summary>Queues observations for the store; waits while <see cref="ObservationCapacity"/> readings are queued.</summary>
    public async ValueTask EnqueueAsync(Observation o, CancellationToken ct)
    {
        await observationRoom.WaitAsync(ct).ConfigureAwait(false);
        if (!queue.Writer.TryWrite(o))
        {
            observationRoom.Release();
            throw new ChannelClosedException();
        }
    }

    /// <inheritdoc />
    public Task WhenStored(Observation last) =>
        watched.GetOrAdd(last, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <inheritdoc />
    public void Forget(Observation last) => watched.TryRemove(last, out _);

    /// <summary>
    /// The pipeline replaced <paramref name="original"/> (a wrongly dated reading, re-stamped by <see cref="DeviceClocks"/>):
    /// a feed waiting on the original is released when the replacement is committed.
    /// </summary>
    public void Replaced(Observation original, Observation replacement)
    {
        if (watched.TryRemove(original, out var waiter))
        {
            watched[replacement] = waiter;
        }
    }

    /// <summary>Queues an alarm transition for the event log.</summary>
    public ValueTask EnqueueAsync(AlarmEvent e, CancellationToken ct) =>
        TryEnqueueEvent(SqliteStore.AlarmEventType, e.At, e.Chair, JsonSerializer.Serialize(e, Json.Options)) ? ValueTask.CompletedTask : throw new ChannelClosedException();

    /// <summary>Queues an event-log entry (JSON <paramref name="data"/>) without waiting; false once the writer has stopped.</summary>
    public bool TryEnqueueEvent(string type, DateTimeOffset at, string? chair, string data) => queue.Writer.TryWrite(new EventEntry(type, at, chair, data));

    /// <summary>Queues a setting to save without waiting (only the latest value per key is written); false once stopped.</summary>
    public bool TryEnqueueConfig(string key, string value, DateTimeOffset at) => queue.Writer.TryWrite(new ConfigEntry(key, value, at));

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => supervisor.RunAsync("store.writer", _ => WriteAllAsync(), stoppingToken);

    private async Task WriteAllAsync()
    {
        // Not tied to stoppingToken: the loop ends when StopAsync completes the queue, after draining it.
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var item))
            {
                switch (item)
                {
                    case Observation o:
                        batch.Add(o);
                        observationRoom.Release();
                        break;
                    case EventEntry e:
                        events.Add(e);
                        break;
                    case ConfigEntry c:
                        settings[c.Key] = c;
                        break;
                }
            }

            // A failed write keeps its batch and retries: the store is the primary history, nothing is dropped.
            while (!TryFlush())
            {
                await Task.Delay(RetryAfter, time, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private bool TryFlush()
    {
        try
        {
            // One transaction per run of one type, removed once written: a retry writes each entry once, in order.
            while (events.Count > 0)
            {
                var run = events.TakeWhile(e => e.Type == events[0].Type).ToList();
                store.AppendEvents(run[0].Type, [.. run.Select(e => (e.At, e.Chair, e.Data))]);
                events.RemoveRange(0, run.Count);
            }

            if (batch.Count > 0)
            {
                store.Append(batch);
                Interlocked.Add(ref written, batch.Count);
                ReleaseWaiters(batch);
                batch.Clear();
            }

            foreach (var c in settings.Values.ToList())
            {
                store.SetConfig(c.Key, c.Value, c.At);
                settings.Remove(c.Key);
            }

            failure = null;
            return true;
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
        {
            if (failure is null)
            {
                LogStoreFailed(logger, e);
            }

            failure = e.Message;
            return false;
        }
    }

    private void ReleaseWaiters(List<Observation> committed)
    {
        if (watched.IsEmpty)
        {
            return;
        }

        foreach (var o in committed)
        {
            if (watched.TryRemove(o, out var waiter))
            {
                waiter.TrySetResult();
            }
        }
    }

    private sealed record EventEntry(string Type, DateTimeOffset At, string? Chair, string Data);

    private sealed record ConfigEntry(string Key, string Value, DateTimeOffset At);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Critical, Message = "Writing to the embedded store failed; retrying every second and holding readings in memory")]
    private static partial void LogStoreFailed(ILogger logger, Exception e);
}
