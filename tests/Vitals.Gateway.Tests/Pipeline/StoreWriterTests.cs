using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Vitals.Core;
using Vitals.Gateway.Pipeline;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Pipeline;

/// <summary>
/// The store writer's batching (batch enqueue, room accounting, group-commit window, waiters) loses and repeats nothing:
/// every reading queued becomes exactly one row, and every feed waiting on a reading is released once it is committed.
/// The writer runs on a fake clock that never moves, so a wait on the injected clock would hang these tests.
/// </summary>
public sealed class StoreWriterTests
{
    private const int Chairs = 7;

    [Fact]
    public async Task EnqueueAsync_BurstAcrossManyBatchesWithWaiters_EveryReadingStoredOnceAndEveryWaiterReleased()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        using var dir = new TempDir();
        using var store = new SqliteStore(Path.Combine(dir.Path, "vitals.db"));
        using var writer = NewWriter(host, store);
        await writer.StartAsync(CancellationToken.None);

        // Pipeline-sized pieces of uneven length, some with a feed waiting on their last reading (as an HL7 AA or MQTT
        // PUBACK does) and some without (so the group-commit window opens), and some readings replaced before queueing.
        var total = (3 * StoreWriter.MaxBatch) + 1234;
        var waiters = new List<Task>();
        var piece = new List<Observation>();
        var next = 0;
        for (var n = 0; next < total; n++)
        {
            piece.Clear();
            var size = Math.Min(1 + (n * 37 % 64), total - next);
            for (var i = 0; i < size; i++)
            {
                piece.Add(Reading(next++));
            }

            if (n % 5 == 0)
            {
                waiters.Add(writer.WhenStored(piece[^1]));
            }

            if (n % 11 == 0)
            {
                var replacement = piece[0] with { };
                writer.Replaced(piece[0], replacement);
                piece[0] = replacement;
            }

            await writer.EnqueueAsync(piece, CancellationToken.None); // the writer copies: the list is reused
            if (n % 50 == 0)
            {
                await Task.Yield(); // let the writer take part of the burst, so batches end at many places
            }
        }

