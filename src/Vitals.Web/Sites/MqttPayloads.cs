using Vitals.Core;

namespace Vitals.Web;

/// <summary>Topic names (hardware-docs/mqtt.md). Every level comes from validated config, so no level holds '+', '#' or '/'.</summary>
public sealed record MqttTopics(string Prefix, string Site)
{
    /// <summary>Filter for every chair's observations: <c>&lt;prefix&gt;/&lt;site&gt;/+/obs</c>.</summary>
    public string ObservationFilter => $"{Prefix}/{Site}/+/obs";

    /// <summary>Retained gateway status with the last will.</summary>
    public string Status => $"{Prefix}/{Site}/gateway/status";

    /// <summary>Alarm transitions of one chair (QoS 1, not retained).</summary>
    public string Alarm(string chair) => $"{Prefix}/{Site}/{chair}/alarm";

    /// <summary>Retained latest state of one chair.</summary>
    public string State(string chair) => $"{Prefix}/{Site}/{chair}/state";

    /// <summary>The chair level of an observation topic, or null when the topic is not <c>&lt;prefix&gt;/&lt;site&gt;/&lt;chair&gt;/obs</c>.</summary>
    public string? ChairOf(string topic)
    {
        var head = $"{Prefix}/{Site}/";
        if (!topic.StartsWith(head, StringComparison.Ordinal) || !topic.EndsWith("/obs", StringComparison.Ordinal))
        {
            return null;
        }

        var chair = topic[head.Length..^4];
        return chair.Length == 0 || chair.Contains('/', StringComparison.Ordinal) ? null : chair;
    }
}

/// <summary>Payload of <c>&lt;prefix&gt;/&lt;site&gt;/&lt;chair&gt;/alarm</c>: one alarm transition. Null members are omitted (an audio pause event has no priority).</summary>
public sealed record MqttAlarmMessage(
    string Site,
    string Chair,
    string Rule,
    Sign? Sign,
    AlarmPriority? Priority,
    AlarmKind Kind,
    AlarmState State,
    double? Value,
    double? Limit,
    DateTimeOffset Time,
    string Message,
    string? User)
{
    /// <summary>Converts an engine event.</summary>
    public static MqttAlarmMessage From(AlarmEvent e) =>
        new(e.Site, e.Chair, e.Rule, e.Sign, e.Priority, e.Kind, e.State, e.Value, e.Limit, e.At, e.Message, e.User);
}

/// <summary>Payload of the retained <c>&lt;prefix&gt;/&lt;site&gt;/&lt;chair&gt;/state</c>.</summary>
/// <param name="Site">The gateway's site.</param>
/// <param name="Chair">Chair id.</param>
/// <param name="Name">Chair display name.</param>
/// <param name="Values">Latest value per sign short name.</param>
/// <param name="Alarms">Active alarms.</param>
/// <param name="StaleSigns">
/// Sign short names the chair's monitor stopped sending while other values still arrive, judged by the gateway's stale
/// limits (the <c>staleSigns</c> of its chair JSON); absent from gateways older than this field.
/// </param>
public sealed record MqttChairState(
    string Site,
    string Chair,
    string Name,
    IReadOnlyDictionary<string, MqttValue> Values,
    IReadOnlyList<MqttActiveAlarm> Alarms,
    IReadOnlyList<string>? StaleSigns = null);

/// <summary>The latest value of one sign; quality is omitted when ok.</summary>
public sealed record MqttValue(double Value, string Unit, DateTimeOffset Time, ObservationQuality? Quality);

/// <summary>An active alarm in the chair state.</summary>
public sealed record MqttActiveAlarm(string Rule, Sign? Sign, AlarmPriority? Priority, AlarmKind Kind, AlarmState State, double? Value, double? Limit, DateTimeOffset Time, string Message);

/// <summary>Payload of the retained <c>&lt;prefix&gt;/&lt;site&gt;/gateway/status</c>: <c>online</c> at connect, <c>offline</c> as last will or at shutdown.</summary>
public sealed record MqttGatewayStatus(string State, string Site, string? Version, DateTimeOffset? Time);

/// <summary>The <c>mqtt</c> section of <c>/api/status</c>.</summary>
/// <param name="State">disconnected, connecting, connected.</param>
/// <param name="Broker">Scheme, host and port; never credentials.</param>
/// <param name="LastError">Why the last connection attempt failed or dropped.</param>
/// <param name="LastErrorAt">When.</param>
/// <param name="Published">Messages queued for the broker (alarms, state, status).</param>
/// <param name="Received">Messages received on the observation topics.</param>
/// <param name="Dropped">Messages not delivered: QoS 0 dropped by queue overflow plus alarm events refused by a full QoS 1 queue.</param>
/// <param name="PendingQos1">QoS 1 messages not yet acknowledged by the broker.</param>
/// <param name="UnknownChair">Messages on obs topics of chairs with no <c>mqtt</c> device (counted bad, skipped).</param>
/// <param name="LastBadMessage">Why the last observation message was bad (chair and reason; never the payload).</param>
/// <param name="Oversized">Messages above the maximum packet size (1 MiB), skipped unread while the connection stays up.</param>
/// <param name="LastOversized">Topic and size of the last of them.</param>
public sealed record MqttStatusView(
    string State,
    string Broker,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    long Published,
    long Received,
    long Dropped,
    int PendingQos1,
    long UnknownChair,
    string? LastBadMessage,
    long Oversized,
    string? LastOversized);
