using Vitals.Core;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Config;
using Vitals.Gateway.Pipeline;
using Vitals.Storage.Influx;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Storage;

/// <summary>Health of local storage and forwarding, for the status endpoint and the admin view.</summary>
public sealed record StorageHealth(
    string? StoreFailure,
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
/// technical alarms on the <c>gateway</c> chair.
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
    private readonly TimeProvider time;
    private readonly ILogger<StorageMaintenance> logger;
    private readonly StoreRetentionOptions retention;
    private readonly List<(SqliteOutbox Outbox, InfluxForwarder Forwarder)> forwarders = [];
    private readonly HttpClient? http;
    private readonly Dictionary<string, AlarmPriority?> faults = []; // reported priority per fault; null when clear

    /// <summary>Creates the service; with <see cref="GatewayOptions.Influx"/> set, builds both forwarders.</summary>
    public StorageMaintenance(
        GatewayOptions options, SqliteStore store, StoreWriter writer, FeedRegistry feeds, AlarmService alarms, TimeProvider time,
        ILoggerFactory loggers, Func<string, string?>? environment = null)
    {
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
            options.RetentionDays,
            forwarders.Count > 0,
            [.. forwarders.Select(f => new ForwarderView(f.Outbox.Name, f.Forwarder.Health))],
            [.. forwarders.Select(f => f.Outbox.GetBacklog(now, retention))],
            countQuarantined && forwarders.Count > 0 ? store.CountQuarantined() : 0);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = forwarders.Select(f => f.Forwarder.RunAsync(stoppingToken)).ToList();
        var nextSample = time.GetUtcNow();
        var nextCompact = time.GetUtcNow() + TimeSpan.FromMinutes(1);
        using var timer = new PeriodicTimer(CheckEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = time.GetUtcNow();
                if (forwarders.Count > 0 && now >= nextSample)
                {
                    nextSample = now + FeedSampleEvery;
                    store.AppendFeedStatus([.. feeds.Snapshot().Select(f => new FeedStatusSample(
                        options.Site, f.Chair, f.Device, f.Connected, f.FramesOk, f.FramesBad, now))]);
                }

                if (now >= nextCompact)
                {
                    nextCompact = now + CompactEvery;
                    var deleted = store.Compact(retention.CompactBefore(now), forwarders.Count > 0);
                    LogCompacted(logger, deleted);
                }

                await RaiseFaultsAsync(Health(countQuarantined: false), stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(running).ConfigureAwait(false);
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

    private async Task RaiseFaultsAsync(StorageHealth health, CancellationToken ct)
    {
        var lagging = health.Forwarders.FirstOrDefault(f => f.Health.LagSeconds > options.InfluxLagAlarmSeconds);
        var full = health.Backlog.FirstOrDefault(b => b.BacklogFull);
        var warning = health.Backlog.FirstOrDefault(b => b.Warning);
        await SetFaultAsync("store", health.StoreFailure is not null, AlarmPriority.High,
            $"Readings cannot be saved to the local store ({health.StoreFailure}); they are held in memory and retried", ct).ConfigureAwait(false);
        await SetFaultAsync("forwarder.lag", lagging is not null, AlarmPriority.Medium,
            $"InfluxDB forwarding is {lagging?.Health.LagSeconds:0} s behind ({lagging?.Health.LastError ?? "no error reported"})", ct).ConfigureAwait(false);
        await SetFaultAsync("backlog", warning is not null, full is not null ? AlarmPriority.High : AlarmPriority.Medium,
            $"Forwarding backlog is {(full is not null ? "at its limit" : "near its limit")}: {warning?.Rows} rows, oldest {warning?.OldestAge.TotalHours:0.#} h", ct).ConfigureAwait(false);
    }

    private async Task SetFaultAsync(string code, bool active, AlarmPriority priority, string text, CancellationToken ct)
    {
        // Report on change only (raised, escalated as a backlog goes from warning to full, cleared): the engine
        // logs every transition.
        AlarmPriority? level = active ? priority : null;
        if (faults.GetValueOrDefault(code) == level)
        {
            return;
        }

        faults[code] = level;
        await alarms.RunAsync((engine, now, events) =>
        {
            engine.ReportGatewayFault(code, text, active, now, events, priority);
            return 0;
        }, ct).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Compacted {Deleted} stored frames older than the retention")]
    private static partial void LogCompacted(ILogger logger, long deleted);
}
