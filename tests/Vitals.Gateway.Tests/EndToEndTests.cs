using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Vitals.Gateway.Tests;

public class EndToEndTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task Stream_HypotensionChair_CarriesNibpLowAlarm()
    {
        // 60x scenario speed and a 20 ms monitor second: the 30-minute course plays in about half a second of wall time.
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("hypotension", 60), Fast);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var stream = await host.Http.GetStreamAsync(new Uri("api/stream", UriKind.Relative), cts.Token);

        var types = new List<string>();
        JsonElement? alarm = null;
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cts.Token))
        {
            types.Add(item.EventType);

            // At 60x the cuff alarm may be raised before the stream connects (the snapshot then carries it) and, no
            // longer flapping between readings near the limit, is not raised again: take it from either.
            var found = item.EventType switch
            {
                "alarm" => [JsonDocument.Parse(item.Data).RootElement],
                "snapshot" => JsonDocument.Parse(item.Data).RootElement.GetProperty("chairs").EnumerateArray().SelectMany(c => c.GetProperty("alarms").EnumerateArray()).ToList(),
                _ => [],
            };
            foreach (var e in found.Where(e => e.GetProperty("rule").GetString() == "nibp_sys.low" && e.GetProperty("state").GetString() != "cleared"))
            {
                alarm ??= e;
            }

            if (alarm is not null && types.Contains("obs"))
            {
                break;
            }
        }

        Assert.Equal("snapshot", types[0]);
        Assert.Contains("obs", types);
        Assert.NotNull(alarm);
        var a = alarm.Value;
        Assert.Equal("chair-1", a.GetProperty("chair").GetString());
        Assert.Contains(a.GetProperty("state").GetString(), new[] { "raised", "escalated" });
        Assert.Contains(a.GetProperty("priority").GetString(), new[] { "medium", "high" });
        Assert.Equal("nibp_sys", a.GetProperty("sign").GetString());
        Assert.True(a.GetProperty("value").GetDouble() < 90);
        Assert.Equal(90, a.GetProperty("limit").GetDouble());
    }

    [Fact]
    public async Task Api_AfterReadings_ServesLiveValuesHistoryAndAlarmLog()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("bradycardia", 60), Fast);
        await Eventually.TrueAsync(async () => (await host.Http.GetStringAsync(new Uri("api/events?type=alarm", UriKind.Relative))).Contains("hr.low", StringComparison.Ordinal), "an hr.low event in the log");

        using var chairs = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/chairs", UriKind.Relative)));
        var chair = chairs.RootElement[0];
        Assert.Equal("Chair 1", chair.GetProperty("name").GetString());
        Assert.True(chair.GetProperty("values").GetProperty("hr").GetProperty("value").GetDouble() > 0);
        Assert.Equal("simulator", chair.GetProperty("feeds")[0].GetProperty("kind").GetString());

        using var history = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/chairs/chair-1/history?minutes=5", UriKind.Relative)));
        Assert.Contains(history.RootElement.EnumerateArray(), o => o.GetProperty("sign").GetString() == "spo2");

        var missing = await host.Http.GetAsync(new Uri("api/chairs/nope/history", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var bad = await host.Http.GetAsync(new Uri("api/chairs/chair-1/history?minutes=100000", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Restart_SameDataDirectory_KeepsHistory()
    {
        var dir = Directory.CreateTempSubdirectory("vitals-restart-").FullName;
        long before;
        await using (var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), Fast, dir))
        {
            await Eventually.TrueAsync(async () => await Stored(host) > 200, "over 200 stored readings");
        }

        using (var store = new Vitals.Storage.Sqlite.SqliteStore(Path.Combine(dir, "vitals.db")))
        {
            before = store.CountObservations();
        }

        SqliteConnection.ClearAllPools();
        await using (var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1), dir))
        {
            using var history = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/chairs/chair-1/history?minutes=60", UriKind.Relative)));
            Assert.Equal(before, history.RootElement.GetArrayLength());
        }

        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Dashboard_IndexAndChartLibrary_AreServedWithSafetyNotice()
    {
        await using var host = await GatewayHost.StartAsync(GatewayHost.OneChair("stable", 1), TimeSpan.FromHours(1));
        var html = await host.Http.GetStringAsync(new Uri("/", UriKind.Relative));
        Assert.Contains("bedside monitor's own alarms remain primary", html, StringComparison.Ordinal);
        Assert.Contains("lib/uplot/uPlot.iife.min.js", html, StringComparison.Ordinal);
        var lib = await host.Http.GetAsync(new Uri("lib/uplot/uPlot.iife.min.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, lib.StatusCode);
        Assert.True((await lib.Content.ReadAsByteArrayAsync()).Length > 20_000);
    }

    private static async Task<long> Stored(GatewayHost host)
    {
        using var status = JsonDocument.Parse(await host.Http.GetStringAsync(new Uri("api/status", UriKind.Relative)));
        return status.RootElement.GetProperty("stored").GetInt64();
    }
}