        waiters.Add(writer.WhenStored(piece[^1])); // already committed or not: released either way once committed
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromMinutes(2));
        await Eventually.TrueAsync(() => writer.Written == total, "every reading written", TimeSpan.FromMinutes(2));

        await writer.StopAsync(CancellationToken.None);
        AssertStoredOnce(store, total);
        Assert.Equal(0, writer.Pending);
    }

    [Fact]
    public async Task EnqueueAsync_QueueFull_WaitsUntilTheWriterTakesReadingsThenStoresEverythingOnce()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        using var dir = new TempDir();
        using var store = new SqliteStore(Path.Combine(dir.Path, "vitals.db"));
        using var writer = NewWriter(host, store);

        // The writer is not running yet: the queue fills to its capacity, then a feed must wait rather than grow it.
        var next = 0;
        var piece = new List<Observation>();
        while (writer.Pending < StoreWriter.ObservationCapacity)
        {
            piece.Clear();
            for (var i = 0; i < 64; i++)
            {
                piece.Add(Reading(next++));
            }

            var queued = writer.EnqueueAsync(piece, CancellationToken.None);
            Assert.True(queued.IsCompletedSuccessfully);
        }

        piece.Clear();
        piece.Add(Reading(next++));
        var blocked = writer.EnqueueAsync(piece, CancellationToken.None).AsTask();
        var stored = writer.WhenStored(piece[0]);
        await Task.Delay(200);
        Assert.False(blocked.IsCompleted);

        await writer.StartAsync(CancellationToken.None);
        await blocked.WaitAsync(TimeSpan.FromMinutes(2));
        await stored.WaitAsync(TimeSpan.FromMinutes(2));

        await writer.StopAsync(CancellationToken.None);
        AssertStoredOnce(store, next);
    }

    [Fact]
    public async Task EnqueueAsync_StoreFailingAndHoldFull_NeverWaits_ExtraReadingsNotRecordedAndHeldOnesStoredOnce()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "vitals.db");
        using var store = new SqliteStore(path);
        const int Capacity = 500;
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20_000)); // moved by hand: the retry waits on it
        using var writer = new StoreWriter(store, clock, host.App.Services.GetRequiredService<LoopSupervisor>(), NullLogger<StoreWriter>.Instance, Capacity);

        // Another process holds the write lock: every commit fails (after the busy timeout) and is retried.
        using var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        other.Open();
        using (var begin = other.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE;";
            begin.ExecuteNonQuery();
        }

        await writer.StartAsync(CancellationToken.None);
        var next = 0;
        var first = new List<Observation> { Reading(next++) };
        var firstStored = writer.WhenStored(first[0]);
        await writer.EnqueueAsync(first, CancellationToken.None);
        await Eventually.TrueAsync(() => writer.Failure is not null, "the write to fail", TimeSpan.FromMinutes(1));

        // Fill the memory hold (the writer holds its failed batch and retries it; behind it the queue fills to capacity).
        var piece = new List<Observation>();
        while (writer.Pending < Capacity)
        {
            piece.Clear();
            piece.Add(Reading(next++));
            await writer.EnqueueAsync(piece, CancellationToken.None);
        }

        var held = next;
        var lastHeld = piece[0];
        var lastHeldStored = writer.WhenStored(lastHeld); // queued before the hold filled: will be stored
        Assert.True(writer.HoldFull);

        // Past the hold, a feed never waits (a waiting feed is one whose readings are not judged): not recorded, counted,
        // and a feed waiting on one hears "not kept" (an HL7 AE) at once.
        var notKept = new List<Task<bool>>();
        for (var i = 0; i < 300; i++)
        {
            piece.Clear();
            piece.Add(Reading(next++));
            notKept.Add(writer.WhenStored(piece[0]));
            var queued = writer.EnqueueAsync(piece, CancellationToken.None);
            Assert.True(queued.IsCompletedSuccessfully, $"reading {next - 1} waited for a store that is failing");
        }

        Assert.Equal(300, writer.NotRecorded);
        Assert.All(await Task.WhenAll(notKept).WaitAsync(TimeSpan.FromMinutes(1)), Assert.False);

        using (var commit = other.CreateCommand())
        {
            commit.CommandText = "COMMIT;";
            commit.ExecuteNonQuery();
        }

        // Writes resume at the next retry: everything held is stored once, and the waiters on held readings hear "stored".
        await Eventually.TrueAsync(
            () =>
            {
                clock.Advance(TimeSpan.FromSeconds(1));
                return firstStored.IsCompleted;
            },
            "the retried write to commit",
            TimeSpan.FromMinutes(1));
        Assert.True(await firstStored);
        Assert.True(await lastHeldStored.WaitAsync(TimeSpan.FromMinutes(1)));
        await Eventually.TrueAsync(() => writer.Failure is null && writer.Pending == 0, "the hold written", TimeSpan.FromMinutes(1));
        Assert.False(writer.HoldFull);
        await writer.StopAsync(CancellationToken.None);
        AssertStoredOnce(store, held);
    }

    private static StoreWriter NewWriter(GatewayHost host, SqliteStore store) =>
        new(store, new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20_000)), host.App.Services.GetRequiredService<LoopSupervisor>(), NullLogger<StoreWriter>.Instance);

    /// <summary>Reading <paramref name="seq"/>: its value is its number, so every row can be told apart.</summary>
    private static Observation Reading(int seq)
    {
        var at = DateTimeOffset.UnixEpoch.AddDays(20_000).AddMilliseconds(seq);
        return new Observation("site", $"chair-{seq % Chairs}", "dev", Sign.Hr, seq, at, at, SourceProtocol.Simulator);
    }

    private static void AssertStoredOnce(SqliteStore store, int total)
    {
        var from = DateTimeOffset.UnixEpoch.AddDays(19_999);
        var to = DateTimeOffset.UnixEpoch.AddDays(20_001);
        var values = Enumerable.Range(0, Chairs)
            .SelectMany(c => store.Query($"chair-{c}", from, to, limit: 1_000_000))
            .Select(o => (int)o.Value)
            .Order()
            .ToList();
        Assert.Equal(total, store.CountObservations());
        Assert.Equal(Enumerable.Range(0, total), values); // none lost, none twice
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("vitals-storewriter-").FullName;

        public void Dispose()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(Path, recursive: true);
        }
    }
}
