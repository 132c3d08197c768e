using System.Text.Json;
using Microsoft.Data.Sqlite;
using Vitals.Core;
using Vitals.Storage.Influx;
using Vitals.Storage.Sqlite;
using Vitals.Storage.Tests.Influx;

namespace Vitals.Storage.Tests.Sqlite;

/// <summary>The production path end to end: SQLite store, two outboxes, two forwarders, a real influxd.</summary>
internal static class SqliteForwarding
{
    public static AlarmEvent Alarm(int step) => new(
        "north", "c1", "hr.high", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological,
        step % 2 == 0 ? AlarmState.Raised : AlarmState.Cleared, 130, 120, "HR high",
        ForwarderHarness.T0.AddSeconds(step * 5).AddMilliseconds(500));

    public static FeedStatusSample Status(int step) =>
        new("north", "c1", "devc1", step % 7 != 3, step * 5, 0, ForwarderHarness.T0.AddSeconds(step * 5).AddMilliseconds(700));

    /// <summary>Appends step <paramref name="step"/> as the gateway would: five frames per chair, one alarm transition, one feed status. Returns the last observation and event ids.</summary>
    public static (long Observation, long Event) AppendStep(SqliteStore store, int chairs, int step)
    {
        var obs = store.Append([.. ForwarderHarness.Frames(chairs, step * 5, (step * 5) + 5)]);
        store.AppendEvent(Alarm(step).At, SqliteStore.AlarmEventType, "c1", JsonSerializer.Serialize(Alarm(step), StorageJson.Options));
        store.AppendEvent(Alarm(step).At, "config", null, "{}"); // not forwarded: the events outbox skips it
        var ev = store.AppendFeedStatus([Status(step)]);
        return (obs, ev);
    }

    public static async Task AssertExactlyOnceAsync(InfluxdServer server, string db, int chairs, int steps)
    {
        Assert.Equal(chairs * steps * 5, await server.ScalarAsync(db, "SELECT count(hr) FROM vitals"));
        Assert.Equal(chairs * steps * 5, await server.ScalarAsync(db, "SELECT count(spo2) FROM vitals"));
        Assert.Equal(steps * 5, await server.ScalarAsync(db, "SELECT count(pr) FROM vitals WHERE chair = 'c0'"));
        Assert.Equal(steps, await server.ScalarAsync(db, "SELECT count(state) FROM alarms WHERE rule = 'hr.high' AND priority = 'high'"));
        Assert.Equal((steps + 1) / 2, await server.ScalarAsync(db, "SELECT count(state) FROM alarms WHERE state = 'raised'"));
        Assert.Equal(steps, await server.ScalarAsync(db, "SELECT count(frames_ok) FROM feed_status WHERE device = 'devc1'"));
    }

    /// <summary>
    /// Counted on the wire, where a duplicate cannot hide behind InfluxDB's overwrite of same-timestamp points: every
    /// frame, alarm transition and feed status was acknowledged by influxd exactly once.
    /// </summary>
    public static void AssertEachLineAcknowledgedOnce(CountingInfluxProxy proxy, int chairs, int steps)
    {
        Assert.Empty(proxy.AcknowledgedTwice());
        Assert.Equal(chairs * steps * 5, proxy.AcceptedLines("vitals").Count);
        Assert.Equal(steps, proxy.AcceptedLines("alarms").Count);
        Assert.Equal(steps, proxy.AcceptedLines("feed_status").Count);
        Assert.Equal(proxy.AcceptedLines().Count, proxy.AcceptedLines("vitals").Count + (2 * steps));
    }
}

