using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Polly;
using Polly.Retry;
using Vitals.Mqtt.Packets;

namespace Vitals.Mqtt;

/// <summary>
/// MQTT 3.1.1 client over TCP or TLS. One background loop owns the connection: it connects (Polly retry with
/// exponential backoff and jitter), then runs a reader, a writer and a keep-alive task until the connection fails,
/// and starts over. Session state (queues, in-flight QoS 1, subscriptions) lives here and survives reconnects.
/// </summary>
/// <remarks>
/// Outgoing queue overflow policy: QoS 0 messages are best-effort, so when <see cref="MqttClientOptions.MaxQueuedQos0"/>
/// are waiting the oldest is dropped (counted in <see cref="DroppedQos0Count"/>). QoS 1 messages are never dropped:
/// they stay queued until PUBACK, and once <see cref="MqttClientOptions.MaxPendingQos1"/> are pending the publisher
/// gets <see cref="MqttQueueFullException"/> so it can decide (alarm events must not vanish silently).
/// Pending messages are held in memory only: they survive reconnects, not a process restart.
/// </remarks>
public sealed class MqttClient : IMqttClient
{
    private readonly MqttClientOptions _options;
    private readonly TimeProvider _time;
    private MqttPacketReader? _packetReader; // made at the first connect, once OnMessages is known
    private readonly ResiliencePipeline _reconnect;
    private readonly X509Certificate2Collection? _caCertificates;
    private readonly X509Certificate2? _clientCertificate;
    private readonly Channel<MqttMessage> _messages;
    private readonly SemaphoreSlim _writeSignal = new(0);
    private readonly CancellationTokenSource _stopping = new();

    // Session state, guarded by _lock.
    private readonly Lock _lock = new();
    private readonly Queue<MqttPacket> _control = new();
    private readonly Queue<PublishPacket> _qos0 = new();
    private readonly LinkedList<PublishPacket> _unsentQos1 = new();
    private readonly Dictionary<ushort, PublishPacket> _inflightQos1 = [];
    private readonly HashSet<ushort> _qos1Ids = [];
    private readonly Dictionary<ushort, TaskCompletionSource<MqttPacket?>> _pendingAcks = [];
    private readonly Dictionary<string, MqttQualityOfService> _subscriptions = new(StringComparer.Ordinal);
    private readonly List<TaskCompletionSource> _flushWaiters = [];

    // Received QoS 1 messages whose PUBACK is not yet written, in arrival order [MQTT-4.6.0-2]; only of the current connection.
    private readonly Queue<InboundAck> _unacked = new();
    private int _connectionNumber;
    private ushort _lastPacketId;
    private bool _connected;
    private long _droppedQos0;
    private long _skippedOversized;
    private volatile string? _lastOversized;

    private Task? _loop;
    private MqttConnection? _current;
    private TaskCompletionSource? _disconnectWritten;
    private volatile MqttConnectionState _state = MqttConnectionState.Disconnected;

