using Vitals.Core;

namespace Vitals.Storage.Influx;

/// <summary>
/// One row of the outbox: a sequence number and exactly one payload. Sequences increase strictly in
/// insertion order (the SQLite store uses the <c>vitals</c> and <c>events</c> tables' row ids).
/// </summary>
public readonly record struct OutboxRecord
{
    private OutboxRecord(long sequence, IReadOnlyList<Observation>? observations, AlarmEvent? alarm, FeedStatusSample? feedStatus)
    {
        Sequence = sequence;
        Observations = observations;
        Alarm = alarm;
        FeedStatus = feedStatus;
    }

    /// <summary>Position in the outbox; the cursor after this record is this value.</summary>
    public long Sequence { get; }

    /// <summary>
    /// The observations of one frame (see <see cref="ObservationFrames"/>), when this row is one: one
    /// InfluxDB <c>vitals</c> point. Never empty.
    /// </summary>
    public IReadOnlyList<Observation>? Observations { get; }

    /// <summary>The alarm transition, when this row is one.</summary>
    public AlarmEvent? Alarm { get; }

    /// <summary>The feed status snapshot, when this row is one.</summary>
    public FeedStatusSample? FeedStatus { get; }

    /// <summary>When the gateway produced this row (used for lag in seconds).</summary>
    public DateTimeOffset EnqueuedAt =>
        Observations?[0].ReceivedAt ?? Alarm?.At ?? FeedStatus?.At ?? DateTimeOffset.MinValue;

    /// <summary>A row of one observation.</summary>
    public static OutboxRecord Of(long sequence, Observation observation) =>
        new(sequence, [observation ?? throw new ArgumentNullException(nameof(observation))], null, null);

    /// <summary>A row of one frame's observations (one or more).</summary>
    public static OutboxRecord Of(long sequence, IReadOnlyList<Observation> frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentOutOfRangeException.ThrowIfZero(frame.Count, nameof(frame));
        return new(sequence, frame, null, null);
    }

    /// <summary>An alarm row.</summary>
    public static OutboxRecord Of(long sequence, AlarmEvent alarm) =>
        new(sequence, null, alarm ?? throw new ArgumentNullException(nameof(alarm)), null);

    /// <summary>A feed status row.</summary>
    public static OutboxRecord Of(long sequence, FeedStatusSample feedStatus) =>
        new(sequence, null, null, feedStatus ?? throw new ArgumentNullException(nameof(feedStatus)));
}

/// <summary>Rows read from the outbox after a cursor.</summary>
/// <param name="Records">Rows in sequence order, at most the requested maximum.</param>
/// <param name="HeadSequence">Highest sequence currently in the outbox (0 when empty); lag in points is HeadSequence minus the committed cursor.</param>
public sealed record OutboxBatch(IReadOnlyList<OutboxRecord> Records, long HeadSequence)
{
    /// <summary>The cursor to commit once this batch is delivered: the last record's sequence.</summary>
    public long LastSequence => Records.Count > 0 ? Records[^1].Sequence : 0;
}

/// <summary>
/// The narrow seam between the durable store and the InfluxDB forwarder. The store keeps rows until
/// they are committed; the forwarder reads after its cursor, delivers, then commits. Calls come from
/// one forwarder at a time.
/// </summary>
public interface IOutbox
{
    /// <summary>The last committed cursor (0 when nothing was ever committed). Survives restarts.</summary>
    ValueTask<long> GetCursorAsync(CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> rows with sequence &gt; <paramref name="cursor"/>, in sequence order.</summary>
    ValueTask<OutboxBatch> ReadAfterAsync(long cursor, int max, CancellationToken cancellationToken);

    /// <summary>Durably records that every row with sequence &lt;= <paramref name="cursor"/> is delivered (and may be compacted).</summary>
    ValueTask CommitAsync(long cursor, CancellationToken cancellationToken);

    /// <summary>Durably keeps lines InfluxDB refused, with the server's error, for an operator to inspect. Called before the cursor moves past them.</summary>
    ValueTask QuarantineAsync(IReadOnlyList<string> lines, string serverError, CancellationToken cancellationToken);
}
