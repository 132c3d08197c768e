using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Pipeline;
using Vitals.Storage;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Alarms;

/// <summary>A dashboard event a command sends after its transitions (for example a chair's new status).</summary>
/// <param name="EventType">SSE event type.</param>
/// <param name="Payload">Serialized as JSON by its runtime type.</param>
public sealed record DashboardEvent(string EventType, object Payload);

/// <summary>Steps of the gateway's wall clock the alarm clock noticed, for the status endpoint.</summary>
/// <param name="Steps">Steps noticed since start (each moved the alarm timers with the clock, see the README).</param>
/// <param name="LastStepSeconds">Size of the latest step in seconds (negative: set back), if any.</param>
/// <param name="LastAt">When the latest step was noticed, on the new clock.</param>
public sealed record ClockStepStatus(long Steps, double? LastStepSeconds, DateTimeOffset? LastAt);

/// <summary>What a nurse or admin command leaves besides its transitions: who did what, and what dashboards are told.</summary>
/// <param name="Audit">The audit entry; null when the command changed nothing worth auditing.</param>
/// <param name="Dashboard">Dashboard events sent after the transitions.</param>
public sealed record CommandTrail(AuditEntry? Audit, IReadOnlyList<DashboardEvent> Dashboard);

/// <summary>
/// Owns the alarm engine. The engine is single-threaded, so readings, clock ticks and nurse/admin commands all pass
/// through one lock here, and nothing under that lock touches a disk or a network: what a command commits (its
/// transitions, then its audit entry and dashboard events, then the engine state to save) is put, in commit order, on
/// one queue that <see cref="AlarmDispatcher"/> alone empties into live state, dashboards, the store and MQTT. So
/// concurrent commands cannot reorder what anyone sees, and a caller that stops waiting (an aborted request) cannot
/// stop what the engine has committed. Engine state is saved through the store writer after every change, so a
/// restart, even after a crash, keeps active, latched and acknowledged alarms and pauses; only the chairs whose state
/// changed are written (<see cref="EngineStateRows"/>), and the readings the rules need are read back from the store.
/// Configuration changes are event-sourced from the append-only log.
/// </summary>
public sealed partial class AlarmService
{
    /// <summary>Event log type of alarm configuration changes (also the audit of limit changes).</summary>
    public const string ConfigEventType = "alarm-config";

    /// <summary>Configuration key of the saved engine state.</summary>
    public const string SnapshotKey = "alarm.engine.snapshot";

    /// <summary>
    /// How long after a step readings stamped before it may still arrive to be judged: the pipeline judges a reading
    /// within milliseconds of its stamp, seconds under a backlog. Never longer than half the step, after which a reading
    /// stamped on the new clock could pass for one stamped on the old (<see cref="WallClockStep.IsBefore"/>).
    /// </summary>
    private static readonly TimeSpan InFlightWindow = TimeSpan.FromSeconds(10);

    private readonly AlarmEngine engine;
    private readonly LiveState live;
    private readonly DeviceClocks? deviceClocks;
    private readonly SqliteStore db;
    private readonly TimeProvider time;
    private readonly ILogger<AlarmService> logger;
    private readonly Lock gate = new();
    private readonly Channel<AlarmDispatch> committed = Channel.CreateUnbounded<AlarmDispatch>(new UnboundedChannelOptions { SingleReader = true });
    private Func<AlarmEvent, CancellationToken, ValueTask>[] sinks = [];
    private readonly List<AlarmEvent> events = [];
    private readonly WallClockSteps clockSteps = new();
    private bool unsaved; // readings were judged since the engine state was last queued for saving

    // The latest wall-clock step while readings stamped before it may still be on their way (see Now).
    private WallClockStep? inFlight;
    private long inFlightSince;

    /// <summary>Creates the service, replaying stored configuration changes and restoring the last saved engine state.</summary>
    /// <remarks><paramref name="deviceClocks"/>, when given, is told of steps of the gateway's clock as the live view is.</remarks>
    public AlarmService(AlarmEngine engine, LiveState live, SqliteStore db, TimeProvider time, ILogger<AlarmService> logger, DeviceClocks? deviceClocks = null)
    {
        this.engine = engine;
        this.live = live;
        this.deviceClocks = deviceClocks;
        this.db = db;
        this.time = time;
        this.logger = logger;
        Restore();
    }

