using System.Text;
using Vitals.Core;
using Vitals.Storage.Influx;

namespace Vitals.Storage.Tests.Influx;

/// <summary>One influxd shared by the tests of this collection; each test uses its own database.</summary>
public sealed class InfluxdFixture : IDisposable
{
    public InfluxdServer Server { get; } = new();

    public void Dispose() => Server.Dispose();
}

[CollectionDefinition("influxd")]
public sealed class InfluxdCollection : ICollectionFixture<InfluxdFixture>;

internal static class ForwarderHarness
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);

    public static InfluxForwarderOptions FastOptions(int batchSize = 500) => new()
    {
        BatchSize = batchSize,
        FlushInterval = TimeSpan.FromMilliseconds(20),
        RetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryDelay = TimeSpan.FromMilliseconds(400),
        BreakerSamplingDuration = TimeSpan.FromMilliseconds(500),
        BreakDuration = TimeSpan.FromMilliseconds(500),
    };

    public static InfluxWriteClient Client(string url, HttpClient http, string? user = null, string? password = null) =>
        new(InfluxEndpoint.Parse(url, _ => null, user, password), http, requestTimeout: TimeSpan.FromSeconds(3));

    /// <summary>Frames of three signs (hr, spo2, pr) per chair, one per second per chair.</summary>
    public static IEnumerable<Observation> Frames(int chairs, int fromFrame, int toFrame)
    {
        for (var f = fromFrame; f < toFrame; f++)
        {
            for (var c = 0; c < chairs; c++)
            {
                var at = T0.AddSeconds(f).AddMilliseconds(c);
                var chair = "c" + c.ToString(System.Globalization.CultureInfo.InvariantCulture);
                yield return new Observation("north", chair, "dev" + chair, Sign.Hr, 60 + (f % 40), at, at, SourceProtocol.Simulator);
                yield return new Observation("north", chair, "dev" + chair, Sign.Spo2, 90 + (f % 10), at, at, SourceProtocol.Simulator);
                yield return new Observation("north", chair, "dev" + chair, Sign.Pr, 61 + (f % 40), at, at, SourceProtocol.Simulator);
            }
        }
    }

    /// <summary>The old name of <see cref="Eventually.TrueAsync(Func{bool}, string, TimeSpan?, CancellationToken)"/>, kept for callers on branches in flight.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) => Eventually.TrueAsync(condition, what, timeout);
}

[Collection("influxd")]
public sealed class InfluxdIntegrationTests(InfluxdFixture fixture)
{
    private readonly InfluxdServer _server = fixture.Server;

    [Fact]
    public async Task Forwarder_ObservationsAlarmsAndFeedStatus_ReadBackWithExactCounts()
    {
        await _server.CreateDatabaseAsync("roundtrip");
        var outbox = new InMemoryOutbox();
        outbox.AddRange(ForwarderHarness.Frames(chairs: 4, 0, 500)); // 2000 points, 6000 observations
        outbox.Add(new AlarmEvent("north", "c1", "hr.high", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, AlarmState.Raised, 130, 120, "HR high", ForwarderHarness.T0));
        outbox.Add(new AlarmEvent("north", "c1", "hr.high", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, AlarmState.Acknowledged, 130, 120, "HR high", ForwarderHarness.T0.AddSeconds(5), "ann"));
        outbox.Add(new FeedStatusSample("north", "c1", "devc1", true, 500, 2, ForwarderHarness.T0));
        using var http = new HttpClient();
        using var forwarder = new InfluxForwarder(outbox, ForwarderHarness.Client(_server.Url("roundtrip"), http), ForwarderHarness.FastOptions(batchSize: 1000));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = forwarder.RunAsync(cts.Token);

        await Eventually.TrueAsync(() => outbox.Cursor == outbox.Head, "the outbox to drain");
        await cts.CancelAsync();
        await run;

        Assert.Equal(2000, await _server.ScalarAsync("roundtrip", "SELECT count(hr) FROM vitals"));
        Assert.Equal(2000, await _server.ScalarAsync("roundtrip", "SELECT count(spo2) FROM vitals"));
        Assert.Equal(500, await _server.ScalarAsync("roundtrip", "SELECT count(pr) FROM vitals WHERE chair = 'c3'"));
        Assert.Equal(2, await _server.ScalarAsync("roundtrip", "SELECT count(state) FROM alarms WHERE priority = 'high' AND kind = 'physiological' AND rule = 'hr.high'"));
        Assert.Equal(1, await _server.ScalarAsync("roundtrip", "SELECT count(frames_ok) FROM feed_status WHERE device = 'devc1'"));
        var health = forwarder.Health;
        Assert.Equal(0, health.LagPoints);
        Assert.Equal(2003, health.RowsForwarded); // a row per frame, alarm and feed status
        Assert.Equal(2003, health.LinesWritten); // and a line per row
        Assert.Equal(0, health.QuarantinedLines);
        Assert.Equal("closed", health.CircuitState);
        Assert.NotNull(health.LastSuccessAt);
    }

