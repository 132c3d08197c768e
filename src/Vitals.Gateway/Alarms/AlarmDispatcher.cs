using System.Text.Json;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Pipeline;
using Vitals.Storage;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Alarms;

/// <summary>One item of the ordered queue out of the alarm engine.</summary>
internal abstract record AlarmDispatch;

/// <summary>An alarm transition: live state, dashboards, event log, then every sink (MQTT).</summary>
internal sealed record TransitionDispatch(AlarmEvent Event) : AlarmDispatch;

/// <summary>An event-log entry (audit entry, configuration change), optionally also sent to dashboards.</summary>
internal sealed record LogDispatch(string Type, DateTimeOffset At, string? Chair, object Entry, string? DashboardEventType) : AlarmDispatch;

/// <summary>A dashboard event that follows a command's transitions.</summary>
internal sealed record DashboardDispatch(DashboardEvent Event) : AlarmDispatch;

/// <summary>Engine state to save for restart recovery (only its changed rows are written: <see cref="EngineStateRows"/>).</summary>
internal sealed record SnapshotDispatch(AlarmEngineSnapshot Snapshot, DateTimeOffset At) : AlarmDispatch;

/// <summary>Reached once everything committed before it is dispatched.</summary>
internal sealed record BarrierDispatch(TaskCompletionSource Done) : AlarmDispatch;

/// <summary>
/// The one consumer of what <see cref="AlarmService"/> commits: applies each item, in commit order, to live state,
/// dashboards (<see cref="EventHub"/>), the store writer's queue (event log, and from there InfluxDB) and the sinks
/// (MQTT). Nothing here waits on a disk: the store writer queues and retries on its own. A destination that throws
/// is logged and skipped for that item; the others still get it. At stop the queue is drained, not abandoned.
/// </summary>
public sealed partial class AlarmDispatcher(
    AlarmService alarms, LiveState live, EventHub hub, StoreWriter store, LoopSupervisor supervisor, ILogger<AlarmDispatcher> logger) : BackgroundService
{
    private long dispatched;

    /// <summary>Items dispatched since start.</summary>
    public long Dispatched => Interlocked.Read(ref dispatched);

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Producers (feeds, pipeline, maintenance) have stopped by now: end the queue, and the loop ends once it is empty.
        alarms.CompleteDispatch();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        supervisor.RunAsync("alarm.dispatch", _ => DispatchAllAsync(), stoppingToken);

    private async Task DispatchAllAsync()
    {
        // Not tied to the stopping token: the loop ends when StopAsync completes the queue, after draining it.
        var queue = alarms.Committed;
        while (await queue.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (queue.TryRead(out var item))
            {
                await DispatchAsync(item).ConfigureAwait(false);
                Interlocked.Increment(ref dispatched);
            }
        }
    }

    private async ValueTask DispatchAsync(AlarmDispatch item)
    {
        switch (item)
        {
            case TransitionDispatch { Event: var e }:
                Try("live state", e, live.Apply);
                Try("dashboards", e, e => hub.Publish("alarm", e));
                Try("event log", e, e => Queued(store.TryEnqueueEvent(SqliteStore.AlarmEventType, e.At, e.Chair, JsonSerializer.Serialize(e, GatewayJson.Options.TypeInfo<AlarmEvent>()))));
                foreach (var sink in alarms.Sinks)
                {
                    try
                    {
                        await sink(e, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        LogDispatchFailed(logger, nameof(TransitionDispatch), "a sink", ex);
                    }
                }

                break;
            case LogDispatch log:
                Try("event log", log, l => Queued(store.TryEnqueueEvent(l.Type, l.At, l.Chair, JsonSerializer.Serialize(l.Entry, GatewayJson.Options.TypeInfo<object>()))));
                if (log.DashboardEventType is { } type)
                {
                    Try("dashboards", log, l => hub.Publish(type, l.Entry));
                }

                break;
            case DashboardDispatch { Event: var d }:
                Try("dashboards", d, d => hub.Publish(d.EventType, d.Payload));
                break;
            case SnapshotDispatch s:
                Try("store", s, s =>
                {
                    foreach (var (key, value) in alarms.SavedState.Changed(s.Snapshot))
                    {
                        Queued(store.TryEnqueueConfig(key, value, s.At));
                    }
                });
                break;
            case BarrierDispatch { Done: var done }:
                done.TrySetResult();
                break;
        }
    }

    private static void Queued(bool queued)
    {
        if (!queued)
        {
            throw new InvalidOperationException("The store writer has stopped.");
        }
    }

    private void Try<T>(string destination, T item, Action<T> apply)
    {
        try
        {
            apply(item);
        }
        catch (Exception ex)
        {
            LogDispatchFailed(logger, typeof(T).Name, destination, ex);
        }
    }

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Dispatching a {Item} to {Destination} failed; the other destinations still received it")]
    private static partial void LogDispatchFailed(ILogger logger, string item, string destination, Exception e);
}