    /// <summary>What was last saved of the engine state, so a save writes only the rows that changed; the dispatcher's after start.</summary>
    internal EngineStateRows SavedState { get; } = new();

    /// <summary>Everything committed, in commit order, for <see cref="AlarmDispatcher"/>.</summary>
    internal ChannelReader<AlarmDispatch> Committed => committed.Reader;

    /// <summary>The destinations added with <see cref="AddSink"/>.</summary>
    internal IReadOnlyList<Func<AlarmEvent, CancellationToken, ValueTask>> Sinks => Volatile.Read(ref sinks);

    /// <summary>Adds a destination for every alarm transition (MQTT, for example); it is called in commit order.</summary>
    public void AddSink(Func<AlarmEvent, CancellationToken, ValueTask> sink)
    {
        lock (gate)
        {
            sinks = [.. sinks, sink];
        }
    }

    /// <summary>Steps of the wall clock noticed since start.</summary>
    public ClockStepStatus ClockSteps
    {
        get
        {
            lock (gate)
            {
                return new ClockStepStatus(clockSteps.Count, clockSteps.Last?.By.TotalSeconds, clockSteps.Last?.At);
            }
        }
    }

    /// <summary>Judges a batch of readings. Its transitions are queued for dispatch, never waited for.</summary>
    public Task ObserveAsync(IReadOnlyList<Observation> batch, CancellationToken ct)
    {
        // Static, with the batch as state: no closure and delegate per batch on the reading path.
        Commit(static (e, s, _, events) =>
        {
            if (s.Service.inFlight is { } step)
            {
                JudgeAcrossStep(e, s.Batch, step, events);
                return 0;
            }

            // By index: a foreach over the interface boxes an enumerator per batch and dispatches twice per reading.
            var batch = s.Batch;
            for (var i = 0; i < batch.Count; i++)
            {
                e.Observe(batch[i], events);
            }

            return 0;
        }, (Service: this, Batch: batch), null, SaveWhen.NextTick, dispatched: null);
        return Task.CompletedTask;
    }

    /// <summary>Advances the engine's clock; its transitions are queued, never waited for, and the state is saved if it changed.</summary>
    public Task TickAsync(CancellationToken ct)
    {
        Commit(static (e, _, now, events) =>
        {
            e.Tick(now, events);
            return 0;
        }, 0, null, SaveWhen.IfUnsaved, dispatched: null);
        return Task.CompletedTask;
    }

    /// <summary>Runs a command on the engine and queues what it committed; returns without waiting for dispatch.</summary>
    public T Run<T>(Func<AlarmEngine, DateTimeOffset, List<AlarmEvent>, T> command) => Commit(Invoke, command, null, SaveWhen.Always, dispatched: null);

    /// <summary>Runs a command and waits until what it committed is dispatched (live state and dashboards updated).</summary>
    public Task<T> RunAsync<T>(Func<AlarmEngine, DateTimeOffset, List<AlarmEvent>, T> command, CancellationToken ct) =>
        RunAsync(command, null, ct);

    /// <summary>
    /// Runs a command; <paramref name="trail"/>, called under the same lock with the command's result, gives its audit
    /// entry and dashboard events, dispatched right after its transitions. Waits until all of it is dispatched:
    /// cancelling <paramref name="ct"/> (an aborted request) only stops the waiting, never the dispatch.
    /// </summary>
    public async Task<T> RunAsync<T>(
        Func<AlarmEngine, DateTimeOffset, List<AlarmEvent>, T> command, Func<AlarmEngine, DateTimeOffset, T, CommandTrail>? trail, CancellationToken ct)
    {
        var dispatched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var result = Commit(Invoke, command, trail, SaveWhen.Always, dispatched);
        await dispatched.Task.WaitAsync(ct).ConfigureAwait(false);
        return result;
    }

    /// <summary>Reads engine state under its lock.</summary>
    public T Read<T>(Func<AlarmEngine, DateTimeOffset, T> query)
    {
        lock (gate)
        {
            return query(engine, Now());
        }
    }

