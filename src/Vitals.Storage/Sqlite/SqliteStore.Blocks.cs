using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Vitals.Core;

namespace Vitals.Storage.Sqlite;

/// <summary>
/// History in blocks (schema 7): a <c>vitals_blocks</c> row holds consecutive frames of one stream (see
/// <see cref="FrameBlock"/>), measured within <see cref="SpanMs"/> of each other, numbered <c>first_id</c>..<c>last_id</c>.
/// Frame ids stay what row ids were (the forwarding outbox's sequence, dense, growing), but an append writes one
/// SQLite row per stream instead of one per frame. SQLite's fixed cost per row (statement step, record, B-tree insert)
/// was most of the store's CPU: libe_sqlite3 fell from 22 % to 5-7 % of the shared harness's window, and
/// <c>Vitals.Storage.Benchmarks -- append 200000 4 2000</c> from 1.66-1.70 to 1.04-1.15 us CPU per frame (its own
/// observations included). At one reading per commit (a quiet ward) a block holds one frame.
/// A history read finds the blocks of the chair's streams that overlap its window through
/// <c>vitals_blocks_stream</c>, then decodes them.
/// </summary>
public sealed partial class SqliteStore
{
    /// <summary>
    /// The widest a block's measured times may spread (1 minute): a read of [from, to) looks at blocks starting from
    /// <c>from - SpanMs</c>, so the wider this, the more blocks a read decodes for nothing.
    /// </summary>
    public const long SpanMs = 60_000;

    /// <summary>
    /// The most frames in one block: bounds a block's bytes (~24 KB at two signs a frame) and what a read decodes
    /// to reach one frame; outbox reads look back this far for the block holding a frame id.
    /// </summary>
    public const int MaxFramesPerBlock = 1024;

    private const string InsertBlock = """
        INSERT INTO vitals_blocks (first_id, last_id, stream, min_ms, max_ms, received_ms, readings, frames)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);
        """;

    /// <summary>The columns of a block read, in the order <see cref="DecodeBlocks"/> expects.</summary>
    private const string BlockColumns = "first_id, last_id, stream, frames";

    /// <summary>The blocks of stream <c>?1</c> overlapping [<c>?2</c>, <c>?3</c>): what <see cref="Query"/> decodes.</summary>
    private static readonly string BlocksOverlapping = $"b.min_ms >= ?2 - {SpanMs} AND b.min_ms < ?3 AND b.max_ms >= ?2";

    /// <summary>Blocks holding a frame after id <c>?1</c>, in id order (a block starting before it holds at most <see cref="MaxFramesPerBlock"/>).</summary>
    private static readonly string BlocksAfter = $"SELECT {BlockColumns} FROM vitals_blocks WHERE first_id > ?1 - {MaxFramesPerBlock} AND last_id > ?1 ORDER BY first_id";

    private sqlite3_stmt? insertBlock;
    private byte[] blockBytes = new byte[64 * 1024];

    /// <summary>The batch being appended, as frames in insertion order (a stream's together); reused under the write lock.</summary>
    private readonly List<(long Stream, int Start, int End)> frames = [];

    private const long MaxCountedStream = 1 << 16;
    private int[] streamSlots = [];
    private (long Stream, int Start, int End)[] grouping = [];

    /// <summary>
    /// Splits the batch into frames (<see cref="ObservationFrames"/>) and orders them by stream, keeping each stream's
    /// frames in arrival order: a stream's frames in one append get consecutive ids, so one block holds them.
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

    /// <summary>
    /// Inserts the batch's frames on the writer's open transaction as blocks, a block per run of one stream's frames
    /// (see <see cref="OrderFrames"/>), split where a run would spread over more than <see cref="SpanMs"/> or hold
    /// more than <see cref="MaxFramesPerBlock"/> frames; returns the id of the last frame.
    /// </summary>
    private long InsertBlocks(IReadOnlyList<Observation> observations)
    {
        OrderFrames(observations);

        // Ids keep growing past every frame ever written (the newest block is never deleted, see Compact). Read on
        // each append, not kept: one B-tree descent per commit, and a block written another way is never overwritten.
        var id = NewestFrameId(writer) + 1;
        using var insert = new FrameInsert(insertBlock!);
        for (var f = 0; f < frames.Count;)
        {
            var g = WriteBlock(insert, id, observations, f);
            id += g - f;
            f = g;
        }

        return id - 1;
    }

