using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Storage.Sqlite;

namespace Vitals.Central;

/// <summary>
/// Central's one broker connection: subscribes to every site's state, alarm and status topics, feeds the
/// <see cref="SiteBook"/>, ticks it every second, and forwards what changed to the dashboards. Read-only towards the
/// sites: it never publishes. The session is persistent (clean session 0, a client id kept in central's store), so the
/// broker keeps the QoS 1 alarm events and status changes published while central is away (restarted, or cut off from
/// its broker) and delivers them when it is back: an alarm raised and cleared meanwhile still reaches the alarm history.
/// </summary>
public sealed partial class CentralLink(
    CentralOptions options, SiteBook book, EventHub hub, SqliteStore store, TimeProvider time, ILogger<CentralLink> logger, Func<string, string?> environment)
    : BackgroundService
{
    /// <summary>How often silence and overdue alarms are judged, and the dashboards' heartbeat.</summary>
    public static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);

    private MqttClient? client;

    /// <summary>The <c>mqtt</c> part of <c>/api/status</c>: connection state and the client's own counters.</summary>
    public CentralMqttStatus Status() => new(
        client?.State.ToString().ToLowerInvariant() ?? "disconnected",
        options.Mqtt.Broker(),
        options.Mqtt.TopicPrefix,
        client?.OversizedSkippedCount ?? 0,
        client?.LastOversized);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var prefix = options.Mqtt.TopicPrefix;
        client = new MqttClient(ClientOptions(), time);
        client.StateChanged += OnStateChanged;

        // QoS 1 for alarms and status (the last will): the bridge and this persistent session queue them across an outage.
        // State stays QoS 0 on purpose: it is "latest wins" and republished every few seconds, so queued copies would only
        // crowd the alarms out of the broker's per-client queue (mosquitto: max_queued_messages) while central is away.
        await client.SubscribeAsync($"{prefix}/+/+/alarm", MqttQualityOfService.AtLeastOnce, stoppingToken).ConfigureAwait(false);
        await client.SubscribeAsync($"{prefix}/+/{SiteBook.GatewayLevel}/status", MqttQualityOfService.AtLeastOnce, stoppingToken).ConfigureAwait(false);
        await client.SubscribeAsync($"{prefix}/+/+/state", MqttQualityOfService.AtMostOnce, stoppingToken).ConfigureAwait(false);
        client.Start();
        LogStarting(logger, options.Mqtt.Broker(), prefix);

        // Either loop failing ends the service, which stops the host loudly (no live loop hiding a dead one).
        var first = await Task.WhenAny(ReadAsync(client, stoppingToken), TickAsync(stoppingToken)).ConfigureAwait(false);
        await first.ConfigureAwait(false);
    }

    /// <summary>The broker options: a persistent session under <see cref="CentralOptions.ClientId"/> or the id kept in the store.</summary>
    internal MqttClientOptions ClientOptions()
    {
        var generated = options.Mqtt.ToClientOptions("central", environment);
        return generated with
        {
            ClientId = options.ClientId ?? MqttSessionId.Kept(store, generated.ClientId, time.GetUtcNow()),
            CleanSession = false,
        };
    }

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (client is not null)
        {
            client.StateChanged -= OnStateChanged;
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task ReadAsync(MqttClient c, CancellationToken ct)
    {
        try
        {
            while (await c.Messages.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (c.Messages.TryRead(out var message))
                {
                    if (book.Apply(message.Topic, message.Payload.Span, message.Retain, time.GetUtcNow()) is { } change)
                    {
                        Forward(change);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task TickAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TickInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                ForwardAll(book.Tick(time.GetUtcNow()));
                hub.PublishLatest("tick", "", new Heartbeat(time.GetUtcNow()));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void OnStateChanged(object? sender, MqttConnectionStateChangedEventArgs e)
    {
        if (e.State is MqttConnectionState.Connected or MqttConnectionState.Disconnected)
        {
            var connected = e.State == MqttConnectionState.Connected;
            LogConnection(logger, options.Mqtt.Broker(), connected ? "connected" : "lost", e.Error?.Message ?? "");
            ForwardAll(book.SetBrokerConnected(connected, time.GetUtcNow()));
        }
    }

    private void ForwardAll(List<BookChange> changes)
    {
        foreach (var change in changes)
        {
            Forward(change);
        }
    }

    /// <summary>
    /// Sends the changed chair or site (latest wins: a slow dashboard gets the newest view of each, not every one), and
    /// when the site's alarms changed, that site's alarm list and the transition, which are never coalesced or dropped.
    /// Measured at 5,000 chairs (250 sites, ~420 active alarms): the whole list after each drained batch was ~110 KB per
    /// event and waited for the batch, which under CPU contention kept draining for seconds (alarm p99 7.5-9.9 s);
    /// one site's list is ~0.5 KB and leaves with the message that changed it (p99 77-108 ms, README "Deployment across sites").
    /// </summary>
    private void Forward(BookChange change)
    {
        var now = time.GetUtcNow();
        if (change.GatewayChanged && book.Site(change.Site, now) is { } site)
        {
            hub.PublishLatest("site", change.Site, site);
        }
        else if (change.Chair is { } chair && book.Chair(change.Site, chair) is { } view)
        {
            hub.PublishLatest("chair", change.Site + "/" + chair, new ChairEvent(change.Site, view));
        }

        if (change.AlarmsChanged)
        {
            hub.Publish("site-alarms", new SiteAlarmsEvent(change.Site, book.SiteAlarms(change.Site, now)));
        }

        if (change.Transition is { } transition)
        {
            hub.Publish("alarm", transition);
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Central: reading every site from {Broker} under '{Prefix}/'")]
    private static partial void LogStarting(ILogger logger, string broker, string prefix);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Central: broker {Broker} connection {State} {Reason}")]
    private static partial void LogConnection(ILogger logger, string broker, string state, string reason);
}

/// <summary>One chair's new state, for the dashboards.</summary>
public sealed record ChairEvent(string Site, ChairView Chair);

/// <summary>Every active alarm of one site, replacing that site's part of the dashboards' alarm list.</summary>
public sealed record SiteAlarmsEvent(string Site, List<SiteAlarm> Alarms);

/// <summary>The once-a-second stream heartbeat (the pages' NOT LIVE watchdog).</summary>
public sealed record Heartbeat(DateTimeOffset ServerTime);

/// <summary>The <c>mqtt</c> part of central's <c>/api/status</c>.</summary>
/// <param name="State">disconnected, connecting, connected.</param>
/// <param name="Broker">Scheme, host and port; never credentials.</param>
/// <param name="TopicPrefix">First topic level read.</param>
/// <param name="Oversized">Messages above the client's packet limit, skipped unread.</param>
/// <param name="LastOversized">Topic and size of the last of them.</param>
public sealed record CentralMqttStatus(string State, string Broker, string TopicPrefix, long Oversized, string? LastOversized);