    /// <summary>Applies a configuration change; an accepted one is queued for the log (who, when, key, old -> new), replayed on restart.</summary>
    public ConfigResult Configure(Func<AlarmConfiguration, DateTimeOffset, ConfigResult> change)
    {
        lock (gate)
        {
            var result = change(engine.Configuration, time.GetUtcNow());
            if (result.Change is { } c)
            {
                Enqueue(new LogDispatch(ConfigEventType, c.At, c.Scope == ConfigScope.Chair ? c.Target : null, c, DashboardEventType: "config"));
            }

            return result;
        }
    }

    /// <summary>Queues the engine state for saving now (at shutdown, for readings judged since the last tick).</summary>
    public void Save()
    {
        lock (gate)
        {
            EnqueueSnapshot(time.GetUtcNow());
        }
    }

    /// <summary>Ends the queue once the dispatcher is stopping; anything committed later is logged as not dispatched.</summary>
    internal void CompleteDispatch() => committed.Writer.TryComplete();

    private static T Invoke<T>(AlarmEngine engine, Func<AlarmEngine, DateTimeOffset, List<AlarmEvent>, T> command, DateTimeOffset now, List<AlarmEvent> events) =>
        command(engine, now, events);

    private T Commit<TState, T>(
        Func<AlarmEngine, TState, DateTimeOffset, List<AlarmEvent>, T> command, TState state, Func<AlarmEngine, DateTimeOffset, T, CommandTrail>? trail,
        SaveWhen save, TaskCompletionSource? dispatched)
    {
        lock (gate)
        {
            // One list for every commit: used only under the lock, and emptied into the queue before the lock is left.
            var events = this.events;
            var now = Now();
            try
            {
                var result = command(engine, state, now, events);
                if (trail?.Invoke(engine, now, result) is { } t)
                {
                    QueueTransitions(events);
                    if (t.Audit is { } audit)
                    {
                        Enqueue(new LogDispatch(AuditLog.EventType, audit.At, audit.Chair, audit, DashboardEventType: null));
                    }

                    foreach (var d in t.Dashboard)
                    {
                        Enqueue(new DashboardDispatch(d));
                    }
                }

                return result;
            }
            finally
            {
                // Also when the command threw: whatever it committed before that still leaves, in order.
                QueueTransitions(events);
                if (save == SaveWhen.NextTick)
                {
                    unsaved = true;
                }
                else if (save == SaveWhen.Always || events.Count > 0 || unsaved)
                {
                    EnqueueSnapshot(now);
                }

                if (dispatched is not null && !committed.Writer.TryWrite(new BarrierDispatch(dispatched)))
                {
                    dispatched.TrySetResult();
                }
            }
        }
    }

    /// <summary>
    /// Readings stamped just before a step but judged after it reach the engine on the new clock (their stored receive
    /// time stays as it happened): one stamped on the old clock would, after a step back, start a condition an hour
    /// in the future.
    /// </summary>
    private static void JudgeAcrossStep(AlarmEngine engine, IReadOnlyList<Observation> batch, WallClockStep step, List<AlarmEvent> events)
    {
        foreach (var o in batch)
        {
            engine.Observe(step.IsBefore(o.ReceivedAt) ? o with { ReceivedAt = o.ReceivedAt + step.By } : o, events);
        }
    }

    /// <summary>
    /// The wall clock, after any step it took since it was last read (noticed against the monotonic clock) has moved
    /// the engine's times and the live view's receive times with it: condition delays, feed and sign timeouts, audio
    /// pauses and escalation keep their real length whatever the system clock does. Under the lock, before the engine
    /// sees the time: every commit, reading batches included, so no reading is judged on the new clock against times
    /// kept on the old one.
    /// </summary>
    private DateTimeOffset Now()
    {
        var now = time.GetUtcNow();
        var timestamp = time.GetTimestamp();
        if (clockSteps.Check(now, timestamp, time.TimestampFrequency) is { } step)
        {
            engine.ClockStepped(step.By);
            live.ClockStepped(step);
            deviceClocks?.ClockStepped(step);
            (inFlight, inFlightSince) = (step, timestamp);
            unsaved = true; // the saved state is on the old clock until the next save
            LogClockStepped(logger, step.By.TotalSeconds);
        }
        else if (inFlight is { } last && time.GetElapsedTime(inFlightSince, timestamp) >= TimeSpan.FromTicks(Math.Min(InFlightWindow.Ticks, last.By.Duration().Ticks / 2)))
        {
            inFlight = null;
        }

        return now;
    }

