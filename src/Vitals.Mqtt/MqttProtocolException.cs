namespace Vitals.Mqtt;

/// <summary>
/// The bytes on the wire break the MQTT 3.1.1 rules (malformed packet, oversize packet, bad flags).
/// The connection that produced them must be closed [MQTT-4.8.0-1]; the client then reconnects.
/// </summary>
public sealed class MqttProtocolException : Exception
{
    public MqttProtocolException()
    {
    }

    public MqttProtocolException(string message)
        : base(message)
    {
    }

    public MqttProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
