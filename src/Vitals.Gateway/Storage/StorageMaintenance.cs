using Vitals.Core;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Config;
using Vitals.Gateway.Pipeline;
using Vitals.Storage.Influx;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Storage;

/// <summary>Health of local storage and forwarding, for the status endpoint and the admin view.</summary>
/// <param name="StoreFailure">Why writes to the embedded store fail, while they do.</param>
/// <param name="NotRecording">True while new readings are judged and shown but not recorded (writes failing, memory hold full).</param>
/// <param name="NotRecorded">Readings judged but not recorded since start.</param>
/// <param name="RetentionDays">Days of readings kept.</param>
/// <param name="Forwarding">True when InfluxDB forwarding is configured.</param>
/// <param name="Forwarders">Each forwarder's health.</param>
/// <param name="Backlog">Each outbox's backlog.</param>
/// <param name="Quarantined">Rows InfluxDB refused, kept aside.</param>
public sealed record StorageHealth(
    string? StoreFailure,
    bool NotRecording,
    long NotRecorded,
    double RetentionDays,
    bool Forwarding,
    IReadOnlyList<ForwarderView> Forwarders,
    IReadOnlyList<OutboxBacklog> Backlog,
    long Quarantined);

/// <summary>One InfluxDB forwarder's health.</summary>
public sealed record ForwarderView(string Outbox, InfluxForwarderHealth Health);

