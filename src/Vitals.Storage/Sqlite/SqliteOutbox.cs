using Vitals.Storage.Influx;

namespace Vitals.Storage.Sqlite;

/// <summary>
/// <see cref="IOutbox"/> over the SQLite store, each with its own durable cursor in
/// <c>forward_cursors</c>. The observations outbox reads the observations table (sequence = row id);
/// the events outbox reads the event log's <c>alarm</c> and <c>feed_status</c> entries (sequence =
/// event id). The gateway runs one <see cref="InfluxForwarder"/> per outbox, so a large observation
/// backlog never holds up alarms. Reads use their own connection (WAL) and do not block appends.
/// </summary>
public sealed class SqliteOutbox : IOutbox
{
    /// <summary>Cursor and quarantine name of the observations outbox.</summary>
    public const string ObservationsName = "influx.observations";

    /// <summary>Cursor and quarantine name of the events (alarms, feed status) outbox.</summary>
    public const string EventsName = "influx.events";

    private readonly SqliteStore _store;
    private readonly OutboxKind _kind;
    private readonly TimeProvider _time;

    private SqliteOutbox(SqliteStore store, OutboxKind kind, string name, TimeProvider? timeProvider)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _kind = kind;
        Name = name;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The cursor name, also recorded as the forwarder of quarantined lines.</summary>
    public string Name { get; }

    /// <summary>The outbox of observations. <paramref name="store"/> is not owned.</summary>
    public static SqliteOutbox ForObservations(SqliteStore store, TimeProvider? timeProvider = null) =>
        new(store, OutboxKind.Observations, ObservationsName, timeProvider);

    /// <summary>The outbox of alarm transitions and feed status snapshots. <paramref name="store"/> is not owned.</summary>
    public static SqliteOutbox ForEvents(SqliteStore store, TimeProvider? timeProvider = null) =>
        new(store, OutboxKind.Events, EventsName, timeProvider);

    /// <inheritdoc/>
    public ValueTask<long> GetCursorAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_store.GetForwardCursor(Name));
    }

    /// <inheritdoc/>
    /// <remarks>Reads after the larger of <paramref name="cursor"/> and the committed cursor, like an outbox that drops committed rows.</remarks>
    public ValueTask<OutboxBatch> ReadAfterAsync(long cursor, int max, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_store.ReadOutbox(_kind, Name, cursor, max, _time.GetUtcNow()));
    }

    /// <inheritdoc/>
    public ValueTask CommitAsync(long cursor, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _store.SetForwardCursor(Name, cursor);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask QuarantineAsync(IReadOnlyList<string> lines, string serverError, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _store.AppendQuarantine(Name, lines, serverError, _time.GetUtcNow());
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The backlog waiting for this outbox's forwarder, judged against <paramref name="limits"/> at
    /// <paramref name="now"/>. Cheap enough for every status poll.
    /// </summary>
    public OutboxBacklog GetBacklog(DateTimeOffset now, StoreRetentionOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var (rows, oldestAt) = _store.ReadBacklog(_kind, Name);
        var age = oldestAt is { } at && now > at ? now - at : TimeSpan.Zero;
        var level = BacklogLevel.Ok;
        if (rows >= limits.MaxBacklogRows || age >= limits.MaxBacklogAge)
        {
            level = BacklogLevel.Full;
        }
        else if (rows >= limits.MaxBacklogRows * limits.WarnFraction || age >= limits.MaxBacklogAge * limits.WarnFraction)
        {
            level = BacklogLevel.Warning;
        }

        return new OutboxBacklog(Name, rows, oldestAt, age, level);
    }
}

/// <summary>How close a forwarding backlog is to its configured maximum.</summary>
public enum BacklogLevel
{
    /// <summary>Below the warning fraction of both limits.</summary>
    Ok,

    /// <summary>At or above <see cref="StoreRetentionOptions.WarnFraction"/> of a limit: raise a technical alarm now.</summary>
    Warning,

    /// <summary>At or above a limit: raise a high-priority technical alarm. Data is still stored and nothing is dropped.</summary>
    Full,
}

/// <summary>What waits for one forwarder.</summary>
/// <param name="Outbox">The outbox name (<see cref="SqliteOutbox.Name"/>).</param>
/// <param name="Rows">Rows not yet delivered.</param>
/// <param name="OldestAt">When the oldest undelivered row was produced (gateway clock), null when caught up.</param>
/// <param name="OldestAge">How old that row is (zero when caught up).</param>
/// <param name="Level">Against the configured limits.</param>
public sealed record OutboxBacklog(string Outbox, long Rows, DateTimeOffset? OldestAt, TimeSpan OldestAge, BacklogLevel Level)
{
    /// <summary>True from the warning fraction on: the gateway should raise a technical alarm.</summary>
    public bool Warning => Level >= BacklogLevel.Warning;

    /// <summary>True at the hard maximum: the gateway should raise a high-priority technical alarm.</summary>
    public bool BacklogFull => Level == BacklogLevel.Full;
}