/// <summary>Kills influxd, so it owns one.</summary>
public sealed class SqliteForwardingOutageTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-fwd-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task SqliteOutboxes_InfluxdKilledMidRunAndRestarted_EveryObservationAndAlarmExactlyOnce()
    {
        const int Chairs = 10;
        const int Steps = 60; // 3000 frames of 3 observations, 60 alarm transitions, 60 feed statuses
        using var server = new InfluxdServer();
        await server.CreateDatabaseAsync("sqlite_outage");
        using var proxy = new CountingInfluxProxy(server.BaseUri);
        using var store = new SqliteStore(Path.Combine(dir, "vitals.db"));
        using var http = new HttpClient();
        using var observations = new InfluxForwarder(SqliteOutbox.ForObservations(store), ForwarderHarness.Client(proxy.Url("sqlite_outage"), http), ForwarderHarness.FastOptions(batchSize: 300));
        using var events = new InfluxForwarder(SqliteOutbox.ForEvents(store), ForwarderHarness.Client(proxy.Url("sqlite_outage"), http), ForwarderHarness.FastOptions(batchSize: 20));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var runs = Task.WhenAll(observations.RunAsync(cts.Token), events.RunAsync(cts.Token));

        var last = (Observation: 0L, Event: 0L);
        var producer = Task.Run(async () =>
        {
            for (var step = 0; step < Steps; step++)
            {
                last = SqliteForwarding.AppendStep(store, Chairs, step);
                await Task.Delay(30, cts.Token);
            }
        });

        long ObsCursor() => store.GetForwardCursor(SqliteOutbox.ObservationsName);
        long EventCursor() => store.GetForwardCursor(SqliteOutbox.EventsName);
        await ForwarderHarness.WaitUntilAsync(() => ObsCursor() > 0 && EventCursor() > 0, TimeSpan.FromSeconds(10), "a first delivery of both outboxes");
        server.Kill();
        var obsAtKill = ObsCursor();
        await ForwarderHarness.WaitUntilAsync(() => observations.Health.LastError is not null && events.Health.LastError is not null, TimeSpan.FromSeconds(10), "both forwarders to notice the outage");
        await Task.Delay(700);
        Assert.True(observations.Health.LagPoints > 0);
        server.Start();
        await producer;
        Assert.True(obsAtKill < last.Observation, "the outage must happen mid-run");
        await ForwarderHarness.WaitUntilAsync(() => ObsCursor() == last.Observation && EventCursor() == last.Event, TimeSpan.FromSeconds(30), "both backlogs to drain after restart");
        await cts.CancelAsync();
        await runs;

        await SqliteForwarding.AssertExactlyOnceAsync(server, "sqlite_outage", Chairs, Steps);
        SqliteForwarding.AssertEachLineAcknowledgedOnce(proxy, Chairs, Steps);
        Assert.True(proxy.UnacknowledgedPosts > 0, "the outage must have cost at least one write");
        Assert.Equal(0, store.CountQuarantined());
        Assert.Equal(0, observations.Health.LagPoints);
        Assert.Equal(0, SqliteOutbox.ForObservations(store).GetBacklog(ForwarderHarness.T0, new StoreRetentionOptions()).Rows);
    }
}