    [Fact]
    public async Task WriteAsync_SpecialCharacters_RoundTripExactly()
    {
        await _server.CreateDatabaseAsync("escaping");
        const string chair = "Chair 7, \"east\"=window";
        const string message = "SpO2 \"low\" \\ check probe, now=soon";
        using var writer = new LineProtocolWriter();
        InfluxSchema.WriteAlarm(writer, new AlarmEvent("site ä", chair, "spo2.low", Sign.Spo2, AlarmPriority.Medium, AlarmKind.Physiological, AlarmState.Raised, 85, 90, message, ForwarderHarness.T0));
        using var http = new HttpClient();
        var result = await ForwarderHarness.Client(_server.Url("escaping"), http).WriteAsync(writer.Written, CancellationToken.None);
        Assert.True(result.IsSuccess, result.Message);

        var rows = await _server.RowsAsync("escaping", "SELECT * FROM alarms");
        var row = Assert.Single(rows);
        Assert.Equal(chair, row["chair"].GetString());
        Assert.Equal("site ä", row["site"].GetString());
        Assert.Equal(message, row["message"].GetString());
        Assert.Equal(85, row["value"].GetDouble());
        Assert.Equal("2026-11-20T08:00:00Z", row["time"].GetString());
    }

    [Fact]
    public async Task WriteAsync_BadSyntaxLines_PartialWriteNamesThemAndGoodLinesLand()
    {
        await _server.CreateDatabaseAsync("syntax");
        string[] lines = ["vitals,chair=c1 hr=70 1763625600000", "vitals,chair=c1 hr= 1763625600001", "vitals,chair=c1 hr=72 1763625600002", "this is not line protocol", "vitals,chair=c1 hr=73 1763625600004"];
        using var http = new HttpClient();
        var client = ForwarderHarness.Client(_server.Url("syntax"), http);
        var result = await client.WriteAsync(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"), CancellationToken.None);

        Assert.Equal(InfluxWriteStatus.PartialWrite, result.Status);
        Assert.Equal(400, result.HttpStatus);
        var analysis = PartialWriteAnalyzer.Analyze(result.ServerError!, lines);
        Assert.True(analysis.Complete);
        Assert.Equal([1, 3], analysis.BadLines);
        Assert.Equal(3, await _server.ScalarAsync("syntax", "SELECT count(hr) FROM vitals"));
    }

    [Fact]
    public async Task Forwarder_TypeConflictPoison_QuarantinesOnlyBadLinesAndGoodLinesLand()
    {
        await _server.CreateDatabaseAsync("poison");
        using var http = new HttpClient();
        var client = ForwarderHarness.Client(_server.Url("poison"), http);
        // Seed alarms.value and alarms.limit as strings: every float value/limit we send later conflicts.
        var seedMs = ForwarderHarness.T0.AddHours(-1).ToUnixTimeMilliseconds();
        var seed = await client.WriteAsync(Encoding.UTF8.GetBytes($"alarms,chair=seed value=\"x\",limit=\"y\",state=\"raised\" {seedMs}\n"), CancellationToken.None);
        Assert.True(seed.IsSuccess, seed.Message);

        var outbox = new InMemoryOutbox();
        outbox.AddRange(ForwarderHarness.Frames(chairs: 2, 0, 100)); // 200 vitals points
        for (var i = 0; i < 5; i++)
        {
            outbox.Add(new AlarmEvent("north", "c0", "hr.high", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, AlarmState.Raised, 130 + i, null, "value only", ForwarderHarness.T0.AddSeconds(i)));
        }

        for (var i = 0; i < 4; i++)
        {
            outbox.Add(new AlarmEvent("north", "c1", "hr.low", Sign.Hr, AlarmPriority.High, AlarmKind.Physiological, AlarmState.Raised, null, 40, "limit only", ForwarderHarness.T0.AddSeconds(i)));
        }

        for (var i = 0; i < 3; i++)
        {
            outbox.Add(new AlarmEvent("north", "c1", "feed.lost", null, AlarmPriority.Medium, AlarmKind.Technical, AlarmState.Cleared, null, null, "clean", ForwarderHarness.T0.AddSeconds(i)));
        }

        outbox.AddRange(ForwarderHarness.Frames(chairs: 2, 100, 150)); // 100 more vitals points after the poison
        using var forwarder = new InfluxForwarder(outbox, client, ForwarderHarness.FastOptions(batchSize: 5000));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = forwarder.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => outbox.Cursor == outbox.Head, "the outbox to drain");
        await cts.CancelAsync();
        await run;

        Assert.Equal(300, await _server.ScalarAsync("poison", "SELECT count(hr) FROM vitals"));
        Assert.Equal(3, await _server.ScalarAsync("poison", "SELECT count(state) FROM alarms WHERE rule = 'feed.lost'"));
        var quarantined = outbox.Quarantined;
        Assert.Equal(9, quarantined.Count);
        Assert.All(quarantined, q => Assert.StartsWith("alarms,chair=c", q.Line, StringComparison.Ordinal));
        Assert.All(quarantined, q => Assert.Contains("field type conflict", q.ServerError, StringComparison.Ordinal));
        Assert.Equal(5, quarantined.Count(q => q.Line.Contains("value=", StringComparison.Ordinal)));
        Assert.Equal(4, quarantined.Count(q => q.Line.Contains("limit=", StringComparison.Ordinal)));
        Assert.Equal(9, forwarder.Health.QuarantinedLines);
    }

