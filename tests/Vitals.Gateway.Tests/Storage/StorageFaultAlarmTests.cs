using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Gateway.Alarms;
using Vitals.Gateway.Pipeline;
using Xunit.Abstractions;

namespace Vitals.Gateway.Tests.Storage;

/// <summary>
/// The gateway's own technical alarms for storage trouble, end to end: the local store locked by another process,
/// and InfluxDB configured on a loopback port nobody listens on, so every write is refused and the backlog grows.
/// </summary>
public sealed class StorageFaultAlarmTests(ITestOutputHelper output)
{
    /// <summary>An InfluxDB URL on <paramref name="closed"/>: connection refused for as long as the test holds it.</summary>
    private static string DeadInfluxUrl(ReservedPort closed) => $"http://127.0.0.1:{closed.Port}/?db=vitals";

    internal static async Task<JsonElement?> GatewayAlarm(GatewayHost host, string rule)
    {
        using var doc = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/alarms", UriKind.Relative)));
        foreach (var alarm in doc.RootElement.EnumerateArray())
        {
            if (alarm.GetProperty("chair").GetString() == "gateway" && alarm.GetProperty("rule").GetString() == rule)
            {
                return alarm.Clone();
            }
        }

        return null;
    }

    [Fact]
    public async Task InfluxUnreachable_LagPastThreshold_RaisesGatewayLagAlarm()
    {
        var options = GatewayHost.OneChair("stable", 1);
        using var closed = new ReservedPort();
        options.Influx = DeadInfluxUrl(closed);
        options.InfluxLagAlarmSeconds = 10;
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromMilliseconds(100));

