using Vitals.Core;
using Vitals.Storage.Influx;

namespace Vitals.Storage.Tests.Influx;

/// <summary>An outbox whose commits fail on demand: the write reached InfluxDB but the cursor did not move, as after a crash.</summary>
internal sealed class FlakyCommitOutbox(InMemoryOutbox inner, int failCommits) : IOutbox
{
    private int _remaining = failCommits;

    public int CommitCalls { get; private set; }

    public ValueTask<long> GetCursorAsync(CancellationToken cancellationToken) => inner.GetCursorAsync(cancellationToken);

    public ValueTask<OutboxBatch> ReadAfterAsync(long cursor, int max, CancellationToken cancellationToken) => inner.ReadAfterAsync(cursor, max, cancellationToken);

    public ValueTask CommitAsync(long cursor, CancellationToken cancellationToken)
    {
        CommitCalls++;
        if (Interlocked.Decrement(ref _remaining) >= 0)
        {
            throw new IOException("disk full (simulated)");
        }

        return inner.CommitAsync(cursor, cancellationToken);
    }

    public ValueTask QuarantineAsync(IReadOnlyList<string> lines, string serverError, CancellationToken cancellationToken) =>
        inner.QuarantineAsync(lines, serverError, cancellationToken);
}

[Collection("influxd")]
public sealed class InfluxForwarderRedeliveryTests(InfluxdFixture fixture)
{
    private readonly InfluxdServer _server = fixture.Server;

    [Fact]
    public async Task Forwarder_CommitLostAfterWrite_RedeliveryStoresEachPointOnce()
    {
        await _server.CreateDatabaseAsync("redelivery");
        var inner = new InMemoryOutbox();
        inner.AddRange(ForwarderHarness.Frames(chairs: 5, 0, 200)); // 1000 points
        inner.Add(new AlarmEvent("north", "c1", "hr.low", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, AlarmState.Raised, 38, 40, "HR low", ForwarderHarness.T0));
        var outbox = new FlakyCommitOutbox(inner, failCommits: 3);
        using var http = new HttpClient();
        using var forwarder = new InfluxForwarder(outbox, ForwarderHarness.Client(_server.Url("redelivery"), http), ForwarderHarness.FastOptions(batchSize: 600));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = forwarder.RunAsync(cts.Token);
        await ForwarderHarness.WaitUntilAsync(() => inner.Cursor == inner.Head, TimeSpan.FromSeconds(20), "the outbox to drain");
        await cts.CancelAsync();
        await run;

        Assert.True(outbox.CommitCalls > 3, "batches were re-delivered after failed commits");
        Assert.True(forwarder.Health.LinesWritten >= 1001);
        Assert.Equal(1000, await _server.ScalarAsync("redelivery", "SELECT count(hr) FROM vitals"));
        Assert.Equal(1000, await _server.ScalarAsync("redelivery", "SELECT count(pr) FROM vitals"));
        Assert.Equal(1, await _server.ScalarAsync("redelivery", "SELECT count(state) FROM alarms"));
        Assert.Contains("disk full", forwarder.Health.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromUrl_V1Url_ForwardsWithCredentialsFromEnvironment()
    {
        // A server that requires auth: the delivery below succeeds only if the forwarder sends the environment's credentials.
        using var server = new InfluxdServer(authEnabled: true);
        using (await server.QueryAsync("CREATE USER gw WITH PASSWORD 'pw' WITH ALL PRIVILEGES"))
        {
        }

        await server.CreateDatabaseAsync("fromurl", "gw", "pw");
        using var http = new HttpClient();
        var withoutCredentials = await ForwarderHarness.Client(server.Url("fromurl"), http).WriteAsync("feed_status,chair=c0 connected=true 1763625600000\n"u8.ToArray(), CancellationToken.None);
        Assert.Equal(InfluxWriteStatus.Unauthorized, withoutCredentials.Status);

        var outbox = new InMemoryOutbox();
        outbox.Add(new FeedStatusSample("north", "c2", "d2", false, 10, 1, ForwarderHarness.T0));
        using var forwarder = InfluxForwarder.FromUrl(server.Url("fromurl"), outbox, http, ForwarderHarness.FastOptions(),
            environment: key => key switch { InfluxEndpoint.UsernameVariable => "gw", InfluxEndpoint.PasswordVariable => "pw", _ => null });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = forwarder.RunAsync(cts.Token);
        await ForwarderHarness.WaitUntilAsync(() => outbox.Cursor == outbox.Head, TimeSpan.FromSeconds(10), "delivery");
        await cts.CancelAsync();
        await run;

        Assert.Null(forwarder.Health.LastError);
        using var rows = await server.QueryAsync("SELECT count(frames_ok) FROM feed_status WHERE connected = false", "fromurl", "gw", "pw");
        Assert.Equal(1, rows.RootElement.GetProperty("results")[0].GetProperty("series")[0].GetProperty("values")[0][1].GetInt64());
    }
}
