using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Vitals.Core;
using Vitals.Devices;
using Vitals.Devices.Json;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Config;
using Vitals.Gateway.Pipeline;
using Vitals.Mqtt;
using Vitals.Mqtt.Packets;
using Vitals.Storage;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Mqtt;

/// <summary>
/// The gateway's MQTT side (hardware-docs/mqtt.md): JSON observations in from <c>&lt;prefix&gt;/&lt;site&gt;/+/obs</c> for chairs
/// with an <c>mqtt</c> device; alarm transitions (QoS 1), retained chair state (at most once a second per chair) and
/// retained gateway status (last will <c>offline</c>) out; state and the <c>online</c> status are also republished every
/// <see cref="MqttOptions.StateRepublishSeconds"/>, because some broker clusters keep retained messages per node (or
/// give none to wildcard subscribers) and a central subscriber must converge anyway. Publishing only queues in the client, so a broker outage
/// never blocks the alarm engine or other feeds; QoS 1 alarm events wait in the client's queue until the broker returns.
/// A QoS 1 reading is acknowledged (PUBACK) only once the store has committed what it yielded (DESIGN rule 13), on a
/// persistent session under a client id kept in the store, so a gateway killed before the commit gets it again.
/// Binding edits apply live (<see cref="ApplyChairAsync"/>); the broker and topic prefix are read once at start.
/// </summary>
public sealed partial class MqttBridge : BackgroundService
{
    /// <summary>How often chair state is compared and, when changed, republished.</summary>
    public static readonly TimeSpan StateInterval = TimeSpan.FromSeconds(1);

    /// <summary>Store config key of the generated client id, kept so a restart resumes the same broker session.</summary>
    public const string ClientIdKey = MqttSessionId.ConfigKey;

    private readonly GatewayOptions options;
    private readonly ObservationPipeline pipeline;
    private readonly StoreWriter storeWriter;
    private readonly LoopSupervisor supervisor;
    private readonly FeedRegistry feeds;
    // Looked up once: the per-reading state message is serialized through it.
    private static readonly JsonTypeInfo<MqttChairState> StateJson = GatewayJson.Options.TypeInfo<MqttChairState>();
    private readonly LiveState live;
    private readonly TimeProvider time;
    private readonly ILogger<MqttBridge> logger;
    private readonly MqttClientOptions? clientOptions;
    private readonly MqttTopics? topics;
    private readonly Dictionary<string, byte[]> lastState = new(StringComparer.Ordinal);
    private readonly TimeSpan? republishEvery;
    private readonly string broker = "";
    private readonly string? version = typeof(MqttBridge).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
    private MqttClient? client;
    private volatile string? lastError;
    private long lastErrorAtMs = long.MinValue;
    private volatile string? lastBadMessage;
    private long published;
    private long received;
    private long refused;
    private long unknownChair;
    private int stateRefresh;
    private byte[]? onlineStatus;
    private int subscribed;

    // The reader loop's batch (ReceiveAsync runs on it alone): readings decoded, and the QoS 1 messages they came from.
    private readonly List<Observation> readings = [];
    private readonly List<MqttMessage> toAcknowledge = [];

