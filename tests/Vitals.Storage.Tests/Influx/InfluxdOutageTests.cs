using Vitals.Storage.Influx;

namespace Vitals.Storage.Tests.Influx;

/// <summary>Tests that own their influxd because they kill it or enable auth.</summary>
public sealed class InfluxdOutageTests
{
    [Fact]
    public async Task Forwarder_InfluxdKilledMidRunAndRestarted_EveryPointArrivesExactlyOnce()
    {
        using var server = new InfluxdServer();
        await server.CreateDatabaseAsync("outage");
        var outbox = new InMemoryOutbox();
        using var http = new HttpClient();
        using var forwarder = new InfluxForwarder(outbox, ForwarderHarness.Client(server.Url("outage"), http), ForwarderHarness.FastOptions(batchSize: 300));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        var run = forwarder.RunAsync(cts.Token);

        const int Chairs = 10;
        const int Frames = 300; // 3000 points of 3 observations each
        var producer = Task.Run(async () =>
        {
            for (var f = 0; f < Frames; f += 5)
            {
                outbox.AddRange(ForwarderHarness.Frames(Chairs, f, f + 5));
                await Task.Delay(10, cts.Token);
            }
        });

        await Eventually.TrueAsync(() => outbox.Cursor > 0, "a first delivery");
        server.Kill();
        var cursorAtKill = outbox.Cursor;
        await Eventually.TrueAsync(() => forwarder.Health.LastError is not null, "the forwarder to notice the outage");
        await Task.Delay(700);
        Assert.True(outbox.Cursor < Chairs * Frames * 3, "the outage must happen mid-run");
        Assert.True(forwarder.Health.LagPoints > 0);
        server.Start();
        await producer;
        await Eventually.TrueAsync(() => outbox.Cursor == outbox.Head, "the backlog to drain after restart");
        await cts.CancelAsync();
        await run;

        Assert.True(cursorAtKill < outbox.Head);
        Assert.Equal(Chairs * Frames, await server.ScalarAsync("outage", "SELECT count(hr) FROM vitals"));
        Assert.Equal(Chairs * Frames, await server.ScalarAsync("outage", "SELECT count(spo2) FROM vitals"));
        var perChair = await server.RowsAsync("outage", "SELECT count(pr) FROM vitals GROUP BY chair");
        Assert.Equal(Chairs, perChair.Count);
        Assert.All(perChair, r => Assert.Equal(Frames, r["count"].GetInt64()));
        Assert.Empty(outbox.Quarantined);
        Assert.Equal(0, forwarder.Health.LagPoints);
    }

    [Fact]
    public async Task WriteAsync_WrongCredentials_ClearAuthErrorWithoutSecrets()
    {
        using var server = new InfluxdServer(authEnabled: true);
        using (await server.QueryAsync("CREATE USER admin WITH PASSWORD 'right-pass' WITH ALL PRIVILEGES"))
        {
        }

        await server.CreateDatabaseAsync("authdb", "admin", "right-pass");
        using var http = new HttpClient();
        var body = "vitals,chair=c1 hr=70 1763625600000\n"u8.ToArray();

        var wrong = await ForwarderHarness.Client(server.Url("authdb"), http, "admin", "wrong-pass").WriteAsync(body, CancellationToken.None);
        Assert.Equal(InfluxWriteStatus.Unauthorized, wrong.Status);
        Assert.Equal(401, wrong.HttpStatus);
        Assert.Equal("InfluxDB rejected the credentials for database 'authdb' (HTTP 401): check VITALS_INFLUX_USERNAME/VITALS_INFLUX_PASSWORD", wrong.Message);
        Assert.DoesNotContain("wrong-pass", wrong.Message, StringComparison.Ordinal);

        var none = await ForwarderHarness.Client(server.Url("authdb"), http).WriteAsync(body, CancellationToken.None);
        Assert.Equal(InfluxWriteStatus.Unauthorized, none.Status);
        Assert.Contains("requires credentials", none.Message, StringComparison.Ordinal);

        var right = await ForwarderHarness.Client(server.Url("authdb"), http, "admin", "right-pass").WriteAsync(body, CancellationToken.None);
        Assert.True(right.IsSuccess, right.Message);

        // The forwarder keeps the data and reports the clear error in its health.
        var outbox = new InMemoryOutbox();
        outbox.AddRange(ForwarderHarness.Frames(1, 0, 3));
        using var forwarder = new InfluxForwarder(outbox, ForwarderHarness.Client(server.Url("authdb"), http, "admin", "wrong-pass"), ForwarderHarness.FastOptions());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = forwarder.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => forwarder.Health.LastError is not null, "an auth error");
        await cts.CancelAsync();
        await run;
        Assert.StartsWith("InfluxDB rejected the credentials for database 'authdb' (HTTP 401)", forwarder.Health.LastError, StringComparison.Ordinal);
        Assert.Equal(0, outbox.Cursor);
        Assert.Equal(3, forwarder.Health.LagPoints); // 3 frames, a row (and a point) each
    }
}
