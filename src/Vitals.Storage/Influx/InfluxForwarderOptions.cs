namespace Vitals.Storage.Influx;

/// <summary>Forwarder tuning. Defaults follow the official InfluxDB client's batching and retry defaults, scaled for a gateway (FACTS.md).</summary>
public sealed class InfluxForwarderOptions
{
    /// <summary>
    /// Default maximum outbox rows per write. A row is one frame and so one line: this is InfluxDB's
    /// recommended batch of 5000 lines.
    /// </summary>
    public const int DefaultBatchSize = 5000;

    /// <summary>Default wait before reading again when the outbox had less than a full batch.</summary>
    public static readonly TimeSpan DefaultFlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>Default first retry delay (doubles each attempt, with jitter).</summary>
    public static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Default cap on the retry delay.</summary>
    public static readonly TimeSpan DefaultMaxRetryDelay = TimeSpan.FromSeconds(60);

    /// <summary>Default time the circuit stays open after it breaks.</summary>
    public static readonly TimeSpan DefaultBreakDuration = TimeSpan.FromSeconds(15);

    /// <summary>Maximum outbox rows per write; bounds memory and keeps each cycle short while a backlog drains.</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>Wait between reads when the outbox is (nearly) empty: the batching interval.</summary>
    public TimeSpan FlushInterval { get; set; } = DefaultFlushInterval;

    /// <summary>First retry delay.</summary>
    public TimeSpan RetryDelay { get; set; } = DefaultRetryDelay;

    /// <summary>Longest retry delay.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = DefaultMaxRetryDelay;

    /// <summary>Failures within <see cref="BreakerSamplingDuration"/> before the circuit opens (at least 2).</summary>
    public int BreakerMinimumThroughput { get; set; } = 3;

    /// <summary>Window over which failures are counted (at least 500 ms).</summary>
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the circuit stays open before one trial request (at least 500 ms).</summary>
    public TimeSpan BreakDuration { get; set; } = DefaultBreakDuration;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the bad setting.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchSize, 100_000, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(FlushInterval, TimeSpan.FromMilliseconds(1), nameof(FlushInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryDelay, TimeSpan.FromMilliseconds(1), nameof(RetryDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryDelay, RetryDelay, nameof(MaxRetryDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(BreakerMinimumThroughput, 2, nameof(BreakerMinimumThroughput));
        ArgumentOutOfRangeException.ThrowIfLessThan(BreakerSamplingDuration, TimeSpan.FromMilliseconds(500), nameof(BreakerSamplingDuration));
        ArgumentOutOfRangeException.ThrowIfLessThan(BreakDuration, TimeSpan.FromMilliseconds(500), nameof(BreakDuration));
    }
}

/// <summary>A snapshot of the forwarder's health for the status endpoint and the admin view.</summary>
/// <param name="Cursor">Last delivered outbox sequence.</param>
/// <param name="LagPoints">Outbox rows not yet delivered.</param>
/// <param name="LagSeconds">Age of the oldest undelivered row (0 when caught up).</param>
/// <param name="LastSuccessAt">When a write last succeeded.</param>
/// <param name="LastError">The last failure, in words (no credentials).</param>
/// <param name="LastErrorAt">When it happened.</param>
/// <param name="QuarantinedLines">Lines quarantined since start.</param>
/// <param name="CircuitState">closed, open, half-open or isolated.</param>
/// <param name="LinesWritten">Lines InfluxDB accepted since start.</param>
/// <param name="RowsForwarded">Outbox rows committed since start.</param>
public sealed record InfluxForwarderHealth(
    long Cursor,
    long LagPoints,
    double LagSeconds,
    DateTimeOffset? LastSuccessAt,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    long QuarantinedLines,
    string CircuitState,
    long LinesWritten,
    long RowsForwarded);
