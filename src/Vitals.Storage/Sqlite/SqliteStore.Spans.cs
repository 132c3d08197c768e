using System.Runtime.InteropServices;
using SQLitePCL;
using Vitals.Core;

namespace Vitals.Storage.Sqlite;

/// <summary>
/// The history index (schema 6): a <c>vitals_spans</c> row per run of consecutive <c>vitals</c> rows of one stream,
/// measured within <see cref="SpanMs"/> of each other, instead of an index entry per row. Each append writes a
/// stream's frames together, so one commit adds a span per stream rather than an index entry per frame: the
/// per-row index descent, compares and page splits of <c>(stream, measured_ms)</c> were ~1-1.5 us of the ~2.5 us
/// of CPU the store spent per frame at the shared harness's rate (<c>Vitals.Storage.Benchmarks -- append</c>). At one
/// reading per commit (a quiet ward) a span is one row, as an index entry was. A history read finds the spans of the
/// chair's streams that overlap its window, then reads their rows by id.
/// </summary>
public sealed partial class SqliteStore
{
    /// <summary>
    /// The widest a span's measured times may spread (1 minute): a read of [from, to) looks at spans starting from
    /// <c>from - SpanMs</c>, so the wider this, the more spans a read skips over.
    /// </summary>
    public const long SpanMs = 60_000;

    private const string InsertSpan = "INSERT INTO vitals_spans (first_id, last_id, stream, min_ms, max_ms) VALUES (?1, ?2, ?3, ?4, ?5);";

    /// <summary>The spans of <c>?1</c>'s overlapping [<c>?2</c>, <c>?3</c>): what <see cref="Query"/> reads rows from.</summary>
    private static readonly string SpansOverlapping = $"s.min_ms >= ?2 - {SpanMs} AND s.min_ms < ?3 AND s.max_ms >= ?2";

    private sqlite3_stmt? insertSpan;

    /// <summary>The batch being appended, as frames in insertion order (a stream's together); reused under the write lock.</summary>
    private readonly List<(long Stream, int Start, int End)> frames = [];

    private const long MaxCountedStream = 1 << 16;
    private int[] streamSlots = [];
    private (long Stream, int Start, int End)[] grouping = [];

    /// <summary>
    /// Splits the batch into frames (<see cref="ObservationFrames"/>) and orders them by stream, keeping each stream's
    /// frames in arrival order: a stream's rows in one append get consecutive ids, so one span covers them.
    /// </summary>
    private void OrderFrames(IReadOnlyList<Observation> observations)
    {
        frames.Clear();
        var grouped = true;
        for (var start = 0; start < observations.Count;)
        {
            var end = ObservationFrames.FrameEnd(observations, start);
            var first = observations[start];
            var stream = StreamId(new StreamKey(first.Site, first.Chair, first.Device, first.Source));
            grouped &= frames.Count == 0 || frames[^1].Stream <= stream;
            frames.Add((stream, start, end));
            start = end;
        }

        if (!grouped)
        {
            GroupByStream();
        }
    }

    /// <summary>
    /// Reorders <see cref="frames"/> by stream, each stream's frames kept in arrival order: a counting sort on the
    /// stream ids (the <c>streams</c> table's small row ids), linear where a comparison sort of a 2,000-frame commit cost
    /// 2.5 % of the harness's samples. Ids beyond <see cref="MaxCountedStream"/> (a file with that many streams) fall
    /// back to the comparison sort.
    /// </summary>
    private void GroupByStream()
    {
        var all = CollectionsMarshal.AsSpan(frames);
        var max = 0L;
        foreach (var f in all)
        {
            max = Math.Max(max, f.Stream);
        }

        if (max >= MaxCountedStream)
        {
            all.Sort(static (a, b) => a.Stream != b.Stream ? a.Stream.CompareTo(b.Stream) : a.Start.CompareTo(b.Start));
            return;
        }

        // next[s]: where stream s's next frame goes, from the counts of the streams before it.
        if (streamSlots.Length < max + 1)
        {
            streamSlots = new int[max + 1];
        }

        var next = streamSlots.AsSpan(0, (int)max + 1);
        next.Clear();
        foreach (var f in all)
        {
            next[(int)f.Stream]++;
        }

        for (int s = 0, at = 0; s < next.Length; s++)
        {
            (next[s], at) = (at, at + next[s]);
        }

        if (grouping.Length < all.Length)
        {
            grouping = new (long, int, int)[all.Length];
        }

        foreach (var f in all)
        {
            grouping[next[(int)f.Stream]++] = f;
        }

        grouping.AsSpan(0, all.Length).CopyTo(all);
    }

    /// <summary>Inserts <paramref name="span"/> if it holds a row.</summary>
    private void WriteSpan(FrameInsert statement, OpenSpan span)
    {
        if (span.FirstId == 0)
        {
            return;
        }

        statement.Bind(1, span.FirstId);
        statement.Bind(2, span.LastId);
        statement.Bind(3, span.Stream);
        statement.Bind(4, span.MinMs);
        statement.Bind(5, span.MaxMs);
        var rc = statement.StepAndReset();
        if (rc != raw.SQLITE_DONE)
        {
            throw SqliteFailure(writer, rc);
        }
    }

    /// <summary>The span an append is extending: rows <see cref="FirstId"/>..<see cref="LastId"/> of one stream.</summary>
    private struct OpenSpan(long stream, long id, long measuredMs)
    {
        public readonly long Stream = stream;
        public readonly long FirstId = id;
        public long LastId = id;
        public long MinMs = measuredMs;
        public long MaxMs = measuredMs;

        /// <summary>Adds the next row if it is of the same stream and keeps the span within <see cref="SpanMs"/>.</summary>
        public bool TryExtend(long stream, long id, long measuredMs)
        {
            if (FirstId == 0 || stream != Stream || Math.Max(MaxMs, measuredMs) - Math.Min(MinMs, measuredMs) > SpanMs)
            {
                return false;
            }

            LastId = id;
            MinMs = Math.Min(MinMs, measuredMs);
            MaxMs = Math.Max(MaxMs, measuredMs);
            return true;
        }
    }
}
