using System.Threading.Channels;
using Vitals.Core;
using Vitals.Gateway.Alarms;

namespace Vitals.Gateway.Pipeline;

/// <summary>
/// The one path every reading takes: feeds write to a bounded channel; this service updates live state,
/// judges each reading with the alarm engine, pushes to dashboards and queues it for the store.
/// A clock tick each second lets the engine time condition delays, feed loss, escalation and pause expiry. Both loops
/// run under the <see cref="LoopSupervisor"/>: neither can die silently while the other lives on.
/// </summary>
public sealed class ObservationPipeline(
    AlarmService alarms,
    LiveState live,
    EventHub hub,
    StoreWriter store,
    LoopSupervisor supervisor,
    TimeProvider time,
    DeviceClocks clocks) : BackgroundService
{
    /// <summary>Readings queued between feeds and the pipeline before feeds wait.</summary>
    public const int Capacity = 10_000;

    /// <summary>Readings judged per batch: small enough that an alarm near the end of a burst is not held back long.</summary>
    public const int MaxBatch = 64;

    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);

    private readonly Channel<Observation> input = Channel.CreateBounded<Observation>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    // One batch at a time through the step, whether from the loop or a feed's own thread (JudgeAsync).
    private readonly SemaphoreSlim step = new(1, 1);
    private readonly List<Observation> direct = new(MaxBatch);

    private long processed;

    /// <summary>Where feeds write their readings.</summary>
    public ChannelWriter<Observation> Writer => input.Writer;

    /// <summary>Readings processed since start.</summary>
    public long Processed => Interlocked.Read(ref processed);

    /// <summary>Readings waiting in the channel.</summary>
    public int Queued => input.Reader.Count;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.WhenAll(
            supervisor.RunAsync("pipeline", ConsumeAsync, stoppingToken),
            supervisor.RunAsync("alarm.clock", TickAsync, stoppingToken)).ConfigureAwait(false);

        // Saved after every change and every tick with new readings; once more so a clean stop keeps the very latest.
        alarms.Save();
    }

    /// <summary>
    /// Judges a feed's readings on the caller's thread, in order, in batches of at most <see cref="MaxBatch"/>, instead of
    /// queueing them in <see cref="Writer"/> for the pipeline's loop: no hand-off to another thread, which on this path
    /// costs a thread-pool wake-up and the spinning of the worker left idle. For a feed that already runs its own loop
    /// (the MQTT reader); the step is one at a time with the loop's, and waits while the store is full.
    /// </summary>
    public async ValueTask JudgeAsync(IReadOnlyList<Observation> readings, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(readings);
        for (var from = 0; from < readings.Count; from += MaxBatch)
        {
            await step.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var to = Math.Min(from + MaxBatch, readings.Count);
                for (var i = from; i < to; i++)
                {
                    direct.Add(readings[i]);
                }

                await StepAsync(direct, ct).ConfigureAwait(false);
            }
            finally
            {
                direct.Clear();
                step.Release();
            }
        }
    }

    private async Task ConsumeAsync(CancellationToken ct)
    {
        var batch = new List<Observation>(MaxBatch);
        try
        {
            while (await input.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (batch.Count < MaxBatch && input.Reader.TryRead(out var o))
                {
                    batch.Add(o);
                }

                await step.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    await StepAsync(batch, ct).ConfigureAwait(false);
                }
                finally
                {
                    batch.Clear();
                    step.Release();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>One batch through the device clocks, live state, the alarm engine, dashboards and the store queue; the caller holds <see cref="step"/>.</summary>
    private async ValueTask StepAsync(List<Observation> batch, CancellationToken ct)
    {
        // One pass, by index: the List enumerator's version checks were ~0.5 % of the harness window (AOT perf).
        for (var i = 0; i < batch.Count; i++)
        {
            // The device-clock policy, once for every feed; an HL7 AA waits on the reading as queued.
            var o = batch[i];
            var admitted = clocks.Admit(o);
            if (!ReferenceEquals(admitted, o))
            {
                store.Replaced(o, admitted);
                batch[i] = admitted;
            }

            live.Apply(admitted);
        }

        await alarms.ObserveAsync(batch, ct).ConfigureAwait(false);
        if (hub.SubscriberCount > 0) // with no dashboard open, no views to build (Publish would drop them unseen)
        {
            hub.Publish("obs", batch.Select(ObsView.From));
        }

        await store.EnqueueAsync(batch, ct).ConfigureAwait(false);
        Interlocked.Add(ref processed, batch.Count);
    }

    private async Task TickAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TickInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                await alarms.TickAsync(ct).ConfigureAwait(false);

                // A heartbeat lets dashboards tell a quiet ward from a dead connection.
                hub.Publish("tick", new Heartbeat(time.GetUtcNow()));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Sent every second on the dashboard stream.</summary>
public sealed record Heartbeat(DateTimeOffset ServerTime);

/// <summary>The compact shape of one reading on the dashboard stream.</summary>
public sealed record ObsView(string Chair, Sign Sign, double Value, string Unit, DateTimeOffset At, ObservationQuality? Quality)
{
    /// <summary>Converts an observation, omitting quality when it is ok.</summary>
    public static ObsView From(Observation o) =>
        new(o.Chair, o.Sign, o.Value, o.Unit, o.MeasuredAt, o.Quality == ObservationQuality.Ok ? null : o.Quality);
}
