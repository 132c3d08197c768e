using System.Globalization;
using System.Net;
using System.Text;
using Vitals.Mqtt.Tests.Broker;
using Vitals.Storage.Tests.Influx;

namespace Vitals.Central.Tests;

/// <summary>Trends on central's chair page come from the InfluxDB every site forwards to, separated by the site tag.</summary>
public sealed class CentralHistoryTests
{
    [Fact]
    public async Task History_FromSharedInfluxDb_OneSitesChairOnly()
    {
        using var influx = new InfluxdServer();
        influx.Start();
        await influx.CreateDatabaseAsync("vitals");

        // Two sites with the same chair id, as their gateways forward them (InfluxDB schema in DESIGN.md).
        var now = DateTimeOffset.UtcNow;
        var lines = new StringBuilder();
        for (var i = 0; i < 60; i++)
        {
            var at = (now - TimeSpan.FromSeconds(600 - (i * 10))).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            lines.Append("vitals,site=north,chair=c1,device=sim-1 hr=70,spo2=98,nibp_sys=120 ").Append(at).Append('\n');
            lines.Append("vitals,site=south,chair=c1,device=sim-1 hr=120,spo2=91 ").Append(at).Append('\n');
        }

        using var http = new HttpClient();
        using var write = await http.PostAsync(new Uri(influx.BaseUri, "write?db=vitals&precision=ms"), new StringContent(lines.ToString()));
        Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);

        await using var broker = await MosquittoBroker.StartAsync();
        await using var central = await CentralHost.StartAsync(broker.Port, influx: influx.Url("vitals"));

        var north = await central.GetJsonAsync("api/sites/north/chairs/c1/history?minutes=30");
        var south = await central.GetJsonAsync("api/sites/south/chairs/c1/history?minutes=120");

        Assert.Equal((30, 5), (north.GetProperty("minutes").GetInt32(), north.GetProperty("bucketSeconds").GetInt32()));
        var northPoints = north.GetProperty("points").EnumerateArray().ToList();
        Assert.InRange(northPoints.Count, 55, 61);
        Assert.All(northPoints, p => Assert.Equal((70.0, 98.0, 120.0), (p.GetProperty("hr").GetDouble(), p.GetProperty("spo2").GetDouble(), p.GetProperty("nibpSys").GetDouble())));
        var southPoints = south.GetProperty("points").EnumerateArray().ToList();
        Assert.NotEmpty(southPoints);
        Assert.All(southPoints, p => Assert.Equal((120.0, 91.0), (p.GetProperty("hr").GetDouble(), p.GetProperty("spo2").GetDouble())));
        Assert.All(southPoints, p => Assert.False(p.TryGetProperty("nibpSys", out _))); // no NIBP at south: omitted
        Assert.Empty((await central.GetJsonAsync("api/sites/east/chairs/c1/history?minutes=480")).GetProperty("points").EnumerateArray());

        using var badWindow = await central.Http.GetAsync(new Uri("api/sites/north/chairs/c1/history?minutes=45", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, badWindow.StatusCode);
        Assert.Contains("minutes: 45", await badWindow.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        influx.Kill();
        using var down = await central.Http.GetAsync(new Uri("api/sites/north/chairs/c1/history?minutes=30", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        Assert.Contains("not reachable", await down.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_WithoutInflux_SaysLiveValuesOnly()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var central = await CentralHost.StartAsync(broker.Port);

        using var response = await central.Http.GetAsync(new Uri("api/sites/north/chairs/c1/history", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Live values only", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await central.GetJsonAsync("api/info")).GetProperty("history").GetBoolean());
    }
}