    [Fact]
    public async Task WriteAsync_FloatFormats_ParsedAsFloatsByInfluxd()
    {
        await _server.CreateDatabaseAsync("floats");
        double[] values = [72, 36.6, 1e20, 1.5e-7, -0.0, 0.1 + 0.2, 5e-324, double.MaxValue];
        using var writer = new LineProtocolWriter();
        for (var i = 0; i < values.Length; i++)
        {
            writer.BeginPoint("m").Field("v", values[i]).EndPoint(1_763_625_600_000 + i);
        }

        using var http = new HttpClient();
        var result = await ForwarderHarness.Client(_server.Url("floats"), http).WriteAsync(writer.Written, CancellationToken.None);
        Assert.True(result.IsSuccess, result.Message);
        var rows = await _server.RowsAsync("floats", "SELECT v FROM m");
        Assert.Equal(values, rows.Select(r => r["v"].GetDouble()));
    }

    [Fact]
    public async Task WriteAsync_UnknownDatabase_ClearNotFoundError()
    {
        using var http = new HttpClient();
        var result = await ForwarderHarness.Client(_server.Url("missing_db"), http).WriteAsync("m f=1 1\n"u8.ToArray(), CancellationToken.None);
        Assert.Equal(InfluxWriteStatus.NotFound, result.Status);
        Assert.Contains("database 'missing_db'", result.Message, StringComparison.Ordinal);
        Assert.Contains("CREATE DATABASE", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_NoGzip_AlsoAccepted()
    {
        await _server.CreateDatabaseAsync("plain");
        using var http = new HttpClient();
        var endpoint = InfluxEndpoint.Parse(_server.Url("plain"), _ => null);
        var client = new InfluxWriteClient(endpoint, http, gzip: false);
        var result = await client.WriteAsync("m f=1 1763625600000\nm f=2 1763625600001\n"u8.ToArray(), CancellationToken.None);
        Assert.True(result.IsSuccess, result.Message);
        Assert.Equal(2, await _server.ScalarAsync("plain", "SELECT count(f) FROM m"));
    }
}
