using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Pipeline;

/// <summary>
/// Moves pipeline output to disk in batches, off the alarm path: the pipeline only enqueues.
/// On shutdown everything queued is written before the store closes.
/// As an <see cref="IReadingStore"/> it tells feeds that acknowledge readings (HL7 AA) when a reading is committed: each
/// batch is one transaction (a group commit across every connection and feed), and waiters are released after it.
/// </summary>
public sealed partial class StoreWriter(SqliteStore store, TimeProvider time, ILogger<StoreWriter> logger) : BackgroundService, IReadingStore
{
    /// <summary>Observations written per transaction at most.</summary>
    public const int MaxBatch = 5000;

    private readonly Channel<object> queue = Channel.CreateBounded<object>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

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

    /// <summary>Queues observations for the store.</summary>
    public ValueTask EnqueueAsync(Observation o, CancellationToken ct) => queue.Writer.WriteAsync(o, ct);

    /// <inheritdoc />
    public Task WhenStored(Observation last) =>
        watched.GetOrAdd(last, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <inheritdoc />
    public void Forget(Observation last) => watched.TryRemove(last, out _);

    /// <summary>Queues an alarm transition for the event log.</summary>
    public ValueTask EnqueueAsync(AlarmEvent e, CancellationToken ct) => queue.Writer.WriteAsync(e, ct);

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Observation>(MaxBatch);
        var events = new List<AlarmEvent>();

        // Not tied to stoppingToken: the loop ends when StopAsync completes the queue, after draining it.
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var item))
            {
                if (item is Observation o)
                {
                    batch.Add(o);
                }
                else if (item is AlarmEvent e)
                {
                    events.Add(e);
                }
            }

            // A failed write keeps its batch and retries: the store is the primary history, nothing is dropped.
            while (!TryFlush(batch, events))
            {
                await Task.Delay(RetryAfter, time, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private bool TryFlush(List<Observation> batch, List<AlarmEvent> events)
    {
        try
        {
            // One transaction: a failed write keeps every event for the retry, a successful one stores each once.
            store.AppendEvents(SqliteStore.AlarmEventType, [.. events.Select(e => (e.At, (string?)e.Chair, JsonSerializer.Serialize(e, Json.Options)))]);
            events.Clear();
            if (batch.Count > 0)
            {
                store.Append(batch);
                Interlocked.Add(ref written, batch.Count);
                ReleaseWaiters(batch);
                batch.Clear();
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

    [LoggerMessage(EventId = 3001, Level = LogLevel.Critical, Message = "Writing to the embedded store failed; retrying every second and holding readings in memory")]
    private static partial void LogStoreFailed(ILogger logger, Exception e);
}