        JsonElement? lag = null;
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(40), async () => (lag = await GatewayAlarm(host, "gateway.forwarder.lag")) is not null);

        Assert.Equal("technical", lag!.Value.GetProperty("kind").GetString());
        Assert.Equal("medium", lag.Value.GetProperty("priority").GetString());
        Assert.Contains("InfluxDB forwarding is", lag.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Null(await GatewayAlarm(host, "gateway.backlog")); // 30 million rows away
    }

    [Fact]
    public async Task InfluxUnreachable_BacklogPastConfiguredMaximum_RaisesHighPriorityAlarmAndKeepsStoring()
    {
        var options = GatewayHost.OneChair("stable", 1);
        using var closed = new ReservedPort();
        options.Influx = DeadInfluxUrl(closed);
        options.InfluxBacklogMaxRows = 100;
        await using var host = await GatewayHost.StartAsync(options, TimeSpan.FromMilliseconds(20)); // about 50 frames/s

        JsonElement? backlog = null;
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(40), async () =>
            (backlog = await GatewayAlarm(host, "gateway.backlog")) is { } a && a.GetProperty("priority").GetString() == "high");

        Assert.Contains("at its limit", backlog!.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        var observations = status.RootElement.GetProperty("storage").GetProperty("backlog").EnumerateArray().First(b => b.GetProperty("outbox").GetString() == "influx.observations");
        Assert.True(observations.GetProperty("rows").GetInt64() >= 100);
        Assert.True(observations.GetProperty("backlogFull").GetBoolean());
        Assert.True(status.RootElement.GetProperty("stored").GetInt64() >= 100); // still storing at the limit
    }

    [Fact]
    public async Task StoreLockedByAnotherProcessFor30s_RaisesHighStoreAlarmStoresEveryReadingAndTheAlarmClockKeepsTicking()
    {
        // The simulated monitor stays silent (one step an hour): the test is the only source, so it can count exactly.
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        var pipeline = host.App.Services.GetRequiredService<ObservationPipeline>();
        var sent = 0;
        async Task SendAsync(int count)
        {
            for (var end = sent + count; sent < end; sent++)
            {
                var now = DateTimeOffset.UtcNow;
                await pipeline.Writer.WriteAsync(new Observation("test-site", "chair-1", "sim-1", Sign.Hr, 60 + (sent * 0.01), now, now, SourceProtocol.Simulator));
            }
        }

        await SendAsync(50);
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(20), async () => await StoredAsync(host) == 50);

        // A backup tool or a stray sqlite3 shell holding the write lock for 30 s: appends wait 5 s (busy timeout), then
        // fail and are retried. Meanwhile the chair keeps sending, so it is never "feed lost" while the store is locked.
        var lockedAt = DateTime.UtcNow;
        using (var other = new SqliteConnection($"Data Source={Path.Combine(host.DataDir, "vitals.db")};Pooling=False"))
        {
            other.Open();
            using (var begin = other.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE;";
                begin.ExecuteNonQuery();
            }

            await SendAsync(100);
            JsonElement? store = null;
            await GatewayHost.WaitUntil(TimeSpan.FromSeconds(30), async () => (store = await GatewayAlarm(host, "gateway.store")) is not null);
            Assert.Equal("high", store!.Value.GetProperty("priority").GetString());
            Assert.Contains("cannot be saved to the local store", store.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
            while (DateTime.UtcNow - lockedAt < TimeSpan.FromSeconds(30))
            {
                await SendAsync(1);
                await Task.Delay(TimeSpan.FromSeconds(1)); // the length of the fault, not a budget
            }

            Assert.Equal(50, await StoredAsync(host));
            using var commit = other.CreateCommand();
            commit.CommandText = "COMMIT;";
            commit.ExecuteNonQuery();
        }

        // Held in memory meanwhile, then written: every reading is in the history exactly once, and the failure clears.
        await SendAsync(50);
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(30), async () => await StoredAsync(host) == sent);
        using var history = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/chairs/chair-1/history?minutes=10", UriKind.Relative)));
        var values = history.RootElement.EnumerateArray().Select(o => Math.Round((o.GetProperty("value").GetDouble() - 60) * 100)).Order().ToList();
        Assert.Equal(Enumerable.Range(0, sent).Select(i => (double)i), values);
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(30), async () => await GatewayAlarm(host, "gateway.store") is null);
        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        Assert.False(status.RootElement.GetProperty("storage").TryGetProperty("storeFailure", out var failure) && failure.ValueKind != JsonValueKind.Null, "store failure still reported");

        // The alarm clock survived the lock: the dashboard stream still gets its heartbeat, and the chair, now silent,
        // is reported lost (15 s without readings by default), which only a tick can do.
        using (var stream = await host.Http.GetStreamAsync(new Uri("api/stream", UriKind.Relative)))
        using (var reader = new StreamReader(stream))
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            var ticks = 0;
            while (ticks < 2 && await reader.ReadLineAsync(cts.Token) is { } line)
            {
                ticks += line == "event: tick" ? 1 : 0;
            }

            Assert.Equal(2, ticks);
        }

        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(60), async () => (await ChairAlarms(host, "chair-1")).Contains("feed.lost"));
        Assert.DoesNotContain(await ChairAlarms(host, "gateway"), r => r.StartsWith("gateway.loop.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StoreLocked_SustainedLowHeartRate_AlarmReachesDashboardAndMqttSinkWithoutWaitingForTheDisk()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        var pipeline = host.App.Services.GetRequiredService<ObservationPipeline>();
        var sinkGotIt = new TaskCompletionSource<DateTime>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.App.Services.GetRequiredService<AlarmService>().AddSink((e, _) =>
        {
            if (e.Chair == "chair-1" && e.Rule == "hr.low")
            {
                sinkGotIt.TrySetResult(DateTime.UtcNow);
            }

            return ValueTask.CompletedTask;
        });
        using var stream = await Alarms.SseReader.OpenAsync(host.Http);
        var storedBefore = await StoredAsync(host);

        // The slowest disk there is: one that does not write at all (every append waits 5 s, then fails and is retried).
        using var other = new SqliteConnection($"Data Source={Path.Combine(host.DataDir, "vitals.db")};Pooling=False");
        other.Open();
        using (var begin = other.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE;";
            begin.ExecuteNonQuery();
        }

        // HR 30 every 0.5 s: below the high limit (40) for longer than the 10 s condition delay.
        var firstLow = DateTime.UtcNow;
        using var sending = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            while (!sending.IsCancellationRequested)
            {
                var now = DateTimeOffset.UtcNow;
                await pipeline.Writer.WriteAsync(new Observation("test-site", "chair-1", "sim-1", Sign.Hr, 30, now, now, SourceProtocol.Simulator));
                await Task.Delay(500);
            }
        });

        JsonElement alarm;
        do
        {
            alarm = await stream.NextAsync("alarm", TimeSpan.FromSeconds(60));
        }
        while (alarm.GetProperty("rule").GetString() != "hr.low");
        var onDashboard = DateTime.UtcNow;
        await sending.CancelAsync();
        await sender;

        // Judged, shown and handed to MQTT while not one of those readings could reach the disk.
        Assert.Equal("high", alarm.GetProperty("priority").GetString());
        Assert.Equal(storedBefore, await StoredAsync(host));
        var toSink = await sinkGotIt.Task.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"store locked: hr.low on the dashboard {(onDashboard - firstLow).TotalSeconds - 10:0.00} s after the 10 s condition delay, at the MQTT sink {(toSink - firstLow).TotalSeconds - 10:0.00} s");

        using var commit = other.CreateCommand();
        commit.CommandText = "COMMIT;";
        commit.ExecuteNonQuery();
    }

    [Fact]
    public async Task StoreLockedUntilTheMemoryHoldIsFull_LowHeartRateStillAlarmed_ExtraReadingsCountedNotRecorded_HeldOnesStoredOnce()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        var pipeline = host.App.Services.GetRequiredService<ObservationPipeline>();
        var writer = host.App.Services.GetRequiredService<StoreWriter>();
        using var stream = await Alarms.SseReader.OpenAsync(host.Http);
        var sent = 0;
        async Task SendAsync(int count, double hr)
        {
            for (var end = sent + count; sent < end; sent++)
            {
                var now = DateTimeOffset.UtcNow;
                await pipeline.Writer.WriteAsync(new Observation("test-site", "chair-1", "sim-1", Sign.Hr, hr, now, now, SourceProtocol.Simulator));
            }
        }

        // A disk that stays unwritable (another process holds the lock) while more readings arrive than memory holds.
        using var other = new SqliteConnection($"Data Source={Path.Combine(host.DataDir, "vitals.db")};Pooling=False");
        other.Open();
        using (var begin = other.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE;";
            begin.ExecuteNonQuery();
        }

        await SendAsync(1, 70);
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(60), () => Task.FromResult(writer.Failure is not null));
        await SendAsync(StoreWriter.ObservationCapacity + StoreWriter.MaxBatch, 70).WaitAsync(TimeSpan.FromMinutes(3)); // fails, not hangs, if feeds wait
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(60), () => Task.FromResult(writer.NotRecorded > 0));

        // The old writer made every feed wait here, so no reading after this point was judged: hr.low never came.
        using var sending = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            while (!sending.IsCancellationRequested)
            {
                await SendAsync(1, 30);
                await Task.Delay(500);
            }
        });
        JsonElement alarm;
        do
        {
            alarm = await stream.NextAsync("alarm", TimeSpan.FromSeconds(60));
        }
        while (alarm.GetProperty("rule").GetString() != "hr.low");
        await sending.CancelAsync();
        await sender.WaitAsync(TimeSpan.FromMinutes(1));

        // The clinic is told: a high technical alarm, and the status counts what was not recorded.
        JsonElement? full = null;
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(60), async () => (full = await GatewayAlarm(host, "gateway.store.full")) is not null);
        Assert.Equal("high", full!.Value.GetProperty("priority").GetString());
        Assert.Contains("not recorded", full.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
        using (var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative))))
        {
            var storage = status.RootElement.GetProperty("storage");
            Assert.True(storage.GetProperty("notRecording").GetBoolean());
            Assert.Equal(writer.NotRecorded, storage.GetProperty("notRecorded").GetInt64());
        }

        using (var commit = other.CreateCommand())
        {
            commit.CommandText = "COMMIT;";
            commit.ExecuteNonQuery();
        }

        // What memory held is written, each reading once; the rest is missing from the history, as counted.
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(120), async () => await StoredAsync(host) + writer.NotRecorded == sent);
        output.WriteLine($"{sent} readings sent, {writer.NotRecorded} not recorded, {await StoredAsync(host)} stored");
        Assert.True(writer.NotRecorded >= StoreWriter.MaxBatch - ObservationPipeline.MaxBatch, $"only {writer.NotRecorded} not recorded");
        await GatewayHost.WaitUntil(TimeSpan.FromSeconds(60), async () => await GatewayAlarm(host, "gateway.store.full") is null);
    }

    private static async Task<List<string>> ChairAlarms(GatewayHost host, string chair)
    {
        using var doc = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/alarms", UriKind.Relative)));
        return [.. doc.RootElement.EnumerateArray().Where(a => a.GetProperty("chair").GetString() == chair).Select(a => a.GetProperty("rule").GetString()!)];
    }

    internal static async Task<long> StoredAsync(GatewayHost host)
    {
        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        return status.RootElement.GetProperty("stored").GetInt64();
    }
}
