namespace Vitals.Mqtt;

/// <summary>Topic name and topic filter rules of MQTT 3.1.1 section 4.7.</summary>
public static class MqttTopic
{
    /// <summary>Throws <see cref="MqttProtocolException"/> unless <paramref name="topic"/> is a valid topic name (publish side).</summary>
    public static void ValidateTopicName(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ValidateCommon(topic, "topic name");
        // [MQTT-4.7.1-1] wildcards are for filters only; [MQTT-3.3.2-2] never in a PUBLISH topic.
        if (topic.AsSpan().IndexOfAny('+', '#') >= 0)
        {
            throw new MqttProtocolException($"Topic name \"{topic}\" must not contain the wildcards + or # [MQTT-3.3.2-2].");
        }
    }

    /// <summary>Throws <see cref="MqttProtocolException"/> unless <paramref name="filter"/> is a valid topic filter.</summary>
    public static void ValidateTopicFilter(string filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ValidateCommon(filter, "topic filter");
        var levels = filter.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains('#', StringComparison.Ordinal) && (level.Length != 1 || i != levels.Length - 1))
            {
                throw new MqttProtocolException($"Topic filter \"{filter}\": # must be a whole level and the last one [MQTT-4.7.1-2].");
            }

            if (level.Contains('+', StringComparison.Ordinal) && level.Length != 1)
            {
                throw new MqttProtocolException($"Topic filter \"{filter}\": + must occupy a whole level [MQTT-4.7.1-3].");
            }
        }
    }

    /// <summary>True when a message on <paramref name="topic"/> matches subscription <paramref name="filter"/>.</summary>
    /// <remarks>Both arguments are assumed valid. Topics starting with $ are not matched by a leading wildcard [MQTT-4.7.2-1].</remarks>
    public static bool Matches(string filter, string topic)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(topic);
        if (topic.StartsWith('$') && (filter.StartsWith('+') || filter.StartsWith('#')))
        {
            return false;
        }

        var f = filter.AsSpan();
        var t = topic.AsSpan();
        while (true)
        {
            var fEnd = f.IndexOf('/');
            var fLevel = fEnd < 0 ? f : f[..fEnd];
            if (fLevel is "#")
            {
                // "#" also matches the parent level: "sport/#" matches "sport" [MQTT 4.7.1.2].
                return true;
            }

            var tEnd = t.IndexOf('/');
            var tLevel = tEnd < 0 ? t : t[..tEnd];
            if (fLevel is not "+" && !fLevel.SequenceEqual(tLevel))
            {
                return false;
            }

            if (fEnd < 0 || tEnd < 0)
            {
                // Both must end together, except "a/#" against "a" handled by the next level being "#".
                if (fEnd < 0 && tEnd < 0)
                {
                    return true;
                }

                return tEnd < 0 && f[(fEnd + 1)..] is "#";
            }

            f = f[(fEnd + 1)..];
            t = t[(tEnd + 1)..];
        }
    }

    private static void ValidateCommon(string value, string what)
    {
        // [MQTT-4.7.3-1] at least one character; [MQTT-4.7.3-2] no U+0000; [MQTT-4.7.3-3] at most 65535 bytes.
        if (value.Length == 0)
        {
            throw new MqttProtocolException($"A {what} must be at least one character long [MQTT-4.7.3-1].");
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new MqttProtocolException($"A {what} must not contain U+0000 [MQTT-4.7.3-2].");
        }

        if (System.Text.Encoding.UTF8.GetByteCount(value) > ushort.MaxValue)
        {
            throw new MqttProtocolException($"A {what} must be at most 65535 UTF-8 bytes [MQTT-4.7.3-3].");
        }
    }
}
