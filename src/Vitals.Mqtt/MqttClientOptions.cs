using Vitals.Mqtt.Packets;

namespace Vitals.Mqtt;

/// <summary>Everything <see cref="MqttClient"/> needs to reach and talk to one broker. Build by hand or with <see cref="MqttUrl.Parse"/>.</summary>
public sealed record MqttClientOptions
{
    public const int DefaultPort = 1883;
    public const int DefaultTlsPort = 8883;
    public const int DefaultKeepAliveSeconds = 30;
    public const int DefaultMaxQueuedQos0 = 1_000;
    public const int DefaultMaxPendingQos1 = 10_000;
    public const int DefaultReceiveCapacity = 10_000;

    /// <summary>Broker host name or IP address.</summary>
    public required string Host { get; init; }

    public int Port { get; init; } = DefaultPort;

    /// <summary>Wrap the TCP stream in TLS (mqtts).</summary>
    public bool UseTls { get; init; }

    /// <summary>PEM file of the CA that must sign the broker certificate; null trusts the system store.</summary>
    public string? CaFile { get; init; }

    /// <summary>Client certificate: a PEM certificate (with <see cref="ClientKeyFile"/>) or a PKCS#12 file.</summary>
    public string? ClientCertificateFile { get; init; }

    /// <summary>PEM private key of <see cref="ClientCertificateFile"/>; null when the certificate file is PKCS#12.</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>Name checked against the broker certificate; defaults to <see cref="Host"/>.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>Client identifier; empty asks the broker to assign one (clean session only) [MQTT-3.1.3-6].</summary>
    public string ClientId { get; init; } = "vitals-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// True: the broker forgets subscriptions and queued messages at each connect. False: a persistent session,
    /// so QoS 1 messages published to us while we are away are kept by the broker [MQTT 3.1.2.4].
    /// </summary>
    public bool CleanSession { get; init; } = true;

    /// <summary>Seconds between control packets before we ping; 0 disables keep-alive [MQTT 3.1.2.10].</summary>
    public int KeepAliveSeconds { get; init; } = DefaultKeepAliveSeconds;

    /// <summary>Silence after a PINGREQ (or a CONNECT) that declares the connection dead; default is the keep-alive period, capped at 30 s.</summary>
    public TimeSpan? ResponseTimeout { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public MqttWill? Will { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First reconnect delay; it doubles with jitter up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest packet accepted from the broker; larger ones close the connection.</summary>
    public int MaxPacketSize { get; init; } = MqttPacketReader.DefaultMaxPacketSize;

    /// <summary>QoS 0 messages waiting to be written; when full the oldest one is dropped.</summary>
    public int MaxQueuedQos0 { get; init; } = DefaultMaxQueuedQos0;

    /// <summary>QoS 1 messages not yet acknowledged (queued or in flight); when full, publishing throws <see cref="MqttQueueFullException"/>.</summary>
    public int MaxPendingQos1 { get; init; } = DefaultMaxPendingQos1;

    /// <summary>Received messages buffered for the reader of <see cref="IMqttClient.Messages"/>; when full the socket is not read (back-pressure).</summary>
    public int ReceiveCapacity { get; init; } = DefaultReceiveCapacity;

    /// <summary>
    /// False: a received QoS 1 message is acknowledged once it is in <see cref="IMqttClient.Messages"/>. True: only when the
    /// application calls <see cref="IMqttClient.Acknowledge"/> (after it has made the message durable, say), so a crash
    /// before that leaves the broker holding it; PUBACKs still go out in arrival order [MQTT-4.6.0-2].
    /// </summary>
    public bool AcknowledgeManually { get; init; }

    /// <summary>How long the reader pauses before each read while messages stream in (see <see cref="MqttConnection.CoalesceWait"/>); tests lengthen it.</summary>
    internal TimeSpan CoalesceWait { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Quick, small reads in a row before the reader starts pausing (see <see cref="MqttConnection.CoalesceAfter"/>); tests set 0 to pause before every read.</summary>
    internal int CoalesceAfter { get; init; } = 16;

    internal TimeSpan EffectiveResponseTimeout =>
        ResponseTimeout ?? (KeepAliveSeconds > 0 ? TimeSpan.FromSeconds(Math.Min(KeepAliveSeconds, 30)) : TimeSpan.FromSeconds(30));

    /// <summary>Fails fast with a clear message when a setting cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            throw new ArgumentException("MQTT broker host is empty.", nameof(Host));
        }

        if (Port is < 1 or > 65535)
        {
            throw new ArgumentException($"MQTT broker port {Port} is out of range 1-65535.", nameof(Port));
        }

        if (KeepAliveSeconds is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentException($"MQTT keep-alive {KeepAliveSeconds} s is out of range 0-65535.", nameof(KeepAliveSeconds));
        }

        if (ClientId.Length == 0 && !CleanSession)
        {
            throw new ArgumentException("An empty MQTT client id needs a clean session [MQTT-3.1.3-7].", nameof(ClientId));
        }

        if (Password is not null && Username is null)
        {
            throw new ArgumentException("An MQTT password needs a user name [MQTT-3.1.2-22].", nameof(Password));
        }

        if (Will is not null)
        {
            MqttTopic.ValidateTopicName(Will.Topic);
            if (Will.Qos == MqttQualityOfService.ExactlyOnce)
            {
                throw new ArgumentException("Will QoS 2 is not supported by this client; use QoS 0 or 1.", nameof(Will));
            }
        }

        foreach (var file in new[] { CaFile, ClientCertificateFile, ClientKeyFile })
        {
            if (file is not null && !File.Exists(file))
            {
                throw new ArgumentException($"MQTT TLS file \"{file}\" does not exist.");
            }
        }

        if (ClientKeyFile is not null && ClientCertificateFile is null)
        {
            throw new ArgumentException("An MQTT client key file needs a client certificate file.", nameof(ClientKeyFile));
        }

        if (MaxQueuedQos0 < 1 || MaxPendingQos1 < 1 || MaxPendingQos1 > 65_000 || ReceiveCapacity < 1)
        {
            throw new ArgumentException("MQTT queue sizes must be positive and MaxPendingQos1 at most 65000 (packet identifiers are 16-bit).");
        }

        if (ReconnectDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectDelay)
        {
            throw new ArgumentException("MQTT reconnect delays must be positive and ReconnectMaxDelay >= ReconnectDelay.");
        }
    }
}
