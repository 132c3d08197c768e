using System.Globalization;
using System.Text.Json;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Pipeline;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Alarms;

/// <summary>
/// Owns the alarm engine. The engine is single-threaded, so readings, clock ticks and nurse/admin commands
/// all pass through one lock here; the transitions they produce go to live state, dashboards, the event log
/// and any other registered sink, in that order. Engine state is saved so a restart keeps active, latched and
/// acknowledged alarms; configuration changes are event-sourced from the append-only log.
/// </summary>
public sealed partial class AlarmService
{
    /// <summary>Event log type of alarm configuration changes (also the audit of limit changes).</summary>
    public const string ConfigEventType = "alarm-config";

    private const string SnapshotKey = "alarm.engine.snapshot";

    private readonly AlarmEngine engine;
    private readonly LiveState live;
    private readonly EventHub hub;
    private readonly StoreWriter store;
    private readonly SqliteStore db;
    private readonly TimeProvider time;
    private readonly ILogger<AlarmService> logger;
    private readonly Lock gate = new();
    private readonly List<Func<AlarmEvent, CancellationToken, ValueTask>> sinks = [];
    private long changes;
    private long saved;

    /// <summary>Creates the service, replaying stored configuration changes and restoring the last saved engine state.</summary>
    public AlarmService(
        AlarmEngine engine, LiveState live, EventHub hub, StoreWriter store, SqliteStore db, TimeProvider time, ILogger<AlarmService> logger)
    {
        this.engine = engine;
        this.live = live;
        this.hub = hub;
        this.store = store;
        this.db = db;
        this.time = time;
        this.logger = logger;
        Restore();
    }

    /// <summary>Adds a destination for every alarm transition (MQTT, for example).</summary>
    public void AddSink(Func<AlarmEvent, CancellationToken, ValueTask> sink)
    {
        lock (gate)
        {
            sinks.Add(sink);
        }
    }

    /// <summary>Judges a batch of readings.</summary>
    public Task ObserveAsync(IReadOnlyList<Observation> batch, CancellationToken ct) =>
        RunAsync((e, _, events) =>
        {
            foreach (var o in batch)
            {
                e.Observe(o, events);
            }

            return 0;
        }, ct);

    /// <summary>Advances the engine's clock and saves its state if anything changed.</summary>
    public async Task TickAsync(CancellationToken ct)
    {
        await RunAsync((e, now, events) =>
        {
            e.Tick(now, events);
            return 0;
        }, ct).ConfigureAwait(false);
        SaveIfChanged();
    }

    /// <summary>Runs a command on the engine under its lock and dispatches the transitions it produced.</summary>
    public async Task<T> RunAsync<T>(Func<AlarmEngine, DateTimeOffset, List<AlarmEvent>, T> command, CancellationToken ct)
    {
        var events = new List<AlarmEvent>();
        T result;
        lock (gate)
        {
            result = command(engine, time.GetUtcNow(), events);
        }

        if (events.Count > 0)
        {
            Interlocked.Increment(ref changes);
            foreach (var e in events)
            {
                live.Apply(e);
                hub.Publish("alarm", e);
                await store.EnqueueAsync(e, ct).ConfigureAwait(false);
                foreach (var sink in Sinks())
                {
                    await sink(e, ct).ConfigureAwait(false);
                }
            }
        }

        return result;
    }

    /// <summary>Reads engine state under its lock.</summary>
    public T Read<T>(Func<AlarmEngine, DateTimeOffset, T> query)
    {
        lock (gate)
        {
            return query(engine, time.GetUtcNow());
        }
    }

    /// <summary>Applies a configuration change; an accepted one is logged (who, when, key, old -> new) and replayed on restart.</summary>
    public ConfigResult Configure(Func<AlarmConfiguration, DateTimeOffset, ConfigResult> change)
    {
        ConfigResult result;
        lock (gate)
        {
            result = change(engine.Configuration, time.GetUtcNow());
            if (result.Change is { } c)
            {
                db.AppendEvent(c.At, ConfigEventType, c.Scope == ConfigScope.Chair ? c.Target : null, JsonSerializer.Serialize(c, Json.Options));
                Interlocked.Increment(ref changes);
            }
        }

        if (result.Change is { } accepted)
        {
            hub.Publish("config", accepted);
        }

        return result;
    }

    /// <summary>Saves engine state now (at shutdown).</summary>
    public void Save()
    {
        lock (gate)
        {
            db.SetConfig(SnapshotKey, JsonSerializer.Serialize(engine.Snapshot(), Json.Options), time.GetUtcNow());
        }
    }

    private void SaveIfChanged()
    {
        var current = Interlocked.Read(ref changes);
        if (current != saved)
        {
            Save();
            saved = current;
        }
    }

    private List<Func<AlarmEvent, CancellationToken, ValueTask>> Sinks()
    {
        lock (gate)
        {
            return [.. sinks];
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
                var change = JsonSerializer.Deserialize<ConfigChange>(stored.Data, Json.Options);
                if (change is not null && Replay(engine.Configuration, change).Ok)
                {
                    replayed++;
                }
            }

            after = page[^1].Id;
        }

        var now = time.GetUtcNow();
        if (db.GetConfig(SnapshotKey) is { } json && JsonSerializer.Deserialize<AlarmEngineSnapshot>(json, Json.Options) is { } snapshot)
        {
            engine.Restore(snapshot, now);
            foreach (var alarm in engine.Active)
            {
                live.Apply(alarm);
            }
        }

        LogRestored(logger, replayed, engine.Active.Count);
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

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Alarm engine restored: {Changes} configuration changes replayed, {Active} active alarms")]
    private static partial void LogRestored(ILogger logger, int changes, int active);
}