    /// <summary>
    /// Inserts the block that starts at <see cref="frames"/>[<paramref name="f"/>], its frames numbered from
    /// <paramref name="firstId"/>: that frame and the next of its stream, up to <see cref="MaxFramesPerBlock"/> and while
    /// their measured times stay within <see cref="SpanMs"/>. Returns the index of the first frame not in it.
    /// </summary>
    private int WriteBlock(FrameInsert insert, long firstId, IReadOnlyList<Observation> observations, int f)
    {
        var stream = frames[f].Stream;
        long min = long.MaxValue, max = long.MinValue, received = long.MinValue, previous = 0;
        var readings = 0;
        var length = FrameBlock.Begin(blockBytes);
        var g = f;
        for (; g < frames.Count && frames[g].Stream == stream && g - f < MaxFramesPerBlock; g++)
        {
            var (_, start, end) = frames[g];
            var first = observations[start];
            var measured = first.MeasuredAt.ToUnixTimeMilliseconds();
            if (Math.Max(max, measured) - Math.Min(min, measured) > SpanMs)
            {
                break;
            }

            if (blockBytes.Length - length < FrameBlock.MaxFrameBytes)
            {
                Array.Resize(ref blockBytes, blockBytes.Length * 2);
            }

            length = FrameBlock.Append(blockBytes, length, previous, observations, start, end);
            (previous, min, max) = (measured, Math.Min(min, measured), Math.Max(max, measured));
            received = Math.Max(received, first.ReceivedAt.ToUnixTimeMilliseconds());
            readings += end - start;
        }

        insert.Bind(1, firstId);
        insert.Bind(2, firstId + (g - f) - 1);
        insert.Bind(3, stream);
        insert.Bind(4, min);
        insert.Bind(5, max);
        insert.Bind(6, received);
        insert.Bind(7, readings);
        insert.Bind(8, blockBytes.AsSpan(0, length));
        var rc = insert.StepAndReset();
        if (rc != raw.SQLITE_DONE)
        {
            throw SqliteFailure(writer, rc);
        }

        return g;
    }

    /// <summary>
    /// Schema 7: the schema-6 <c>vitals</c> rows become blocks, each row's id kept as its frame's id (forwarding
    /// cursors stay valid); a block never spans a gap in ids. <c>vitals</c>, its <c>vitals_frames</c> view and the
    /// <c>vitals_spans</c> index go. A row with no value (it could not be forwarded either) is kept in the quarantine
    /// table, described in full. One transaction: a crash leaves the file at schema 6.
    /// </summary>
    private void MigrateToBlocks()
    {
        // Literal for this version: a sign added later gets its place in its own migration step.
        string[] signs = ["hr", "pr", "spo2", "nibp_sys", "nibp_dia", "nibp_map", "rr", "temp"];
        using var tx = writer.BeginTransaction();
        Execute(writer, """
            CREATE TABLE vitals_blocks (
                first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, stream INTEGER NOT NULL,
                min_ms INTEGER NOT NULL, max_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL,
                readings INTEGER NOT NULL, frames BLOB NOT NULL);
            CREATE INDEX vitals_blocks_stream ON vitals_blocks (stream, min_ms, max_ms);
            """);
        using (var insert = PrepareOn(writer, InsertBlock))
        using (var rows = PrepareOn(writer, $"SELECT id, stream, measured_ms, received_ms, {string.Join(", ", signs.Select(s => $"{s}, {s}_quality"))} FROM vitals ORDER BY id;"))
        {
            var run = new List<Observation>();
            frames.Clear();
            long runFirst = 0, previousId = 0;
            while (Step(writer, rows))
            {
                var id = raw.sqlite3_column_int64(rows, 0);
                if (frames.Count > 0 && (id != previousId + 1 || frames.Count >= 8 * MaxFramesPerBlock))
                {
                    WriteRun(insert, runFirst, run);
                }

                runFirst = frames.Count == 0 ? id : runFirst;
                previousId = id;
                var measured = DateTimeOffset.FromUnixTimeMilliseconds(raw.sqlite3_column_int64(rows, 2));
                var received = DateTimeOffset.FromUnixTimeMilliseconds(raw.sqlite3_column_int64(rows, 3));
                var start = run.Count;
                for (var i = 0; i < signs.Length; i++)
                {
                    if (raw.sqlite3_column_type(rows, 4 + (2 * i)) != raw.SQLITE_NULL)
                    {
                        // Only what a block keeps: the text comes from the stream's row when read.
                        run.Add(new Observation(string.Empty, string.Empty, string.Empty, (Sign)i, raw.sqlite3_column_double(rows, 4 + (2 * i)),
                            measured, received, default, (ObservationQuality)raw.sqlite3_column_int(rows, 5 + (2 * i))));
                    }
                }

                if (run.Count == start)
                {
                    using var keep = writer.CreateCommand();
                    keep.Transaction = tx;
                    keep.CommandText = """
                        INSERT INTO quarantine (at_ms, forwarder, line, error)
                        VALUES (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'migration', $line, 'schema 7: a vitals row with no value');
                        """;
                    keep.Parameters.AddWithValue("$line", DescribeRow(rows));
                    keep.ExecuteNonQuery();
                    WriteRun(insert, runFirst, run);
                    continue;
                }

                frames.Add((raw.sqlite3_column_int64(rows, 1), start, run.Count));
            }

            WriteRun(insert, runFirst, run);
        }

        Execute(writer, "DROP VIEW vitals_frames; DROP TABLE vitals_spans; DROP TABLE vitals; PRAGMA user_version = 7;");
        tx.Commit();

        void WriteRun(sqlite3_stmt insert, long firstId, List<Observation> run)
        {
            using var statement = new FrameInsert(insert);
            for (var f = 0; f < frames.Count;)
            {
                f = WriteBlock(statement, firstId + f, run, f);
            }

            frames.Clear();
            run.Clear();
        }
    }

