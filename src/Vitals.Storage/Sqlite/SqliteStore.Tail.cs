using Vitals.Core;
using Vitals.Storage.Influx;

namespace Vitals.Storage.Sqlite;

/// <summary>
/// The outbox tail: the frames of the latest appends, kept in memory by row id after their
/// transaction committed, so an observations forwarder that keeps up reads them from here instead of
/// decoding the rows it just wrote back out of SQLite (on a 2-core gateway that read competed with
/// the appends for CPU). It is only a cache of committed rows: a forwarder that is behind, a restart,
/// or any row not appended through <see cref="Append"/> reads from the table as before. Rows leave it
/// when the observations cursor passes them, when compaction deletes them, or beyond
/// <see cref="TailCapacity"/> rows, oldest first. Nothing is kept until a forwarder first reads the
/// observations outbox: without InfluxDB (the default) the tail would only hold memory.
/// </summary>
public sealed partial class SqliteStore
{
    private const int TailCapacity = 20_000;
    private readonly Lock tailLock = new();
    private readonly LinkedList<(long FirstId, List<ArraySegment<Observation>> Rows)> tail = new();
    private int tailCount;
    private long tailFloor; // rows at or below are delivered or deleted: never served from here
    private bool tailInUse;

    /// <summary>
    /// Called under the write lock right after a commit of the frames of <paramref name="observations"/>, in the order
    /// they were inserted (<see cref="frames"/>). One transaction's rows have consecutive ids: SQLite gives each new row
    /// the highest id plus one, and no other write can interleave.
    /// </summary>
    private void RememberTail(long firstId, IReadOnlyList<Observation> observations)
    {
        if (!Volatile.Read(ref tailInUse) || frames.Count > TailCapacity)
        {
            return;
        }

        // Copied: the caller may reuse its list.
        var copy = observations.ToArray();
        List<ArraySegment<Observation>> rows = [.. frames.Select(f => new ArraySegment<Observation>(copy, f.Start, f.End - f.Start))];

        lock (tailLock)
        {
            if (tail.Last is { } newest && firstId <= newest.Value.FirstId + newest.Value.Rows.Count - 1)
            {
                tail.Clear(); // ids did not grow (cannot happen while the newest row is kept): trust the table only
                tailCount = 0;
            }

            tail.AddLast((firstId, rows));
            tailCount += rows.Count;
            while (tailCount > TailCapacity)
            {
                tailCount -= tail.First!.Value.Rows.Count;
                tail.RemoveFirst();
            }
        }
    }

    /// <summary>Drops cached rows with id at or below <paramref name="upTo"/>: whole appends, and <see cref="tailFloor"/> keeps the rest of a partly covered one from being served.</summary>
    private void ForgetTail(long upTo)
    {
        lock (tailLock)
        {
            tailFloor = Math.Max(tailFloor, upTo);
            while (tail.First is { } first && first.Value.FirstId + first.Value.Rows.Count - 1 <= upTo)
            {
                tailCount -= first.Value.Rows.Count;
                tail.RemoveFirst();
            }
        }
    }

    /// <summary>
    /// Adds up to <paramref name="max"/> cached rows with ids after <paramref name="after"/> to
    /// <paramref name="records"/>, or returns false when row <paramref name="after"/> + 1 is not cached.
    /// It stops at a gap between appends (a row written another way), which the table read then handles.
    /// </summary>
    private bool ReadTail(long after, int max, List<OutboxRecord> records)
    {
        Volatile.Write(ref tailInUse, true);
        lock (tailLock)
        {
            var next = after + 1;
            if (next <= tailFloor)
            {
                return false;
            }

            for (var node = tail.First; node is not null && records.Count < max; node = node.Next)
            {
                var (firstId, rows) = node.Value;
                if (next < firstId)
                {
                    break; // not cached (compacted, or a gap before this append)
                }

                for (var i = (int)Math.Min(next - firstId, rows.Count); i < rows.Count && records.Count < max; i++)
                {
                    records.Add(OutboxRecord.Of(next++, rows[i]));
                }
            }

            return records.Count > 0;
        }
    }
}