    // Chair id -> its mqtt feed, and the same feeds by obs topic. Both replaced whole on a binding change, never changed in
    // place: read without a lock.
    private IReadOnlyDictionary<string, MqttChairFeed> chairs = new Dictionary<string, MqttChairFeed>(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, MqttChairFeed> feedsByTopic = new Dictionary<string, MqttChairFeed>(StringComparer.Ordinal);

    /// <summary>Creates the bridge; it does nothing when <see cref="GatewayOptions.Mqtt"/> is null.</summary>
    public MqttBridge(
        GatewayOptions options,
        ObservationPipeline pipeline,
        SqliteStore store,
        StoreWriter storeWriter,
        FeedRegistry feeds,
        LiveState live,
        AlarmService alarms,
        LoopSupervisor supervisor,
        TimeProvider time,
        ILogger<MqttBridge> logger,
        Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(feeds);
        ArgumentNullException.ThrowIfNull(alarms);
        ArgumentNullException.ThrowIfNull(store);
        this.options = options;
        this.pipeline = pipeline;
        this.storeWriter = storeWriter;
        this.supervisor = supervisor;
        this.feeds = feeds;
        this.live = live;
        this.time = time;
        this.logger = logger;
        if (options.Mqtt is not { } mqtt)
        {
            return;
        }

        topics = new MqttTopics(mqtt.TopicPrefix, options.Site);
        broker = mqtt.Broker();
        republishEvery = mqtt.StateRepublishSeconds > 0 ? TimeSpan.FromSeconds(mqtt.StateRepublishSeconds) : null;
        var status = JsonSerializer.SerializeToUtf8Bytes(new MqttGatewayStatus("offline", options.Site, version, null), GatewayJson.Options.TypeInfo<MqttGatewayStatus>());

        // The broker publishes the will only when the connection ends without DISCONNECT (crash, kill, network loss)
        // [MQTT-3.1.2-8]; a clean shutdown publishes "offline" itself below.
        clientOptions = mqtt.ToClientOptions(options.Site, environment) with
        {
            Will = new MqttWill(topics.Status, status, MqttQualityOfService.AtLeastOnce, Retain: true),
            CleanSession = false,
            AcknowledgeManually = true,
        };
        clientOptions = clientOptions with { ClientId = mqtt.ClientId ?? MqttSessionId.Kept(store, clientOptions.ClientId, time.GetUtcNow()) };

        chairs = options.Chairs
            .Where(c => MqttDevice(c) is not null)
            .ToDictionary(c => c.Id, c => NewFeed(c.Id, MqttDevice(c)!), StringComparer.Ordinal);
        feedsByTopic = ByTopic(chairs);
        alarms.AddSink(PublishAlarmAsync);
    }

    /// <summary>True when an MQTT broker is configured.</summary>
    public bool Enabled => clientOptions is not null;

    /// <summary>
    /// Applies the mqtt device <paramref name="chair"/> has now (its devices were just replaced): from the next message
    /// on, its obs topic is decoded with that device's mapping, or skipped as an unknown chair when it has none; its
    /// feed entry is replaced (kept when the device is unchanged). Call one change at a time. Nothing to do without a broker.
    /// </summary>
    public async Task ApplyChairAsync(ChairOptions chair, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chair);
        if (!Enabled)
        {
            return;
        }

        var before = Volatile.Read(ref chairs);
        var next = new Dictionary<string, MqttChairFeed>(before, StringComparer.Ordinal);
        next.Remove(chair.Id, out var old);
        if (MqttDevice(chair) is { } device)
        {
            next[chair.Id] = old is not null && ChairBindings.SameDevice(old.Device, device) ? old : NewFeed(chair.Id, device);
        }

        Volatile.Write(ref chairs, next);
        Volatile.Write(ref feedsByTopic, ByTopic(next));

        // After publishing: a connection change from now on reaches the new entry through OnStateChanged anyway.
        if (next.TryGetValue(chair.Id, out var current))
        {
            current.Status.SetConnected(client?.State == MqttConnectionState.Connected);
        }

        if (old is not null && !next.Values.Contains(old))
        {
            feeds.Remove(old.Status);
        }

        if (next.Count > 0 && client is { } c)
        {
            await SubscribeAsync(c, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Test hook: adjusts the client options (reconnect delays, for example) before the client starts.</summary>
    internal Func<MqttClientOptions, MqttClientOptions>? Tune { get; set; }

    /// <summary>The status endpoint's view, or null when MQTT is not configured.</summary>
    public MqttStatusView? Status()
    {
        if (!Enabled)
        {
            return null;
        }

        var c = client;
        var at = Interlocked.Read(ref lastErrorAtMs);
        return new MqttStatusView(
            (c?.State ?? MqttConnectionState.Disconnected).ToString().ToLowerInvariant(),
            broker,
            lastError,
            at == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(at),
            Interlocked.Read(ref published),
            Interlocked.Read(ref received),
            Interlocked.Read(ref refused) + (c?.DroppedQos0Count ?? 0),
            c?.PendingQos1Count ?? 0,
            Interlocked.Read(ref unknownChair),
            lastBadMessage,
            c?.OversizedSkippedCount ?? 0,
            c?.LastOversized);
    }

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (clientOptions is not null)
        {
            // Created here, not in ExecuteAsync, so alarm events raised from the first moment already have a queue.
            client = new MqttClient(Tune?.Invoke(clientOptions) ?? clientOptions, time) { OnMessages = ReceiveAsync };
            client.StateChanged += OnStateChanged;
            if (Volatile.Read(ref chairs).Count == 0)
            {
                LogNoMqttChairs(logger, broker);
            }
            else
            {
                // Queued now, sent (and re-sent after every reconnect) once connected.
                await SubscribeAsync(client, cancellationToken).ConfigureAwait(false);
            }

            client.Start();
            LogStarting(logger, broker, topics!.Prefix);
        }
        else if (options.Chairs.Any(c => MqttDevice(c) is not null))
        {
            LogNoBroker(logger);
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (client is not { } c || topics is null)
        {
            return;
        }

        try
        {
            if (c.State == MqttConnectionState.Connected)
            {
                // A clean DISCONNECT discards the will [MQTT-3.14.4-3], so say "offline" ourselves.
                await PublishAsync(topics.Status, new MqttGatewayStatus("offline", options.Site, version, time.GetUtcNow()), MqttQualityOfService.AtLeastOnce, true).ConfigureAwait(false);
                using var flush = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                flush.CancelAfter(TimeSpan.FromSeconds(3));
                await c.FlushAsync(flush.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or MqttQueueFullException or ObjectDisposedException)
        {
            // Shutting down anyway; the will covers a status we could not send.
        }

        c.StateChanged -= OnStateChanged;
        await c.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        client is not { } c ? Task.CompletedTask : supervisor.RunAsync("mqtt.state", ct => PublishStateAsync(c, ct), stoppingToken);

    /// <summary>
    /// Runs on the MQTT client's reader loop with every message one socket read brought in: decodes them and judges all
    /// their readings right there (<see cref="ObservationPipeline.JudgeAsync"/>), so a read wakes no other thread before
    /// the store's; a batch's QoS 1 messages share one wait for the store (measured with <c>mqtt-ingest</c> and the shared
    /// harness: see the README, "Where the time goes").
    /// </summary>
    private ValueTask ReceiveAsync(IReadOnlyList<MqttMessage> messages, CancellationToken ct)
    {
        var c = client!;

        // Messages taken together are received together: one receive time, read once.
        var now = time.GetUtcNow();
        var byTopic = Volatile.Read(ref feedsByTopic);
        for (var i = 0; i < messages.Count; i++) // not foreach: an interface's enumerator is an object per read
        {
            Take(c, messages[i], byTopic, now, readings, toAcknowledge);
        }

        Interlocked.Add(ref received, messages.Count);
        return KeepAsync(c, ct);
    }

    /// <summary>Decodes one message into <paramref name="readings"/>; a QoS 1 message that yielded any waits in <paramref name="toAcknowledge"/>.</summary>
    private void Take(MqttClient c, MqttMessage message, IReadOnlyDictionary<string, MqttChairFeed> byTopic, DateTimeOffset now, List<Observation> readings, List<MqttMessage> toAcknowledge)
    {
        // A retained message is one stored earlier, replayed at every (re)subscribe; live forwarding always has
        // RETAIN 0 [MQTT-3.3.1-9]. An old reading stamped with the receive time would be wrong, so it is skipped.
        if (message.Retain)
        {
            c.Acknowledge(message);
            return;
        }

        // By the whole topic: no chair id cut out of it per message.
        if (!byTopic.TryGetValue(message.Topic, out var feed))
        {
            Interlocked.Increment(ref unknownChair);
            lastBadMessage = $"{Truncate(topics!.ChairOf(message.Topic) ?? message.Topic)}: no chair with an mqtt device";
            c.Acknowledge(message);
            return;
        }

        var before = readings.Count;
        var result = feed.Codec.Decode(message.Payload, new DecodeContext(options.Site, feed.Chair, feed.Device.Id, now, TimeZoneInfo.Utc), readings);
        if (result.Ok)
        {
            feed.Status.FrameOk(now, message.Payload.Length);
        }
        else
        {
            feed.Status.FrameBad(result.Error ?? "bad message", message.Payload.Length);
            lastBadMessage = $"{feed.Chair}: {result.Error}";
        }

        if (readings.Count == before)
        {
            c.Acknowledge(message); // nothing to store: counted above, and the broker need not send it again
        }
        else if (message.Qos == MqttQualityOfService.AtLeastOnce)
        {
            toAcknowledge.Add(message);
        }
    }

    /// <summary>
    /// Judges the batch's readings; its QoS 1 messages are acknowledged once the batch's last reading is committed
    /// (readings are committed in queue order, so the last stands for all). The wait is a continuation, never the
    /// reader's: the broker keeps sending while earlier messages are still on their way to disk. A batch the store will
    /// not keep (writes failing, memory hold full: counted as not recorded) is acknowledged too: PUBACKs leave in
    /// arrival order [MQTT-4.6.0-2], so one withheld would hold back every later one, and the broker would stop
    /// sending the readings the alarms are judged on.
    /// </summary>
    private async ValueTask KeepAsync(MqttClient c, CancellationToken ct)
    {
        if (readings.Count == 0)
        {
            return;
        }

        var last = readings[^1];
        var acknowledged = toAcknowledge.Count > 0 ? toAcknowledge.ToArray() : null;
        var stored = acknowledged is null ? null : storeWriter.WhenStored(last); // watched before it is queued, so a quick commit cannot pass unseen
        try
        {
            await pipeline.JudgeAsync(readings, ct).ConfigureAwait(false);
        }
        catch when (stored is not null)
        {
            storeWriter.Forget(last); // not (all) queued: no PUBACK, the broker sends them again
            throw;
        }
        finally
        {
            readings.Clear();
            toAcknowledge.Clear();
        }

        if (stored is not null)
        {
            // Queued: acknowledged once committed, or, while the store fails, now that they are held in memory. Waiting for
            // commits then would stop the broker at its in-flight limit (20 in mosquitto by default), and with it the
            // readings the alarms are judged on; a crash meanwhile loses what is held, as it does for every feed.
            _ = Task.WhenAny(stored, storeWriter.WhenFailing).ContinueWith(
                static (_, state) =>
                {
                    var (client, messages) = ((MqttClient, MqttMessage[]))state!;
                    foreach (var message in messages)
                    {
                        client.Acknowledge(message);
                    }
                },
                (c, acknowledged!),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task PublishStateAsync(MqttClient c, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(StateInterval, time);
        var lastRound = time.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                // State is "latest wins": nothing is queued while disconnected, and everything is re-sent after a connect.
                if (c.State != MqttConnectionState.Connected)
                {
                    continue;
                }

                if (Interlocked.Exchange(ref stateRefresh, 0) == 1)
                {
                    lastState.Clear();
                    lastRound = time.GetTimestamp();
                }
                else if (republishEvery is { } every && time.GetElapsedTime(lastRound) >= every)
                {
                    // A full round even when nothing changed: retained copies may be missing where a subscriber connects.
                    lastState.Clear();
                    lastRound = time.GetTimestamp();
                    if (Volatile.Read(ref onlineStatus) is { } status)
                    {
                        await c.PublishAsync(topics!.Status, status, MqttQualityOfService.AtLeastOnce, retain: true, ct).ConfigureAwait(false);
                        Interlocked.Increment(ref published);
                    }
                }

                foreach (var chair in options.Chairs)
                {
                    if (live.Snapshot(chair.Id) is not { } view)
                    {
                        continue;
                    }

                    var state = new MqttChairState(
                        options.Site,
                        view.Id,
                        view.Name,
                        view.Values.OrderBy(v => v.Key).ToDictionary(
                            v => v.Key.ShortName(), v => new MqttValue(v.Value.Value, v.Value.Unit, v.Value.At, v.Value.Quality == ObservationQuality.Ok ? null : v.Value.Quality)),
                        [.. view.Alarms.Select(a => new MqttActiveAlarm(a.Rule, a.Sign, a.Priority, a.Kind, a.State, a.Value, a.Limit, a.At, a.Message))],
                        [.. view.StaleSigns.Select(sign => sign.ShortName())]);
                    var json = JsonSerializer.SerializeToUtf8Bytes(state, StateJson); // serialized once: compared, then sent
                    if (lastState.TryGetValue(chair.Id, out var last) && last.AsSpan().SequenceEqual(json))
                    {
                        continue;
                    }

                    lastState[chair.Id] = json;
                    await c.PublishAsync(topics!.State(chair.Id), json, MqttQualityOfService.AtMostOnce, retain: true, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref published);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async ValueTask PublishAlarmAsync(AlarmEvent e, CancellationToken ct)
    {
        if (client is null || topics is null)
        {
            return;
        }

        try
        {
            await PublishAsync(topics.Alarm(e.Chair), MqttAlarmMessage.From(e), MqttQualityOfService.AtLeastOnce, false).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttQueueFullException or ObjectDisposedException or InvalidOperationException)
        {
            // The alarm still reached the dashboard and the event log; only this copy is lost, and it is counted.
            Interlocked.Increment(ref refused);
            LogAlarmNotQueued(logger, e.Chair, e.Rule, ex.Message);
        }
    }

    private Task PublishAsync<T>(string topic, T payload, MqttQualityOfService qos, bool retain) =>
        PublishAsync(topic, JsonSerializer.SerializeToUtf8Bytes(payload, GatewayJson.Options.TypeInfo<T>()), qos, retain);

    private async Task PublishAsync(string topic, byte[] payload, MqttQualityOfService qos, bool retain)
    {
        await client!.PublishAsync(topic, payload, qos, retain).ConfigureAwait(false);
        Interlocked.Increment(ref published);
    }

    private void OnStateChanged(object? sender, MqttConnectionStateChangedEventArgs e)
    {
        var connected = e.State == MqttConnectionState.Connected;
        foreach (var feed in Volatile.Read(ref chairs).Values)
        {
            feed.Status.SetConnected(connected);
        }

        if (connected)
        {
            LogConnected(logger, broker);
            Interlocked.Exchange(ref stateRefresh, 1);

            // Queued first thing after CONNACK; it replaces a retained "offline" left by an earlier will. The same bytes
            // (online since this connect) go out again with every republish round.
            var online = JsonSerializer.SerializeToUtf8Bytes(new MqttGatewayStatus("online", options.Site, version, time.GetUtcNow()), GatewayJson.Options.TypeInfo<MqttGatewayStatus>());
            Volatile.Write(ref onlineStatus, online);
            _ = PublishAsync(topics!.Status, online, MqttQualityOfService.AtLeastOnce, true)
                .ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return;
        }

        if (e.Error is { } error && e.State != MqttConnectionState.Disposed)
        {
            var reason = error is MqttConnectException { ReturnCode: MqttConnectReturnCode.BadUserNameOrPassword or MqttConnectReturnCode.NotAuthorized }
                ? $"{error.Message}. Fix: check the user in mqtt.url and the password in {options.Mqtt!.PasswordEnv ?? MqttOptions.DefaultPasswordEnv}."
                : error.Message;
            lastError = reason;
            Interlocked.Exchange(ref lastErrorAtMs, time.GetUtcNow().ToUnixTimeMilliseconds());
            LogConnectionProblem(logger, broker, reason);
        }
    }

    /// <summary>The chair's device read from MQTT (its first of kind <c>mqtt</c>), if any.</summary>
    private static DeviceOptions? MqttDevice(ChairOptions chair) => chair.Devices.FirstOrDefault(d => d.Kind == "mqtt");

    private MqttChairFeed NewFeed(string chairId, DeviceOptions device) =>
        new(chairId, device, feeds.Register(chairId, device.Id, "mqtt"), new JsonObservationCodec(device.Mapping));

    // <prefix>/<site>/<chair>/obs, the topics MqttTopics.ChairOf accepts for these chairs.
    private Dictionary<string, MqttChairFeed> ByTopic(IReadOnlyDictionary<string, MqttChairFeed> feedsByChair) =>
        feedsByChair.ToDictionary(f => $"{topics!.Prefix}/{topics.Site}/{f.Key}/obs", f => f.Value, StringComparer.Ordinal);

    // The one obs filter covers every chair: subscribed once, when the first chair has an mqtt device.
    private async Task SubscribeAsync(MqttClient c, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref subscribed, 1) == 1)
        {
            return;
        }

        try
        {
            await c.SubscribeAsync(topics!.ObservationFilter, MqttQualityOfService.AtLeastOnce, ct).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            // Still recorded in the client and re-sent at the next connect.
            LogSubscribeProblem(logger, broker, e.Message);
        }
        catch (MqttSubscribeException e)
        {
            Interlocked.Exchange(ref subscribed, 0);
            lastError = e.Message;
            Interlocked.Exchange(ref lastErrorAtMs, time.GetUtcNow().ToUnixTimeMilliseconds());
            LogSubscribeProblem(logger, broker, e.Message);
        }
    }

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "...";

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "MQTT: connecting to {Broker}, topic prefix '{Prefix}'")]
    private static partial void LogStarting(ILogger logger, string broker, string prefix);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "MQTT: connected to {Broker}")]
    private static partial void LogConnected(ILogger logger, string broker);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "MQTT: {Broker}: {Reason}; retrying with backoff, alarms keep queueing")]
    private static partial void LogConnectionProblem(ILogger logger, string broker, string reason);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Error, Message = "MQTT: alarm event {Rule} of chair {Chair} not queued for the broker: {Reason}")]
    private static partial void LogAlarmNotQueued(ILogger logger, string chair, string rule, string reason);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "MQTT: chairs have mqtt devices but no broker is configured. Fix: add the mqtt section or pass --mqtt URL")]
    private static partial void LogNoBroker(ILogger logger);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Information, Message = "MQTT: publishing alarms and state to {Broker}; no chair has an mqtt device, so nothing is subscribed")]
    private static partial void LogNoMqttChairs(ILogger logger, string broker);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Warning, Message = "MQTT: {Broker}: subscribing to chair readings: {Reason}")]
    private static partial void LogSubscribeProblem(ILogger logger, string broker, string reason);

    private sealed record MqttChairFeed(string Chair, DeviceOptions Device, FeedStatus Status, JsonObservationCodec Codec);
}