    /// <summary>
    /// Every frame stored in the file at <paramref name="path"/>, in id order, with its id: for tools and tests that look
    /// at a file beside (or after) a running gateway. Read-only: it never creates, upgrades or locks the file for writing;
    /// no file reads as empty. A block this build cannot decode is left out.
    /// </summary>
    public static List<(long Id, Observation[] Frame)> ReadAllFrames(string path)
    {
        var result = new List<(long, Observation[])>();
        if (!File.Exists(path))
        {
            return result;
        }

        using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        conn.Open();
        if (Scalar(conn, "SELECT count(*) FROM sqlite_master WHERE name = 'vitals_blocks';") == 0)
        {
            return result; // a file being created, or of an older schema
        }

        using var stmt = PrepareOn(conn, BlocksAfter + ";");
        raw.sqlite3_bind_int64(stmt, 1, 0);
        foreach (var block in DecodeBlocks(conn, stmt))
        {
            if (block.Error is null)
            {
                result.AddRange(block.Frames.Select((frame, i) => (block.FirstId + i, frame)));
            }
        }

        return result;
    }

    /// <summary>
    /// Steps <paramref name="stmt"/> (a <c>SELECT</c> of <see cref="BlockColumns"/>, prepared and bound by the caller) and
    /// decodes each block, a frame per id from its <c>first_id</c>. A block that cannot be read (its stream or source
    /// unknown to this build, damaged bytes) comes with <see cref="DecodedBlock.Error"/> set: the caller skips it whole.
    /// <see cref="DecodedBlock.Frames"/> is reused: valid until the next block.
    /// </summary>
    private static IEnumerable<DecodedBlock> DecodeBlocks(SqliteConnection conn, sqlite3_stmt stmt)
    {
        var names = new BlockNames(conn);
        var frames = new List<Observation[]>();
        while (Step(conn, stmt))
        {
            frames.Clear();
            var (firstId, lastId) = (raw.sqlite3_column_int64(stmt, 0), raw.sqlite3_column_int64(stmt, 1));
            var stream = raw.sqlite3_column_int64(stmt, 2);
            var error = names.Of(stream) is { } named
                ? FrameBlock.Decode(raw.sqlite3_column_blob(stmt, 3), named, frames)
                : $"stream {stream.ToString(CultureInfo.InvariantCulture)} is unknown or of a source this build does not know";
            if (error is null && frames.Count != lastId - firstId + 1)
            {
                error = $"{frames.Count} frames for ids {firstId}..{lastId}";
            }

            yield return new DecodedBlock(firstId, lastId, stream, raw.sqlite3_column_bytes(stmt, 3), frames, error);
        }
    }

    /// <summary>A block as <see cref="DecodeBlocks"/> read it: its frames, or why they cannot be read.</summary>
    private readonly record struct DecodedBlock(long FirstId, long LastId, long Stream, int Bytes, List<Observation[]> Frames, string? Error);

    /// <summary>The text of each <c>streams</c> row a read meets, looked up once per read.</summary>
    private sealed class BlockNames(SqliteConnection conn)
    {
        private readonly Dictionary<long, StreamNames?> known = [];

        public StreamNames? Of(long stream)
        {
            if (!known.TryGetValue(stream, out var names))
            {
                using var cmd = conn.CreateCommand();
                cmd.CommandText = "SELECT site, chair, device, source FROM streams WHERE id = $id;";
                cmd.Parameters.AddWithValue("$id", stream);
                using var reader = cmd.ExecuteReader();
                names = reader.Read() && Enum.TryParse<SourceProtocol>(reader.GetString(3), out var source)
                    ? new StreamNames(reader.GetString(0), reader.GetString(1), reader.GetString(2), source)
                    : null;
                known[stream] = names;
            }

            return names;
        }
    }
}
