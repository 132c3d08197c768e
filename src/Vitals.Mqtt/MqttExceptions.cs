using Vitals.Mqtt.Packets;

namespace Vitals.Mqtt;

/// <summary>Connecting to the broker failed: refused by CONNACK, unreachable, TLS failure or timeout. The message says which.</summary>
public sealed class MqttConnectException : Exception
{
    public MqttConnectException()
    {
    }

    public MqttConnectException(string message)
        : base(message)
    {
    }

    public MqttConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MqttConnectException(MqttConnectReturnCode returnCode)
        : base($"MQTT broker refused the connection: {Describe(returnCode)} (CONNACK {(int)returnCode})") => ReturnCode = returnCode;

    /// <summary>The CONNACK return code when the broker refused us; null for network or TLS failures.</summary>
    public MqttConnectReturnCode? ReturnCode { get; }

    /// <summary>Plain words for a CONNACK return code [MQTT 3.2.2.3].</summary>
    public static string Describe(MqttConnectReturnCode code) => code switch
    {
        MqttConnectReturnCode.Accepted => "accepted",
        MqttConnectReturnCode.UnacceptableProtocolVersion => "unacceptable protocol version (the broker does not speak MQTT 3.1.1)",
        MqttConnectReturnCode.IdentifierRejected => "client identifier rejected",
        MqttConnectReturnCode.ServerUnavailable => "server unavailable",
        MqttConnectReturnCode.BadUserNameOrPassword => "bad user name or password",
        MqttConnectReturnCode.NotAuthorized => "not authorized",
        _ => "unknown reason",
    };
}

/// <summary>The outgoing QoS 1 queue is full (<see cref="MqttClientOptions.MaxPendingQos1"/>); the message was not accepted.</summary>
public sealed class MqttQueueFullException : Exception
{
    public MqttQueueFullException()
    {
    }

    public MqttQueueFullException(string message)
        : base(message)
    {
    }

    public MqttQueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The broker answered SUBSCRIBE with failure (0x80) for a filter, usually an ACL denial.</summary>
public sealed class MqttSubscribeException : Exception
{
    public MqttSubscribeException()
    {
    }

    public MqttSubscribeException(string message)
        : base(message)
    {
    }

    public MqttSubscribeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