    /// <param name="options">Validated here; invalid settings throw <see cref="ArgumentException"/> at once.</param>
    /// <param name="timeProvider">Clock for keep-alive, timeouts and backoff; defaults to <see cref="TimeProvider.System"/>.</param>
    public MqttClient(MqttClientOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _messages = Channel.CreateBounded<MqttMessage>(new BoundedChannelOptions(options.ReceiveCapacity)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        if (options.CaFile is not null)
        {
            _caCertificates = [];
            _caCertificates.ImportFromPemFile(options.CaFile);
            if (_caCertificates.Count == 0)
            {
                throw new ArgumentException($"MQTT CA file \"{options.CaFile}\" holds no PEM certificate.", nameof(options));
            }
        }

        if (options.ClientCertificateFile is not null)
        {
            _clientCertificate = options.ClientKeyFile is not null
                ? X509Certificate2.CreateFromPemFile(options.ClientCertificateFile, options.ClientKeyFile)
                : X509CertificateLoader.LoadPkcs12FromFile(options.ClientCertificateFile, password: null);
        }

        _reconnect = new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException || !_stopping.IsCancellationRequested),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.ReconnectDelay,
                MaxDelay = options.ReconnectMaxDelay,
                OnRetry = args =>
                {
                    SetState(MqttConnectionState.Disconnected, args.Outcome.Exception);
                    return default;
                },
            })
            .Build();
    }

    public event EventHandler<MqttConnectionStateChangedEventArgs>? StateChanged;

    /// <summary>
    /// When set (before <see cref="Start"/> or <see cref="ConnectAsync"/>), received messages are handed to it on the
    /// reader's own loop, all those one socket read brought in per call and in arrival order, instead of going through
    /// <see cref="Messages"/>: no wake-up of another thread per read. The socket is not read until it completes
    /// (back-pressure, as a full channel); an exception ends the connection (a persistent session gets its QoS 1
    /// messages again). The list is reused after the call, and each message's <see cref="MqttMessage.Payload"/> is valid
    /// only until the call completes (it is lent from the receive buffer, not copied): copy what is kept longer.
    /// QoS 1 messages are acknowledged when it completes, or with
    /// <see cref="MqttClientOptions.AcknowledgeManually"/> when <see cref="Acknowledge"/> is called.
    /// </summary>
    public Func<IReadOnlyList<MqttMessage>, CancellationToken, ValueTask>? OnMessages { get; init; }

    public MqttConnectionState State => _state;

    public ChannelReader<MqttMessage> Messages => _messages.Reader;

    public int PendingQos1Count
    {
        get
        {
            lock (_lock)
            {
                return _unsentQos1.Count + _inflightQos1.Count;
            }
        }
    }

    public long DroppedQos0Count => Interlocked.Read(ref _droppedQos0);

    public long OversizedSkippedCount => Interlocked.Read(ref _skippedOversized);

    /// <summary>Pauses the current connection's reader took to let a stream of messages gather (see <see cref="MqttConnection.CoalesceWait"/>).</summary>
    internal long CoalescePauses => _current?.CoalescePauses ?? 0;

    public string? LastOversized => _lastOversized;

    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_state == MqttConnectionState.Disposed, this);
        if (_loop is not null)
        {
            throw new InvalidOperationException("The MQTT client is already started.");
        }

        MqttConnection connection;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            connection = await EstablishAsync(linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SetState(MqttConnectionState.Disconnected, ex);
            throw;
        }

        _loop = Task.Run(() => RunAsync(connection), CancellationToken.None);
    }

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_state == MqttConnectionState.Disposed, this);
        if (_loop is not null)
        {
            throw new InvalidOperationException("The MQTT client is already started.");
        }

        _loop = Task.Run(() => RunAsync(null), CancellationToken.None);
    }

    public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos = MqttQualityOfService.AtMostOnce, bool retain = false, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_state == MqttConnectionState.Disposed, this);
        ValidateArgument(() => MqttTopic.ValidateTopicName(topic), nameof(topic));
        if (qos == MqttQualityOfService.ExactlyOnce)
        {
            throw new ArgumentException("QoS 2 publishing is not supported by this client; use QoS 1 (at least once).", nameof(qos));
        }

        lock (_lock)
        {
            if (qos == MqttQualityOfService.AtMostOnce)
            {
                if (_qos0.Count >= _options.MaxQueuedQos0)
                {
                    _qos0.Dequeue();
                    _droppedQos0++;
                }

                _qos0.Enqueue(new PublishPacket(topic, payload.ToArray(), qos, retain));
            }
            else
            {
                if (_unsentQos1.Count + _inflightQos1.Count >= _options.MaxPendingQos1)
                {
                    throw new MqttQueueFullException(
                        $"MQTT outgoing QoS 1 queue is full ({_options.MaxPendingQos1} messages not yet acknowledged by the broker); message to \"{topic}\" not queued.");
                }

                // [MQTT-4.3.2-1] a fresh, unused packet identifier, kept across resends.
                var id = NextPacketId();
                _qos1Ids.Add(id);
                _unsentQos1.AddLast(new PublishPacket(topic, payload.ToArray(), qos, retain, Dup: false, id));
            }
        }

        _writeSignal.Release();
        return Task.CompletedTask;
    }

    public async Task SubscribeAsync(string topicFilter, MqttQualityOfService qos = MqttQualityOfService.AtLeastOnce, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_state == MqttConnectionState.Disposed, this);
        ValidateArgument(() => MqttTopic.ValidateTopicFilter(topicFilter), nameof(topicFilter));
        if (qos == MqttQualityOfService.ExactlyOnce)
        {
            throw new ArgumentException(
                $"QoS 2 subscription to \"{topicFilter}\" refused: this client implements QoS 0 and 1 only; subscribe with QoS 1 (at least once).",
                nameof(qos));
        }

        TaskCompletionSource<MqttPacket?> ack;
        lock (_lock)
        {
            _subscriptions[topicFilter] = qos;
            if (!_connected)
            {
                return; // Sent with the others when the connection comes up.
            }

            ack = RegisterAck(out var id);
            _control.Enqueue(new SubscribePacket(id, [new MqttSubscription(topicFilter, qos)]));
        }

        _writeSignal.Release();
        var reply = await WaitForAckAsync(ack, "SUBSCRIBE", topicFilter, cancellationToken).ConfigureAwait(false);
        if (reply is SubAckPacket { ReturnCodes: [SubAckPacket.Failure] })
        {
            lock (_lock)
            {
                _subscriptions.Remove(topicFilter);
            }

            throw new MqttSubscribeException($"MQTT broker refused the subscription to \"{topicFilter}\" (SUBACK 0x80).");
        }
    }

    public async Task UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_state == MqttConnectionState.Disposed, this);
        ValidateArgument(() => MqttTopic.ValidateTopicFilter(topicFilter), nameof(topicFilter));
        TaskCompletionSource<MqttPacket?> ack;
        lock (_lock)
        {
            _subscriptions.Remove(topicFilter);
            if (!_connected)
            {
                return;
            }

            ack = RegisterAck(out var id);
            _control.Enqueue(new UnsubscribePacket(id, [topicFilter]));
        }

        _writeSignal.Release();
        await WaitForAckAsync(ack, "UNSUBSCRIBE", topicFilter, cancellationToken).ConfigureAwait(false);
    }

    public void Acknowledge(MqttMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Ack is not { } ack)
        {
            return;
        }

        lock (_lock)
        {
            if (ack.Done)
            {
                return;
            }

            ack.Done = true;
            if (ack.Connection != _connectionNumber || !ReleaseAcknowledged())
            {
                return;
            }
        }

        SignalWriter();
    }

    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (IsIdle())
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushWaiters.Add(waiter);
            return waiter.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Sends DISCONNECT if connected (so the broker discards the will [MQTT-3.14.4-3]), stops reconnecting and closes.
    /// Messages still queued are discarded: call <see cref="FlushAsync"/> first to deliver them.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_state == MqttConnectionState.Disposed)
        {
            return;
        }

        TaskCompletionSource? written = null;
        lock (_lock)
        {
            if (_connected)
            {
                written = _disconnectWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _control.Enqueue(DisconnectPacket.Instance);
            }
        }

        if (written is not null)
        {
            _writeSignal.Release();
            await Task.WhenAny(written.Task, Task.Delay(TimeSpan.FromSeconds(2), _time)).ConfigureAwait(false);
        }

        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>Test hook: drop the socket without DISCONNECT, as a crash would, and stop reconnecting.</summary>
    internal Task AbortAsync() => StopAsync();

    private async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _current?.Close();
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected on stop.
            }
        }

        SetState(MqttConnectionState.Disposed, null);
        _messages.Writer.TryComplete();
        lock (_lock)
        {
            foreach (var waiter in _flushWaiters)
            {
                waiter.TrySetException(new ObjectDisposedException(nameof(MqttClient)));
            }

            _flushWaiters.Clear();
        }

        _stopping.Dispose();
        _writeSignal.Dispose();
    }

    private async Task<MqttPacket?> WaitForAckAsync(TaskCompletionSource<MqttPacket?> ack, string what, string filter, CancellationToken cancellationToken)
    {
        try
        {
            return await ack.Task.WaitAsync(_options.EffectiveResponseTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(
                $"MQTT broker did not acknowledge {what} \"{filter}\" within {_options.EffectiveResponseTimeout.TotalSeconds:0.#} s; it stays recorded and is re-sent on reconnect.", ex);
        }
    }

    private static void ValidateArgument(Action validate, string name)
    {
        try
        {
            validate();
        }
        catch (MqttProtocolException ex)
        {
            throw new ArgumentException(ex.Message, name, ex);
        }
    }

    private async Task RunAsync(MqttConnection? connection)
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                connection ??= await _reconnect.ExecuteAsync(async ct => await EstablishAsync(ct).ConfigureAwait(false), token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }

            var connectedAt = _time.GetTimestamp();
            var error = await RunSessionAsync(connection).ConfigureAwait(false);
            connection = null;
            if (token.IsCancellationRequested)
            {
                return;
            }

            SetState(MqttConnectionState.Disconnected, error);

            // A connection that dies right after CONNACK must not become a tight reconnect loop.
            var lived = _time.GetElapsedTime(connectedAt);
            if (lived < _options.ReconnectDelay)
            {
                try
                {
                    await Task.Delay(_options.ReconnectDelay - lived, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<MqttConnection> EstablishAsync(CancellationToken cancellationToken)
    {
        SetState(MqttConnectionState.Connecting, null);
        var endpoint = $"{_options.Host}:{_options.Port}";
        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        MqttConnection? connection = null;
        try
        {
            try
            {
                await socket.ConnectAsync(_options.Host, _options.Port, token).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new MqttConnectException($"Cannot reach MQTT broker {endpoint}: {ex.Message}", ex);
            }

            Stream stream = new NetworkStream(socket, ownsSocket: true);
            // A handler is done with a read's messages before the next read: it gets payloads lent from the receive buffer.
            _packetReader ??= new MqttPacketReader(_options.MaxPacketSize) { LendsPayloads = OnMessages is not null };
            connection = new MqttConnection(socket, stream, _packetReader, _time);
            if (_options.UseTls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                connection.Stream = ssl;
                string? tlsProblem = null;
                var tls = new SslClientAuthenticationOptions
                {
                    TargetHost = _options.TlsServerName ?? _options.Host,
                    RemoteCertificateValidationCallback = (_, certificate, chain, errors) => ValidateServerCertificate(certificate, errors, out tlsProblem),
                    ClientCertificates = _clientCertificate is null ? null : [_clientCertificate],
                };
                try
                {
                    await ssl.AuthenticateAsClientAsync(tls, token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is AuthenticationException or IOException)
                {
                    throw new MqttConnectException($"TLS handshake with MQTT broker {endpoint} failed: {tlsProblem ?? ex.Message}", ex);
                }
            }

            var connect = new ConnectPacket
            {
                ClientId = _options.ClientId,
                CleanSession = _options.CleanSession,
                KeepAliveSeconds = (ushort)_options.KeepAliveSeconds,
                Username = _options.Username,
                Password = _options.Password,
                Will = _options.Will,
            };
            MqttPacket reply;
            try
            {
                await connection.WriteAsync(MqttPacketWriter.ToArray(connect), token).ConfigureAwait(false);
                reply = await connection.ReadPacketAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or MqttProtocolException)
            {
                throw new MqttConnectException(
                    $"MQTT broker {endpoint} closed or broke the connection before CONNACK ({ex.Message}); is it an MQTT port, and TLS or plain as configured?", ex);
            }

            // [MQTT-3.2.0-1] the first packet from the server is CONNACK.
            if (reply is not ConnAckPacket connAck)
            {
                throw new MqttConnectException($"MQTT broker {endpoint} sent {reply.Type} instead of CONNACK.");
            }

            if (connAck.ReturnCode != MqttConnectReturnCode.Accepted)
            {
                throw new MqttConnectException(connAck.ReturnCode);
            }

            OnConnected();
            _current = connection;
            SetState(MqttConnectionState.Connected, null);
            return connection;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            connection?.Close();
            socket.Dispose();
            throw new MqttConnectException($"MQTT broker {endpoint} did not complete the connection within {_options.ConnectTimeout.TotalSeconds:0.#} s.", ex);
        }
        catch
        {
            connection?.Close();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Resets per-connection state and queues the resubscribe and the resends, under the lock.</summary>
    private void OnConnected()
    {
        List<TaskCompletionSource<MqttPacket?>> orphans;
        lock (_lock)
        {
            _connected = true;
            _control.Clear();
            orphans = [.. _pendingAcks.Values];
            _pendingAcks.Clear();

            // Resubscribe: a clean session forgot them, and a persistent one may have been lost with a broker restart.
            if (_subscriptions.Count > 0)
            {
                var ack = RegisterAck(out var id);
                var filters = _subscriptions.Select(s => new MqttSubscription(s.Key, s.Value)).ToArray();
                _control.Enqueue(new SubscribePacket(id, filters));
                _ = ReportRefusedResubscriptionsAsync(ack.Task, filters);
            }

            // [MQTT-4.4.0-1] resend unacknowledged QoS 1 messages with their original identifiers, DUP set [MQTT-3.3.1-1],
            // ahead of the ones never sent so the order is kept.
            // Identifiers are handed out in sequence, so the oldest is the one closest after the last issued (mod 2^16).
            foreach (var packet in _inflightQos1.Values.OrderByDescending(p => (p.PacketId - _lastPacketId - 1) & 0xFFFF))
            {
                _unsentQos1.AddFirst(packet with { Dup = true });
            }

            _inflightQos1.Clear();
        }

        // Subscribe calls waiting on the old connection: the subscription is recorded and was just re-sent.
        foreach (var orphan in orphans)
        {
            orphan.TrySetResult(null);
        }
    }

    /// <summary>No caller waits for a resubscription, so a refusal is reported through <see cref="StateChanged"/>.</summary>
    private async Task ReportRefusedResubscriptionsAsync(Task<MqttPacket?> ack, MqttSubscription[] filters)
    {
        if (await ack.ConfigureAwait(false) is SubAckPacket subAck)
        {
            var refused = filters.Where((_, i) => i < subAck.ReturnCodes.Count && subAck.ReturnCodes[i] == SubAckPacket.Failure).Select(f => f.Filter).ToArray();
            if (refused.Length > 0)
            {
                SetState(MqttConnectionState.Connected, new MqttSubscribeException(
                    $"MQTT broker refused the resubscription to {string.Join(", ", refused.Select(f => $"\"{f}\""))} after reconnect (SUBACK 0x80)."));
            }
        }
    }

    private bool ValidateServerCertificate(X509Certificate? certificate, SslPolicyErrors errors, out string? problem)
    {
        problem = null;
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            problem = $"the broker certificate does not name \"{_options.TlsServerName ?? _options.Host}\"";
            return false;
        }

        if (certificate is null)
        {
            problem = "the broker sent no certificate";
            return false;
        }

        if (_caCertificates is null)
        {
            if (errors != SslPolicyErrors.None)
            {
                problem = $"the broker certificate is not trusted by the system store ({errors}); set a CA file";
            }

            return errors == SslPolicyErrors.None;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_caCertificates);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        if (chain.Build(leaf))
        {
            return true;
        }

        var reasons = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct());
        problem = $"the broker certificate is not signed by the CA in \"{_options.CaFile}\" ({reasons})";
        return false;
    }

    private async Task<Exception> RunSessionAsync(MqttConnection connection)
    {
        using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var token = sessionCts.Token;
        var tasks = new[]
        {
            Task.Run(() => ReadLoopAsync(connection, token), CancellationToken.None),
            Task.Run(() => WriteLoopAsync(connection, token), CancellationToken.None),
            Task.Run(() => KeepAliveLoopAsync(connection, token), CancellationToken.None),
        };
        var first = await Task.WhenAny(tasks).ConfigureAwait(false);
        await sessionCts.CancelAsync().ConfigureAwait(false);
        connection.Close();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The first failure is the one reported; the others follow from closing the socket.
        }

        List<TaskCompletionSource<MqttPacket?>> orphans;
        lock (_lock)
        {
            _connected = false;
            orphans = [.. _pendingAcks.Values];
            _pendingAcks.Clear();

            // Packet ids belong to this connection's exchange: what it still owed is redelivered by a persistent session.
            _connectionNumber++;
            _unacked.Clear();
        }

        foreach (var orphan in orphans)
        {
            orphan.TrySetResult(null);
        }

        return first.Exception?.GetBaseException() ?? new IOException("MQTT connection closed.");
    }

    private async Task ReadLoopAsync(MqttConnection connection, CancellationToken cancellationToken)
    {
        var received = new List<MqttMessage>();
        var owned = new List<InboundAck>(); // QoS 1 messages the client acknowledges itself (not AcknowledgeManually)
        connection.CoalesceWait = _options.CoalesceWait;
        connection.CoalesceAfter = _options.CoalesceAfter;
        while (true)
        {
            MqttPacket? packet;
            try
            {
                packet = await connection.ReadPacketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException ex)
            {
                throw new IOException("MQTT broker closed the connection.", ex);
            }

            // Every packet one socket read brought in is handled before the next read, and its messages handed over
            // together: one call of OnMessages per read, and no async step per packet.
            do
            {
                Handle(packet, received, owned);
            }
            while (connection.TryReadBufferedPacket(out packet));

            if (received.Count == 0)
            {
                continue;
            }

            if (OnMessages is { } handOver)
            {
                await handOver(received, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                foreach (var message in received)
                {
                    if (!_messages.Writer.TryWrite(message))
                    {
                        await _messages.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            received.Clear();
            if (owned.Count > 0)
            {
                // [MQTT-4.3.2-2] acknowledged once the application has them; their PUBACKs were queued in arrival order.
                AcknowledgeOwned(owned);
                owned.Clear();
            }
        }
    }

    /// <summary>Handles one packet from the broker; a PUBLISH is added to <paramref name="received"/> for the application.</summary>
    private void Handle(MqttPacket packet, List<MqttMessage> received, List<InboundAck> owned)
    {
        switch (packet)
        {
            case PublishPacket publish:
                if (publish.Qos == MqttQualityOfService.ExactlyOnce)
                {
                    // We never subscribe above QoS 1, so the broker must not send QoS 2 [MQTT-3.8.4-6].
                    throw new MqttProtocolException("Broker sent a QoS 2 PUBLISH although no subscription granted QoS 2.");
                }

                // Queued before the application can see the message, so its acknowledgement always finds it.
                var ack = publish.Qos == MqttQualityOfService.AtLeastOnce ? ExpectAck(publish.PacketId) : null;
                if (ack is not null && !_options.AcknowledgeManually)
                {
                    owned.Add(ack);
                }

                received.Add(new MqttMessage(publish.Topic, publish.Payload, publish.Qos, publish.Retain)
                {
                    Ack = _options.AcknowledgeManually ? ack : null,
                });
                break;
            case OversizedPublishPacket oversized:
                // One message too big to take (a retained one would come back on every reconnect) must not cost
                // the connection: it is counted and skipped, and at QoS 1 acknowledged so the broker drops it.
                Interlocked.Increment(ref _skippedOversized);
                _lastOversized = $"{oversized.Topic} ({oversized.Size} bytes)";
                if (oversized.Qos == MqttQualityOfService.AtLeastOnce)
                {
                    AcknowledgeNow(oversized.PacketId);
                }

                break;
            case PubAckPacket pubAck:
                lock (_lock)
                {
                    if (_inflightQos1.Remove(pubAck.PacketId))
                    {
                        _qos1Ids.Remove(pubAck.PacketId);
                    }

                    CompleteFlushWaitersIfIdle();
                }

                break;
            case SubAckPacket or UnsubAckPacket:
                TaskCompletionSource<MqttPacket?>? waiter;
                lock (_lock)
                {
                    var id = packet is SubAckPacket s ? s.PacketId : ((UnsubAckPacket)packet).PacketId;
                    _pendingAcks.Remove(id, out waiter);
                }

                waiter?.TrySetResult(packet);
                break;
            case PingRespPacket:
                break;
            default:
                throw new MqttProtocolException($"Broker sent {packet.Type}, which a server must not send to a client here.");
        }
    }

    private async Task WriteLoopAsync(MqttConnection connection, CancellationToken cancellationToken)
    {
        const int BatchBytes = 64 * 1024;
        var buffer = new ArrayBufferWriter<byte>(BatchBytes);
        while (true)
        {
            // Drain before the first wait: a new connection starts with the resubscribe and the resends queued.
            while (true)
            {
                buffer.ResetWrittenCount();
                var disconnect = false;
                lock (_lock)
                {
                    while (!disconnect && buffer.WrittenCount < BatchBytes && _control.TryDequeue(out var control))
                    {
                        MqttPacketWriter.Write(control, buffer);
                        disconnect = control is DisconnectPacket;
                    }

                    // Nothing may follow DISCONNECT on the wire [MQTT-3.14.4-2].
                    while (!disconnect && buffer.WrittenCount < BatchBytes && _unsentQos1.First is { } node)
                    {
                        _unsentQos1.RemoveFirst();
                        _inflightQos1[node.Value.PacketId] = node.Value;
                        MqttPacketWriter.Write(node.Value, buffer);
                    }

                    while (!disconnect && buffer.WrittenCount < BatchBytes && _qos0.TryDequeue(out var publish))
                    {
                        MqttPacketWriter.Write(publish, buffer);
                    }

                    if (buffer.WrittenCount == 0)
                    {
                        CompleteFlushWaitersIfIdle();
                    }
                }

                if (buffer.WrittenCount == 0)
                {
                    break;
                }

                await connection.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
                if (disconnect)
                {
                    _disconnectWritten?.TrySetResult();
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
            }

            await _writeSignal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// [MQTT-3.1.2-23] send something at least every keep-alive period (PINGREQ when idle), and declare the
    /// connection dead when a PINGREQ gets no answer within the response timeout (the broker would do the same
    /// after 1.5 periods [MQTT-3.1.2-24]).
    /// </summary>
    private async Task KeepAliveLoopAsync(MqttConnection connection, CancellationToken cancellationToken)
    {
        if (_options.KeepAliveSeconds == 0)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            return;
        }

        var period = TimeSpan.FromSeconds(_options.KeepAliveSeconds);
        var responseTimeout = _options.EffectiveResponseTimeout;
        var tick = TimeSpan.FromMilliseconds(Math.Min(period.TotalMilliseconds / 4, 1000));
        long pingSentAt = 0;
        while (true)
        {
            await Task.Delay(tick, _time, cancellationToken).ConfigureAwait(false);
            if (pingSentAt != 0)
            {
                if (connection.LastReceived - pingSentAt >= 0)
                {
                    pingSentAt = 0; // Anything received after the ping proves the broker is alive.
                }
                else if (_time.GetElapsedTime(pingSentAt) >= responseTimeout)
                {
                    throw new TimeoutException(
                        $"MQTT broker did not answer PINGREQ within {responseTimeout.TotalSeconds:0.#} s; connection considered dead.");
                }
            }

            // Ping when we have been quiet, or when the broker has (so a half-open connection is found).
            if (pingSentAt == 0 && (_time.GetElapsedTime(connection.LastSent) >= period - tick || _time.GetElapsedTime(connection.LastReceived) >= period))
            {
                lock (_lock)
                {
                    _control.Enqueue(PingReqPacket.Instance);
                }

                pingSentAt = _time.GetTimestamp();
                _writeSignal.Release();
            }
        }
    }

    private InboundAck ExpectAck(ushort packetId)
    {
        lock (_lock)
        {
            var ack = new InboundAck(packetId, _connectionNumber);
            _unacked.Enqueue(ack);
            return ack;
        }
    }

    /// <summary>Marks messages handed over as acknowledged and queues the PUBACKs now due.</summary>
    private void AcknowledgeOwned(List<InboundAck> owned)
    {
        lock (_lock)
        {
            foreach (var ack in owned)
            {
                ack.Done = true;
            }

            if (!ReleaseAcknowledged())
            {
                return;
            }
        }

        SignalWriter();
    }

    /// <summary>Acknowledges a message we own at once, still behind any earlier one the application has not acknowledged.</summary>
    private void AcknowledgeNow(ushort packetId)
    {
        lock (_lock)
        {
            _unacked.Enqueue(new InboundAck(packetId, _connectionNumber) { Done = true });
            if (!ReleaseAcknowledged())
            {
                return;
            }
        }

        SignalWriter();
    }

    /// <summary>Queues the PUBACKs of the acknowledged messages at the head of the arrival order; caller holds the lock.</summary>
    private bool ReleaseAcknowledged()
    {
        var any = false;
        while (_unacked.TryPeek(out var head) && head.Done)
        {
            _unacked.Dequeue();
            _control.Enqueue(new PubAckPacket(head.PacketId));
            any = true;
        }

        return any;
    }

    private void SignalWriter()
    {
        try
        {
            _writeSignal.Release();
        }
        catch (ObjectDisposedException)
        {
            // Acknowledged after dispose: nothing is written any more, and the broker keeps the message.
        }
    }

    private TaskCompletionSource<MqttPacket?> RegisterAck(out ushort id)
    {
        id = NextPacketId();
        var ack = new TaskCompletionSource<MqttPacket?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingAcks[id] = ack;
        return ack;
    }

    /// <summary>Next free non-zero packet identifier [MQTT-2.3.1-1]; caller holds the lock.</summary>
    private ushort NextPacketId()
    {
        while (true)
        {
            _lastPacketId = _lastPacketId == ushort.MaxValue ? (ushort)1 : (ushort)(_lastPacketId + 1);
            if (!_qos1Ids.Contains(_lastPacketId) && !_pendingAcks.ContainsKey(_lastPacketId))
            {
                return _lastPacketId;
            }
        }
    }

    private bool IsIdle() => _unsentQos1.Count == 0 && _inflightQos1.Count == 0 && _qos0.Count == 0 && _control.Count == 0;

    private void CompleteFlushWaitersIfIdle()
    {
        if (_flushWaiters.Count > 0 && IsIdle())
        {
            foreach (var waiter in _flushWaiters)
            {
                waiter.TrySetResult();
            }

            _flushWaiters.Clear();
        }
    }

    private void SetState(MqttConnectionState state, Exception? error)
    {
        if (_state == MqttConnectionState.Disposed || (_state == state && error is null))
        {
            return;
        }

        _state = state;
        var handlers = StateChanged;
        if (handlers is null)
        {
            return;
        }

        var args = new MqttConnectionStateChangedEventArgs(state, error);
        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<MqttConnectionStateChangedEventArgs>>())
        {
            try
            {
                handler(this, args);
            }
#pragma warning disable CA1031 // A faulty observer must not stop the reconnect loop.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}