[Collection("influxd")]
public sealed class SqliteForwardingCrashTests(InfluxdFixture fixture) : IDisposable
{
    private readonly InfluxdServer server = fixture.Server;
    private readonly string dir = Directory.CreateTempSubdirectory("vitals-crash-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task SqliteOutboxes_CrashBetweenWriteAndCommitThenReopen_NothingLostNothingDoubled()
    {
        const int Chairs = 5;
        const int StepsBeforeCrash = 40;
        const int Steps = 50;
        const string Db = "sqlite_crash";
        await server.CreateDatabaseAsync(Db);
        var path = Path.Combine(dir, "vitals.db");
        using var http = new HttpClient();
        long obsAtCrash, eventsAtCrash;

        using (var store = new SqliteStore(path))
        {
            for (var step = 0; step < StepsBeforeCrash; step++)
            {
                SqliteForwarding.AppendStep(store, Chairs, step);
            }

            // The "process" dies after a batch reached InfluxDB but before its cursor was committed.
            var obsOutbox = new CrashBeforeCommitOutbox(SqliteOutbox.ForObservations(store), commitsBeforeCrash: 3);
            var eventOutbox = new CrashBeforeCommitOutbox(SqliteOutbox.ForEvents(store), commitsBeforeCrash: 2);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using (var observations = new InfluxForwarder(obsOutbox, ForwarderHarness.Client(server.Url(Db), http), ForwarderHarness.FastOptions(batchSize: 250)))
            using (var events = new InfluxForwarder(eventOutbox, ForwarderHarness.Client(server.Url(Db), http), ForwarderHarness.FastOptions(batchSize: 10)))
            {
                var runs = Task.WhenAll(observations.RunAsync(cts.Token), events.RunAsync(cts.Token));
                await ForwarderHarness.WaitUntilAsync(() => obsOutbox.Crashed && eventOutbox.Crashed, TimeSpan.FromSeconds(20), "both forwarders to reach the crash point");
                await cts.CancelAsync();
                await runs;
            }

            obsAtCrash = store.GetForwardCursor(SqliteOutbox.ObservationsName);
            eventsAtCrash = store.GetForwardCursor(SqliteOutbox.EventsName);
            var alarmsCommitted = store.ReadEvents(type: SqliteStore.AlarmEventType).Count(e => e.Id <= eventsAtCrash);
            Assert.True(obsAtCrash > 0 && eventsAtCrash > 0);
            Assert.True(await server.ScalarAsync(Db, "SELECT count(state) FROM alarms") > alarmsCommitted, "a delivered batch must be uncommitted at the crash");
        }

        SqliteConnection.ClearAllPools();
        using (var store = new SqliteStore(path))
        {
            Assert.Equal(obsAtCrash, store.GetForwardCursor(SqliteOutbox.ObservationsName));
            Assert.Equal(eventsAtCrash, store.GetForwardCursor(SqliteOutbox.EventsName));
            var last = (Observation: 0L, Event: 0L);
            for (var step = StepsBeforeCrash; step < Steps; step++)
            {
                last = SqliteForwarding.AppendStep(store, Chairs, step);
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var observations = new InfluxForwarder(SqliteOutbox.ForObservations(store), ForwarderHarness.Client(server.Url(Db), http), ForwarderHarness.FastOptions(batchSize: 250));
            using var events = new InfluxForwarder(SqliteOutbox.ForEvents(store), ForwarderHarness.Client(server.Url(Db), http), ForwarderHarness.FastOptions(batchSize: 10));
            var runs = Task.WhenAll(observations.RunAsync(cts.Token), events.RunAsync(cts.Token));
            await ForwarderHarness.WaitUntilAsync(
                () => store.GetForwardCursor(SqliteOutbox.ObservationsName) == last.Observation && store.GetForwardCursor(SqliteOutbox.EventsName) == last.Event,
                TimeSpan.FromSeconds(20),
                "the resumed forwarders to catch up");
            await cts.CancelAsync();
            await runs;
        }

        await SqliteForwarding.AssertExactlyOnceAsync(server, Db, Chairs, Steps);
    }

    /// <summary>Passes through, except that after <c>commitsBeforeCrash</c> commits the next commit never happens (it waits for cancellation), as if the process died there.</summary>
    private sealed class CrashBeforeCommitOutbox(IOutbox inner, int commitsBeforeCrash) : IOutbox
    {
        private int commits;
        private volatile bool crashed;

        public bool Crashed => crashed;

        public ValueTask<long> GetCursorAsync(CancellationToken cancellationToken) => inner.GetCursorAsync(cancellationToken);

        public ValueTask<OutboxBatch> ReadAfterAsync(long cursor, int max, CancellationToken cancellationToken) => inner.ReadAfterAsync(cursor, max, cancellationToken);

        public async ValueTask CommitAsync(long cursor, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref commits) > commitsBeforeCrash)
            {
                crashed = true;
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            await inner.CommitAsync(cursor, cancellationToken);
        }

        public ValueTask QuarantineAsync(IReadOnlyList<string> lines, string serverError, CancellationToken cancellationToken) =>
            inner.QuarantineAsync(lines, serverError, cancellationToken);
    }
}
