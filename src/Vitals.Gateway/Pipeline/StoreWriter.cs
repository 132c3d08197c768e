using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Storage;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Pipeline;

/// <summary>
/// Moves pipeline output to disk in batches, off the alarm path: the pipeline and the alarm dispatcher only enqueue.
/// Readings are bounded (a full queue makes feeds wait); event-log entries and saved settings never wait, so a slow
/// or locked disk never holds up an alarm. On shutdown everything queued is written before the store closes.
/// As an <see cref="IReadingStore"/> it tells feeds that acknowledge readings (HL7 AA) when a reading is committed: each
/// batch is one transaction (a group commit across every connection and feed), and waiters are released after it.
/// While writes fail, readings are held in memory up to <paramref name="capacity"/>; past that they are not recorded
/// (counted in <see cref="NotRecorded"/>) rather than making feeds wait, because a feed that waits is a feed whose
/// readings are no longer judged: alarms come before history.
/// </summary>
public sealed partial class StoreWriter(
    SqliteStore store, TimeProvider time, LoopSupervisor supervisor, ILogger<StoreWriter> logger, int capacity = StoreWriter.ObservationCapacity)
    : BackgroundService, IReadingStore
{
    /// <summary>
    /// Observations taken into one transaction before it is written; the pipeline's batch that crosses it is taken
    /// whole, so a transaction holds at most this plus <see cref="ObservationPipeline.MaxBatch"/> - 1.
    /// </summary>
    public const int MaxBatch = 5000;

    /// <summary>
    /// Readings queued before feeds wait for room while the store is writing (a slow disk holds feeds back, it loses
    /// nothing), or before readings are not recorded while writes fail (see <see cref="NotRecorded"/>).
    /// </summary>
    public const int ObservationCapacity = 100_000;

    /// <summary>
    /// Under sustained load a commit waits until this long after the previous one, so readings arriving meanwhile share
    /// its transaction. Every commit rewrites into the WAL each page it touched, and the history index (then
    /// <c>(chair, measured_ms)</c>, since schema 6 <c>vitals_spans</c>) is touched at one page per chair, so small commits
    /// write the same pages again and again. Measured with
    /// <c>mqtt-ingest</c> (50 chairs, 2 warm rounds of 200k messages): commits of ~750 rows, WAL <c>pwrite</c>s
    /// 177-204k -> 115k, checkpoint fsyncs 25 -> 15, the kernel's write time per message ~1.1 -> ~0.75 us.
    /// 50 ms instead of 20 (schema 5, one index page per chair still rewritten per commit): the store alone
    /// (<c>Vitals.Storage.Benchmarks -- append</c>) 3.3-3.6 -> 2.9 us CPU per frame for commits of 750 -> 1500 frames,
    /// and the shared harness 2.47-3.24 -> 2.35-2.68 CPU-s per 200k messages (3 alternating pairs, load 16-18).
    /// </summary>
    public static readonly TimeSpan GroupWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>A batch of at least this many readings is committed at once: waiting would add latency, not savings.</summary>
    public const int GroupTarget = 2000;

    private readonly Channel<object> queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });

    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    // Readings queued, not yet taken into a batch: feeds wait while ObservationCapacity are (see EnqueueAsync).
    private int queuedReadings;
    private int queuedOther; // event-log entries and settings, for Pending
    private TaskCompletionSource? roomWaiter;
    private TaskCompletionSource? holding; // set while the writer holds readings for the group window; completing it ends the wait

    private long lastCommit; // Stopwatch timestamp of the end of the last commit of readings (the writer loop's own)
    private volatile bool stopping;

    // Fields, not locals: a loop restarted by the supervisor retries what the failed one held.
    private readonly List<Observation> batch = new(MaxBatch);
    private readonly List<EventEntry> events = [];
    private readonly Dictionary<string, ConfigEntry> settings = new(StringComparer.Ordinal);

    // Readings a feed waits on (by reference: two equal readings are still two rows), released once committed.
    private readonly ConcurrentDictionary<Observation, TaskCompletionSource<bool>> watched = new(ReferenceEqualityComparer.Instance);

    private long written;
    private long notRecorded;
    private TaskCompletionSource failing = new(TaskCreationOptions.RunContinuationsAsynchronously); // completed while writes fail
    private int notRecordingLogged; // 1 once this run of failed writes has been logged as not recording
    private volatile string? failure;

    /// <summary>Observations written since start.</summary>
    public long Written => Interlocked.Read(ref written);

    /// <summary>Why the last write failed, while writes are failing; null when healthy.</summary>
    public string? Failure => failure;

    /// <summary>Readings judged but not recorded since start: they came while writes failed and the memory hold was full.</summary>
    public long NotRecorded => Interlocked.Read(ref notRecorded);

    /// <summary>
    /// Completes when writes start failing; already complete while they fail. A feed that must keep receiving while its
    /// acknowledgements wait on commits (MQTT: a broker stops sending after its in-flight limit, 20 by default in
    /// mosquitto) acknowledges held readings from then on instead of going silent.
    /// </summary>
    public Task WhenFailing => Volatile.Read(ref failing).Task;

    /// <summary>True while new readings are not recorded: writes are failing and the memory hold is full.</summary>
    public bool HoldFull => failure is not null && Volatile.Read(ref queuedReadings) >= capacity;

    /// <summary>Observations and events waiting to be written.</summary>
    public int Pending => Volatile.Read(ref queuedReadings) + Volatile.Read(ref queuedOther);

    /// <summary>
    /// Queues a batch of observations for the store, in order, as one queue entry (a copy: the caller may reuse its
    /// list). While the memory hold is full it waits for room as long as the store is writing, and does not record the
    /// batch once writes fail (see <see cref="NotRecorded"/>). One producer at a time (the pipeline). Per batch rather
    /// than per reading: a semaphore wait and a channel write per reading cost ~1.5 % of the hot path.
    /// </summary>
    public ValueTask EnqueueAsync(IReadOnlyList<Observation> readings, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(readings);
        if (readings.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        if (Volatile.Read(ref queuedReadings) < capacity)
        {
            return Write(readings);
        }

        if (failure is not null)
        {
            NotRecord(readings);
            return ValueTask.CompletedTask;
        }

        return WhenRoomThenWrite(readings, ct);
    }

    private ValueTask Write(IReadOnlyList<Observation> readings)
    {
        Interlocked.Add(ref queuedReadings, readings.Count);
        if (!queue.Writer.TryWrite(readings.ToArray()))
        {
            Interlocked.Add(ref queuedReadings, -readings.Count);
            throw new ChannelClosedException();
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask WhenRoomThenWrite(IReadOnlyList<Observation> readings, CancellationToken ct)
    {
        while (Volatile.Read(ref queuedReadings) >= capacity)
        {
            var room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref roomWaiter, room); // a full fence: the writer sees it, or we see its drain below
            if (Volatile.Read(ref queuedReadings) < capacity)
            {
                break;
            }

            if (failure is not null) // the writer released us on a failed write: no room is coming soon
            {
                NotRecord(readings);
                return;
            }

            await room.Task.WaitAsync(ct).ConfigureAwait(false);
        }

        await Write(readings).ConfigureAwait(false);
    }

    /// <summary>Counts readings the store will not keep and tells feeds waiting on any of them (an HL7 AE, not AA).</summary>
    private void NotRecord(IReadOnlyList<Observation> readings)
    {
        Interlocked.Add(ref notRecorded, readings.Count);
        if (Interlocked.Exchange(ref notRecordingLogged, 1) == 0)
        {
            LogNotRecorded(logger, capacity);
        }

        if (watched.IsEmpty)
        {
            return;
        }

        foreach (var o in readings)
        {
            if (watched.TryRemove(o, out var waiter))
            {
                waiter.TrySetResult(false);
            }
        }
    }

    /// <inheritdoc />
    public Task<bool> WhenStored(Observation last)
    {
        var stored = watched.GetOrAdd(last, _ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        Volatile.Read(ref holding)?.TrySetResult(); // a reading a feed waits on is not held for company
        return stored;
    }

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
        TryEnqueueEvent(SqliteStore.AlarmEventType, e.At, e.Chair, JsonSerializer.Serialize(e, Json.Options.TypeInfo<AlarmEvent>())) ? ValueTask.CompletedTask : throw new ChannelClosedException();

    /// <summary>Queues an event-log entry (JSON <paramref name="data"/>) without waiting; false once the writer has stopped.</summary>
    public bool TryEnqueueEvent(string type, DateTimeOffset at, string? chair, string data) => TryEnqueueOther(new EventEntry(type, at, chair, data));

    /// <summary>Queues a setting to save without waiting (only the latest value per key is written); false once stopped.</summary>
    public bool TryEnqueueConfig(string key, string value, DateTimeOffset at) => TryEnqueueOther(new ConfigEntry(key, value, at));

    private bool TryEnqueueOther(object entry)
    {
        Interlocked.Increment(ref queuedOther);
        if (queue.Writer.TryWrite(entry))
        {
            Volatile.Read(ref holding)?.TrySetResult(); // an event or setting is not held for company (see WaitForMore)
            return true;
        }

        Interlocked.Decrement(ref queuedOther);
        return false;
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true; // no more group-commit waits: drain and close
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
            Drain();
            if (WaitForMore() is { } wait)
            {
                // Held until the window ends, or until an event, a setting or a reading a feed waits on arrives. Published
                // before the re-check (a full fence), so an arrival either sees it or is seen here.
                var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Interlocked.Exchange(ref holding, release);
                if (Volatile.Read(ref queuedOther) == 0 && watched.IsEmpty)
                {
                    await Task.WhenAny(Task.Delay(wait, CancellationToken.None), release.Task).ConfigureAwait(false);
                }

                Volatile.Write(ref holding, null);
                Drain();
            }

            // A failed write keeps its batch and retries: the store is the primary history, nothing is dropped.
            while (!TryFlush())
            {
                await Task.Delay(RetryAfter, time, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Moves queued entries into the batch, the event list and the settings map, up to about <see cref="MaxBatch"/> readings.</summary>
    private void Drain()
    {
        var taken = 0;
        while (batch.Count < MaxBatch && queue.Reader.TryRead(out var item))
        {
            switch (item)
            {
                case Observation[] readings:
                    batch.AddRange(readings);
                    taken += readings.Length;
                    continue;
                case EventEntry e:
                    events.Add(e);
                    break;
                case ConfigEntry c:
                    settings[c.Key] = c;
                    break;
            }

            Interlocked.Decrement(ref queuedOther);
        }

        if (taken > 0 && Interlocked.Add(ref queuedReadings, -taken) < capacity)
        {
            Interlocked.Exchange(ref roomWaiter, null)?.TrySetResult();
        }
    }

    /// <summary>
    /// How long to wait for more readings before committing (<see cref="GroupWindow"/>), or null to commit now: when the
    /// batch is already large, when the last commit of readings was long enough ago (no sustained load: a lone reading
    /// is never held), when a feed waits on a commit (an HL7 AA or MQTT PUBACK is not delayed), when an event-log entry
    /// or a setting is queued (an alarm transition or configuration change is read back right after it happened: the
    /// audit view lists it, newest first beside the entries written directly), or when stopping.
    /// The window is real time, not the injected clock: it bounds how long a reading waits for company, and a fake
    /// clock in tests would never end the wait.
    /// </summary>
    private TimeSpan? WaitForMore()
    {
        if (batch.Count is 0 or >= GroupTarget || stopping || !watched.IsEmpty || events.Count > 0 || settings.Count > 0)
        {
            return null;
        }

        var wait = GroupWindow - Stopwatch.GetElapsedTime(lastCommit);
        return wait > TimeSpan.Zero ? wait : null;
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
                lastCommit = Stopwatch.GetTimestamp();
                Interlocked.Add(ref written, batch.Count);
                ReleaseWaiters(batch);
                batch.Clear();
            }

            if (settings.Count > 0)
            {
                // One transaction: the alarm engine saves one row per changed chair at a time.
                store.SetConfigs([.. settings.Values.Select(c => (c.Key, c.Value, c.At))]);
                settings.Clear();
            }

            if (failure is not null)
            {
                failure = null;
                Volatile.Write(ref failing, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                Volatile.Write(ref notRecordingLogged, 0);
            }

            return true;
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
        {
            if (failure is null)
            {
                LogStoreFailed(logger, e);
            }

            failure = e.Message;
            Volatile.Read(ref failing).TrySetResult();
            Interlocked.Exchange(ref roomWaiter, null)?.TrySetResult(); // a feed waiting for room stops waiting (see EnqueueAsync)
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
                waiter.TrySetResult(true);
            }
        }
    }

    private sealed record EventEntry(string Type, DateTimeOffset At, string? Chair, string Data);

    private sealed record ConfigEntry(string Key, string Value, DateTimeOffset At);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Critical, Message = "The embedded store is failing and {Capacity} readings are held in memory: new readings are still judged and shown but not recorded until writes succeed")]
    private static partial void LogNotRecorded(ILogger logger, int capacity);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Critical, Message = "Writing to the embedded store failed; retrying every second and holding readings in memory")]
    private static partial void LogStoreFailed(ILogger logger, Exception e);
}
