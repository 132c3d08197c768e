using Vitals.Core;

namespace Vitals.Storage.Influx;

/// <summary>A line refused by InfluxDB, kept with the server's error.</summary>
/// <param name="Line">The line protocol text.</param>
/// <param name="ServerError">What the server said.</param>
public sealed record QuarantinedLine(string Line, string ServerError);

/// <summary>
/// A thread-safe, non-durable <see cref="IOutbox"/> for tests, benchmarks and demos. Committed rows
/// are removed. Nothing survives a restart: production uses the SQLite store.
/// </summary>
public sealed class InMemoryOutbox : IOutbox
{
    private readonly Lock _lock = new();
    private readonly List<OutboxRecord> _rows = [];
    private readonly List<QuarantinedLine> _quarantine = [];
    private long _nextSequence = 1;
    private long _cursor;

    /// <summary>Lines quarantined so far.</summary>
    public IReadOnlyList<QuarantinedLine> Quarantined
    {
        get
        {
            lock (_lock)
            {
                return [.. _quarantine];
            }
        }
    }

    /// <summary>The committed cursor.</summary>
    public long Cursor
    {
        get
        {
            lock (_lock)
            {
                return _cursor;
            }
        }
    }

    /// <summary>Highest sequence assigned.</summary>
    public long Head
    {
        get
        {
            lock (_lock)
            {
                return _nextSequence - 1;
            }
        }
    }

    /// <summary>Appends an observation; returns its sequence.</summary>
    public long Add(Observation observation) => Append(seq => OutboxRecord.Of(seq, observation));

    /// <summary>Appends an alarm transition; returns its sequence.</summary>
    public long Add(AlarmEvent alarm) => Append(seq => OutboxRecord.Of(seq, alarm));

    /// <summary>Appends a feed status; returns its sequence.</summary>
    public long Add(FeedStatusSample status) => Append(seq => OutboxRecord.Of(seq, status));

    /// <summary>Appends many observations at once, one row per frame (see <see cref="ObservationFrames"/>), as the SQLite store does.</summary>
    public void AddRange(IEnumerable<Observation> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var frames = ObservationFrames.Split([.. observations]);
        lock (_lock)
        {
            foreach (var frame in frames)
            {
                _rows.Add(OutboxRecord.Of(_nextSequence++, frame));
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<long> GetCursorAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Cursor);

    /// <inheritdoc/>
    public ValueTask<OutboxBatch> ReadAfterAsync(long cursor, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        lock (_lock)
        {
            // Rows are sorted by sequence: binary search for the first one after the cursor.
            var lo = 0;
            var hi = _rows.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (_rows[mid].Sequence <= cursor)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            var count = Math.Min(max, _rows.Count - lo);
            var records = _rows.GetRange(lo, count);
            return ValueTask.FromResult(new OutboxBatch(records, _nextSequence - 1));
        }
    }

    /// <inheritdoc/>
    public ValueTask CommitAsync(long cursor, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (cursor > _cursor)
            {
                _cursor = cursor;
                var remove = 0;
                while (remove < _rows.Count && _rows[remove].Sequence <= cursor)
                {
                    remove++;
                }

                _rows.RemoveRange(0, remove);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask QuarantineAsync(IReadOnlyList<string> lines, string serverError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        lock (_lock)
        {
            foreach (var line in lines)
            {
                _quarantine.Add(new QuarantinedLine(line, serverError));
            }
        }

        return ValueTask.CompletedTask;
    }

    private long Append(Func<long, OutboxRecord> make)
    {
        lock (_lock)
        {
            var seq = _nextSequence++;
            _rows.Add(make(seq));
            return seq;
        }
    }
}
