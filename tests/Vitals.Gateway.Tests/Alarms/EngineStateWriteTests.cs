using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Core.Alarms;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Pipeline;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Alarms;

/// <summary>
/// What saving the alarm engine's state costs the disk while readings flow: counted in bytes written to its
/// <c>config</c> rows (a trigger in the real database file counts every insert and update), never in time.
/// </summary>
public sealed class EngineStateWriteTests : IDisposable
{
    private const int Chairs = 50;
    private const int Seconds = 300;
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-engine-state-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Save_FiftyChairsStreamingFiveMinutesOfReadings_EngineStateWrittenDoesNotGrowWithReadings()
    {
        CountEngineStateWrites();
        long before;
        await using (var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1), dir))
        {
            var pipeline = host.App.Services.GetRequiredService<ObservationPipeline>();
            var alarms = host.App.Services.GetRequiredService<AlarmService>();

            // Readings carry receive times from now on, a second apart per chair, fed as fast as the pipeline takes them;
            // after each second's readings the engine's clock ticks, as it does once a second in a running gateway.
            var start = DateTimeOffset.UtcNow;
            await FeedSecondAsync(pipeline, alarms, start, 0);
            for (var chair = 1; chair <= Chairs; chair++)
            {
                var session = new InfusionSession($"s-{chair}", $"load-{chair}", "P-1042", "iron sucrose", 1, null, start);
                await alarms.RunAsync((e, now, events) => e.StartSession(session, now, events), CancellationToken.None);
            }

            await Eventually.TrueAsync(() => Task.FromResult(SavedStateHoldsEverySession()), "the saved engine state to hold every session");
            before = LastWrite();

            for (var second = 1; second < Seconds; second++)
            {
                await FeedSecondAsync(pipeline, alarms, start, second);
            }
        }

        // Stopped (state saved, store drained). The old single snapshot rewrote every chair's growing history each tick.
        var (bytes, largest) = WrittenAfter(before);
        var written = $"{bytes:N0} bytes of engine state written for {Chairs * Seconds:N0} readings that changed no state, the largest row {largest:N0} bytes";
        Assert.True(largest <= 4096, written);
        Assert.True(bytes <= Chairs * 1024, written);
    }

    private static async Task FeedSecondAsync(ObservationPipeline pipeline, AlarmService alarms, DateTimeOffset start, int second)
    {
        var at = start + TimeSpan.FromSeconds(second);
        var target = pipeline.Processed + Chairs;
        for (var chair = 1; chair <= Chairs; chair++)
        {
            await pipeline.Writer.WriteAsync(new Observation("test-site", $"load-{chair}", "mon", Sign.Hr, 70 + ((second + chair) % 7), at, at, SourceProtocol.Simulator));
        }

        await Eventually.TrueAsync(() => Task.FromResult(pipeline.Processed >= target), $"second {second}'s readings judged");
        await alarms.TickAsync(CancellationToken.None);
    }

    private string DbPath => Path.Combine(dir, "vitals.db");

    /// <summary>Creates the store's schema and a trigger counting the bytes of every engine-state row written.</summary>
    private void CountEngineStateWrites()
    {
        new SqliteStore(DbPath).Dispose();
        using var conn = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            CREATE TABLE engine_state_writes (id INTEGER PRIMARY KEY, bytes INTEGER NOT NULL);
            CREATE TRIGGER engine_state_inserted AFTER INSERT ON config WHEN NEW.key LIKE 'alarm.engine.%'
                BEGIN INSERT INTO engine_state_writes (bytes) VALUES (length(CAST(NEW.value AS BLOB))); END;
            CREATE TRIGGER engine_state_updated AFTER UPDATE ON config WHEN NEW.key LIKE 'alarm.engine.%'
                BEGIN INSERT INTO engine_state_writes (bytes) VALUES (length(CAST(NEW.value AS BLOB))); END;
            """;
        cmd.ExecuteNonQuery();
    }

    private long LastWrite() => Convert.ToInt64(Query("SELECT coalesce(max(id), 0) FROM engine_state_writes;"), System.Globalization.CultureInfo.InvariantCulture);

    private (long Bytes, long Largest) WrittenAfter(long id)
    {
        using var conn = new SqliteConnection($"Data Source={DbPath};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT coalesce(sum(bytes), 0), coalesce(max(bytes), 0) FROM engine_state_writes WHERE id > $id;";
        cmd.Parameters.AddWithValue("$id", id);
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>True once every session is in the saved engine state, however it is laid out in rows.</summary>
    private bool SavedStateHoldsEverySession()
    {
        var saved = Query("SELECT coalesce(group_concat(value), '') FROM config WHERE key LIKE 'alarm.engine.%';") as string ?? "";
        return Enumerable.Range(1, Chairs).All(chair => saved.Contains($"\"id\":\"s-{chair}\"", StringComparison.Ordinal));
    }

    private object? Query(string sql)
    {
        using var conn = new SqliteConnection($"Data Source={DbPath};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }
}
