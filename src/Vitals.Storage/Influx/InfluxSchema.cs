using Vitals.Core;

namespace Vitals.Storage.Influx;

/// <summary>
/// Maps the model onto the InfluxDB schema of DESIGN.md. Measurement, tag and field names here are
/// public (dashboards and queries rely on them): change them only with a migration note.
/// Tags are written sorted by key, as the line protocol reference's performance tips advise.
/// </summary>
public static class InfluxSchema
{
    /// <summary>Measurement of vital-sign readings.</summary>
    public const string Vitals = "vitals";

    /// <summary>Measurement of alarm transitions.</summary>
    public const string Alarms = "alarms";

    /// <summary>Measurement of feed health snapshots.</summary>
    public const string FeedStatus = "feed_status";

    private static readonly string[] SignFieldNames = Signs.All.Select(s => s.ShortName).ToArray();

    /// <summary>
    /// Writes observations as <c>vitals</c> points: consecutive observations of the same
    /// site+chair+device at the same millisecond become one point with one float field per sign short
    /// name (the last value wins if a sign repeats). Observations flagged
    /// <see cref="ObservationQuality.Invalid"/> are not written: the device itself says they are not
    /// values. A group split across calls or batches is harmless: InfluxDB merges the fields of points
    /// with the same series and timestamp. Returns the number of lines written.
    /// </summary>
    public static int WriteObservations(LineProtocolWriter writer, IReadOnlyList<Observation> observations)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(observations);
        var grouper = new VitalsGrouper();
        var lines = 0;
        for (var i = 0; i < observations.Count; i++)
        {
            lines += grouper.Add(writer, observations[i]);
        }

        return lines + grouper.Flush(writer);
    }

    /// <summary>Writes one <c>alarms</c> point. Returns the number of lines written (0 or 1).</summary>
    public static int WriteAlarm(LineProtocolWriter writer, AlarmEvent alarm)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(alarm);
        writer.BeginPoint(Alarms)
            .Tag("chair", alarm.Chair)
            .Tag("kind", KindName(alarm.Kind))
            .Tag("priority", alarm.Priority is { } priority ? PriorityName(priority) : null) // pause events have none: the tag is left out
            .Tag("rule", alarm.Rule)
            .Tag("site", alarm.Site)
            .Field("state", StateName(alarm.State))
            .Field("value", alarm.Value)
            .Field("limit", alarm.Limit)
            .Field("message", alarm.Message)
            .Field("user", alarm.User);
        return writer.EndPoint(alarm.At) ? 1 : 0;
    }

    /// <summary>Writes one <c>feed_status</c> point. Counters are floats, like every number we write, so no integer/float type conflict can arise.</summary>
    public static int WriteFeedStatus(LineProtocolWriter writer, FeedStatusSample status)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(status);
        writer.BeginPoint(FeedStatus)
            .Tag("chair", status.Chair)
            .Tag("device", status.Device)
            .Tag("site", status.Site)
            .Field("connected", status.Connected)
            .Field("frames_ok", (double)status.FramesOk)
            .Field("frames_bad", (double)status.FramesBad);
        return writer.EndPoint(status.At) ? 1 : 0;
    }

    /// <summary>Writes a batch of outbox records in order. Returns the number of lines written.</summary>
    public static int WriteRecords(LineProtocolWriter writer, IReadOnlyList<OutboxRecord> records)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(records);
        var grouper = new VitalsGrouper();
        var lines = 0;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            if (record.Observations is { } frame)
            {
                for (var j = 0; j < frame.Count; j++)
                {
                    lines += grouper.Add(writer, frame[j]);
                }

                continue;
            }

            lines += grouper.Flush(writer);
            if (record.Alarm is { } alarm)
            {
                lines += WriteAlarm(writer, alarm);
            }
            else if (record.FeedStatus is { } status)
            {
                lines += WriteFeedStatus(writer, status);
            }
        }

        return lines + grouper.Flush(writer);
    }

    /// <summary>Tag value for a priority: <c>high</c>, <c>medium</c> or <c>low</c>.</summary>
    public static string PriorityName(AlarmPriority priority) => priority switch
    {
        AlarmPriority.High => "high",
        AlarmPriority.Medium => "medium",
        _ => "low",
    };

    /// <summary>Tag value for a kind: <c>physiological</c> or <c>technical</c>.</summary>
    public static string KindName(AlarmKind kind) => kind == AlarmKind.Technical ? "technical" : "physiological";

    /// <summary>Field value for a state: the enum name in lower case (<c>raised</c>, <c>cleared</c>, ...).</summary>
    public static string StateName(AlarmState state) => state switch
    {
        AlarmState.Raised => "raised",
        AlarmState.Escalated => "escalated",
        AlarmState.Acknowledged => "acknowledged",
        AlarmState.Reannounced => "reannounced",
        AlarmState.Paused => "paused",
        AlarmState.Cleared => "cleared",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>Collects consecutive observations of one device and millisecond into one point.</summary>
    private struct VitalsGrouper
    {
        private Observation? _key;
        private long _ms;
        private int _present;
        private SignValues _values;

        public int Add(LineProtocolWriter writer, Observation observation)
        {
            if ((observation.Quality & ObservationQuality.Invalid) != 0)
            {
                return 0;
            }

            var ms = observation.MeasuredAt.ToUnixTimeMilliseconds();
            var lines = 0;
            if (_key is null || ms != _ms
                || !string.Equals(_key.Chair, observation.Chair, StringComparison.Ordinal)
                || !string.Equals(_key.Device, observation.Device, StringComparison.Ordinal)
                || !string.Equals(_key.Site, observation.Site, StringComparison.Ordinal))
            {
                lines = Flush(writer);
                _key = observation;
                _ms = ms;
            }

            var index = (int)observation.Sign;
            _values[index] = observation.Value;
            _present |= 1 << index;
            return lines;
        }

        public int Flush(LineProtocolWriter writer)
        {
            if (_key is null)
            {
                return 0;
            }

            writer.BeginPoint(Vitals)
                .Tag("chair", _key.Chair)
                .Tag("device", _key.Device)
                .Tag("site", _key.Site);
            for (var i = 0; i < SignFieldNames.Length; i++)
            {
                if ((_present & (1 << i)) != 0)
                {
                    writer.Field(SignFieldNames[i], _values[i]);
                }
            }

            _key = null;
            _present = 0;
            return writer.EndPoint(_ms) ? 1 : 0;
        }
    }

    [System.Runtime.CompilerServices.InlineArray(16)]
    private struct SignValues
    {
        private double _first;
    }
}
