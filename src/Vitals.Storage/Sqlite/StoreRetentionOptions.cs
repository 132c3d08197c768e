namespace Vitals.Storage.Sqlite;

/// <summary>
/// Local retention and forwarding backlog limits. At the backlog maximum the store keeps storing (it is
/// the primary history) and reports <see cref="OutboxBacklog.BacklogFull"/>: nothing is ever dropped,
/// and retention never deletes rows that were not forwarded. The disk is the real bound.
/// </summary>
public sealed class StoreRetentionOptions
{
    /// <summary>Default age after which forwarded history is deleted locally.</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(7);

    /// <summary>Default backlog row limit: 30 million frames (about 3.5 GB; 8 chairs at 1 Hz make 4.8 million a week).</summary>
    public const long DefaultMaxBacklogRows = 30_000_000;

    /// <summary>Default backlog age limit: as old as the local retention.</summary>
    public static readonly TimeSpan DefaultMaxBacklogAge = TimeSpan.FromDays(7);

    /// <summary>Default fraction of a limit at which the backlog warns.</summary>
    public const double DefaultWarnFraction = 0.8;

    /// <summary>Observations received longer ago than this are deleted by compaction (unless not yet forwarded).</summary>
    public TimeSpan Retention { get; set; } = DefaultRetention;

    /// <summary>Backlog rows at which <see cref="OutboxBacklog.BacklogFull"/> is reported.</summary>
    public long MaxBacklogRows { get; set; } = DefaultMaxBacklogRows;

    /// <summary>Age of the oldest unforwarded row at which <see cref="OutboxBacklog.BacklogFull"/> is reported.</summary>
    public TimeSpan MaxBacklogAge { get; set; } = DefaultMaxBacklogAge;

    /// <summary>Fraction (0, 1) of either limit at which <see cref="OutboxBacklog.Warning"/> is reported.</summary>
    public double WarnFraction { get; set; } = DefaultWarnFraction;

    /// <summary>The compaction cut-off for <paramref name="now"/>: pass it to <see cref="SqliteStore.Compact"/>.</summary>
    public DateTimeOffset CompactBefore(DateTimeOffset now) => now - Retention;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the bad setting.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Retention, TimeSpan.FromHours(1), nameof(Retention));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBacklogRows, 1, nameof(MaxBacklogRows));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBacklogAge, TimeSpan.FromMinutes(1), nameof(MaxBacklogAge));
        if (WarnFraction is not (> 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(WarnFraction), WarnFraction, "must be between 0 and 1");
        }
    }
}