    private void QueueTransitions(List<AlarmEvent> events)
    {
        foreach (var e in events)
        {
            Enqueue(new TransitionDispatch(e));
        }

        events.Clear();
    }

    private void EnqueueSnapshot(DateTimeOffset now)
    {
        // Taken under the lock (the engine's records are immutable), serialized and written by others.
        Enqueue(new SnapshotDispatch(engine.Snapshot(), now));
        unsaved = false;
    }

    private void Enqueue(AlarmDispatch item)
    {
        if (!committed.Writer.TryWrite(item))
        {
            LogNotDispatched(logger, item.GetType().Name);
        }
    }

    private void Restore()
    {
        var replayed = 0;
        for (long after = 0; ;)
        {
            var page = db.ReadEvents(after, ConfigEventType, limit: 1000);
            if (page.Count == 0)
            {
                break;
            }

            foreach (var stored in page)
            {
                var change = JsonSerializer.Deserialize(stored.Data, GatewayJson.Options.TypeInfo<ConfigChange>());
                if (change is not null && Replay(engine.Configuration, change).Ok)
                {
                    replayed++;
                }
            }

            after = page[^1].Id;
        }

        var now = time.GetUtcNow();
        if (SavedState.Load(db.GetConfig(SnapshotKey), db.ReadConfigStartingWith(EngineStateRows.ChairPrefix)) is { } snapshot)
        {
            engine.Restore(snapshot, now);
            foreach (var alarm in engine.Active)
            {
                live.Apply(alarm);
            }
        }

        // The readings rate and baseline rules compare with were stored as they arrived: all the store had committed before
        // a crash. Only the signs and spans those rules read are asked for (RecallFrom).
        var recalled = engine.Recall(db.ReadReceivedSince(engine.RecallFrom(now)));
        LogRestored(logger, replayed, engine.Active.Count, recalled);
    }

    private static ConfigResult Replay(AlarmConfiguration config, ConfigChange c)
    {
        double? Number() => c.NewValue is null ? null : double.Parse(c.NewValue, CultureInfo.InvariantCulture);
        return c.Scope switch
        {
            ConfigScope.Profile when c.Key != "profile" => config.SetProfileValue(c.Target, c.Key, Number(), c.User, c.At),
            ConfigScope.Chair when c.Key == "profile" => config.SetChairProfile(c.Target, c.NewValue, c.User, c.At),
            ConfigScope.Chair => config.SetChairOverride(c.Target, c.Key, Number(), c.User, c.At),
            ConfigScope.Engine when c.NewValue is not null => config.SetTimingValue(c.Key, Number()!.Value, c.User, c.At),

            // Session overrides travel with the session in the engine snapshot; whole-profile puts are not exposed.
            _ => new ConfigResult([], null),
        };
    }

    /// <summary>When a commit queues the engine state for saving.</summary>
    private enum SaveWhen
    {
        /// <summary>Every command (sessions, baselines and pauses change without transitions).</summary>
        Always,

        /// <summary>
        /// Readings: marked unsaved for the next tick, even with transitions. A snapshot per reading batch (then with 100
        /// chairs' reading history, serialized ahead of the next alarm in the dispatcher) put the alarm delay p99 at
        /// ~107 ms in tests/Vitals.Load; once a tick, 58-73 ms, and the crash bound stays ~1 s. Only the chairs whose
        /// state changed are written (<see cref="EngineStateRows"/>).
        /// </summary>
        NextTick,

        /// <summary>Clock ticks: with transitions or readings judged since the last save, so saved state is at most a tick old.</summary>
        IfUnsaved,
    }

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "The system clock was stepped by {Seconds:0.#} s (NTP or an admin): alarm timers, pauses and feed timeouts moved with it and keep their real length; stored readings keep the times they arrived at")]
    private static partial void LogClockStepped(ILogger logger, double seconds);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Alarm engine restored: {Changes} configuration changes replayed, {Active} active alarms, {Readings} stored readings recalled for rate and baseline rules")]
    private static partial void LogRestored(ILogger logger, int changes, int active, int readings);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "A {Item} was committed after the alarm dispatcher stopped (the gateway is stopping); it is not dispatched")]
    private static partial void LogNotDispatched(ILogger logger, string item);
}