/// <summary>
/// Keeps the store healthy: runs the InfluxDB forwarders (observations and events, each with its own cursor)
/// when configured, records feed status samples for the <c>feed_status</c> measurement, compacts history older
/// than the retention (never what is not yet forwarded), and turns store, backlog and lag problems into
/// technical alarms on the <c>gateway</c> chair. The check loop and each forwarder run under the
/// <see cref="LoopSupervisor"/>; a store that refuses a feed status sample or a compaction (locked by another
/// process, say) is retried at the next check, the writer's failure already raising the store alarm.
/// </summary>
public sealed partial class StorageMaintenance : BackgroundService
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FeedSampleEvery = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan CompactEvery = TimeSpan.FromHours(1);

    private readonly GatewayOptions options;
    private readonly SqliteStore store;
    private readonly StoreWriter writer;
    private readonly FeedRegistry feeds;
    private readonly AlarmService alarms;
    private readonly LoopSupervisor supervisor;
    private readonly TimeProvider time;
    private readonly ILogger<StorageMaintenance> logger;
    private readonly StoreRetentionOptions retention;
    private readonly List<(SqliteOutbox Outbox, InfluxForwarder Forwarder)> forwarders = [];
    private readonly HttpClient? http;
    private readonly Dictionary<string, AlarmPriority?> faults = []; // reported priority per fault; null when clear

    /// <summary>Creates the service; with <see cref="GatewayOptions.Influx"/> set, builds both forwarders.</summary>
    public StorageMaintenance(
        GatewayOptions options, SqliteStore store, StoreWriter writer, FeedRegistry feeds, AlarmService alarms, LoopSupervisor supervisor,
        TimeProvider time, ILoggerFactory loggers, Func<string, string?>? environment = null)
    {
        this.supervisor = supervisor;
        this.options = options;
        this.store = store;
        this.writer = writer;
        this.feeds = feeds;
        this.alarms = alarms;
        this.time = time;
        logger = loggers.CreateLogger<StorageMaintenance>();
        retention = new StoreRetentionOptions
        {
            Retention = TimeSpan.FromDays(options.RetentionDays),
            MaxBacklogRows = options.InfluxBacklogMaxRows,
            MaxBacklogAge = TimeSpan.FromDays(options.InfluxBacklogMaxDays),
        };
        if (!string.IsNullOrWhiteSpace(options.Influx))
        {
            http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan }; // InfluxWriteClient.RequestTimeout is the one limit
            foreach (var outbox in new[] { SqliteOutbox.ForObservations(store, time), SqliteOutbox.ForEvents(store, time) })
            {
                var forwarder = InfluxForwarder.FromUrl(
                    options.Influx, outbox, http, new InfluxForwarderOptions(), time, loggers.CreateLogger<InfluxForwarder>(), environment);
                forwarders.Add((outbox, forwarder));
            }
        }
    }

    /// <summary>The current health figures.</summary>
    public StorageHealth Health() => Health(countQuarantined: true);

    /// <summary>The health figures; the quarantine count scans a table that is never trimmed, so only the status asks for it.</summary>
    private StorageHealth Health(bool countQuarantined)
    {
        var now = time.GetUtcNow();
        return new StorageHealth(
            writer.Failure,
            writer.HoldFull,
            writer.NotRecorded,
            options.RetentionDays,
            forwarders.Count > 0,
            [.. forwarders.Select(f => new ForwarderView(f.Outbox.Name, f.Forwarder.Health))],
            [.. forwarders.Select(f => f.Outbox.GetBacklog(now, retention))],
            countQuarantined && forwarders.Count > 0 ? store.CountQuarantined() : 0);
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll([
            supervisor.RunAsync("storage.maintenance", CheckAsync, stoppingToken),
            .. forwarders.Select(f => supervisor.RunAsync("forwarder." + f.Outbox.Name, f.Forwarder.RunAsync, stoppingToken)),
        ]);

    private async Task CheckAsync(CancellationToken ct)
    {
        var nextSample = time.GetUtcNow();
        var nextCompact = time.GetUtcNow() + TimeSpan.FromMinutes(1);
        using var timer = new PeriodicTimer(CheckEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var now = time.GetUtcNow();
                if (forwarders.Count > 0 && now >= nextSample && TryStore("feed status", () => store.AppendFeedStatus(
                    [.. feeds.Snapshot().Select(f => new FeedStatusSample(options.Site, f.Chair, f.Device, f.Connected, f.FramesOk, f.FramesBad, now))])))
                {
                    nextSample = now + FeedSampleEvery;
                }

                if (now >= nextCompact && TryStore("compaction", () => LogCompacted(logger, store.Compact(retention.CompactBefore(now), forwarders.Count > 0))))
                {
                    nextCompact = now + CompactEvery;
                }

                RaiseFaults(Health(countQuarantined: false));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private bool TryStore(string what, Action write)
    {
        try
        {
            write();
            return true;
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            LogStoreBusy(logger, what, e.Message);
            return false;
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        foreach (var (_, forwarder) in forwarders)
        {
            forwarder.Dispose();
        }

        http?.Dispose();
        base.Dispose();
    }

    private void RaiseFaults(StorageHealth health)
    {
        var lagging = health.Forwarders.FirstOrDefault(f => f.Health.LagSeconds > options.InfluxLagAlarmSeconds);
        var full = health.Backlog.FirstOrDefault(b => b.BacklogFull);
        var warning = health.Backlog.FirstOrDefault(b => b.Warning);
        SetFault("store", health.StoreFailure is not null, AlarmPriority.High,
            $"Readings cannot be saved to the local store ({health.StoreFailure}); they are held in memory and retried");
        SetFault("store.full", health.NotRecording, AlarmPriority.High,
            "The local store is failing and its memory hold is full: new readings are still shown and alarmed, but not recorded");
        SetFault("forwarder.lag", lagging is not null, AlarmPriority.Medium,
            $"InfluxDB forwarding is {lagging?.Health.LagSeconds:0} s behind ({lagging?.Health.LastError ?? "no error reported"})");
        SetFault("backlog", warning is not null, full is not null ? AlarmPriority.High : AlarmPriority.Medium,
            $"Forwarding backlog is {(full is not null ? "at its limit" : "near its limit")}: {warning?.Rows} rows, oldest {warning?.OldestAge.TotalHours:0.#} h");
    }

    private void SetFault(string code, bool active, AlarmPriority priority, string text)
    {
        // Report on change only (raised, escalated as a backlog goes from warning to full, cleared): the engine
        // logs every transition.
        AlarmPriority? level = active ? priority : null;
        if (faults.GetValueOrDefault(code) == level)
        {
            return;
        }

        faults[code] = level;
        alarms.Run((engine, now, events) =>
        {
            engine.ReportGatewayFault(code, text, active, now, events, priority);
            return 0;
        });
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Compacted {Deleted} stored frames older than the retention")]
    private static partial void LogCompacted(ILogger logger, long deleted);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "The store refused the {What} ({Reason}); retrying at the next check")]
    private static partial void LogStoreBusy(ILogger logger, string what, string reason);
}
