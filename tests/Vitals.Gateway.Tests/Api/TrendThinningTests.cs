using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vitals.Core;
using Vitals.Gateway.Api;
using Vitals.Storage.Sqlite;

namespace Vitals.Gateway.Tests.Api;

public class TrendThinningTests(ApiFixture f) : IClassFixture<ApiFixture>
{
    private static readonly DateTimeOffset Start = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>8 h of HR at 1 Hz, steady at 70 with a 1 s fall to 30 and a 1 s spike to 160; SpO2 every 10 min.</summary>
    private static List<Observation> EightHours(string chair)
    {
        var list = new List<Observation>();
        for (int s = 0; s < 8 * 3600; s++)
        {
            var at = Start.AddSeconds(s);
            double hr = s switch { 10_001 => 30, 20_017 => 160, _ => 70 + (s % 7) };
            list.Add(new Observation("t", chair, "d", Sign.Hr, hr, at, at, SourceProtocol.Simulator));
            if (s % 600 == 0)
            {
                list.Add(new Observation("t", chair, "d", Sign.Spo2, 97, at, at, SourceProtocol.Simulator));
            }
        }

        return list;
    }

    [Fact]
    public void MinMax_EightHoursAt1Hz_AtMostThePointsPerSign_KeepsTheFallAndTheSpike()
    {
        var readings = EightHours("c");

        var thinned = TrendThinning.MinMax(readings, Start, Start.AddHours(8), 1200);

        var hr = thinned.Where(o => o.Sign == Sign.Hr).ToList();
        Assert.InRange(hr.Count, 600, 1200);
        Assert.Contains(hr, o => o.Value == 30 && o.MeasuredAt == Start.AddSeconds(10_001));
        Assert.Contains(hr, o => o.Value == 160 && o.MeasuredAt == Start.AddSeconds(20_017));
        Assert.Equal(70, hr.Where(o => o.Value != 30 && o.Value != 160).Min(o => o.Value)); // every slice's low kept
        Assert.Equal(48, thinned.Count(o => o.Sign == Sign.Spo2)); // a sparse sign is returned whole
        Assert.Equal(thinned.OrderBy(o => o.MeasuredAt).Select(o => o.MeasuredAt), thinned.Select(o => o.MeasuredAt));
    }

    [Fact]
    public async Task History_Points_ThinsServerSideKeepingTheFall_WithoutPointsEveryReading()
    {
        const string chair = "chair-2";
        f.Host.App.Services.GetRequiredService<SqliteStore>().Append(EightHours(chair));
        string window = $"from={Uri.EscapeDataString(Start.ToString("O"))}&to={Uri.EscapeDataString(Start.AddHours(8).ToString("O"))}";

        using var thinned = JsonDocument.Parse(await f.Viewer.GetStringAsync(new Uri($"api/chairs/{chair}/history?{window}&points=400", UriKind.Relative)));
        var hr = thinned.RootElement.EnumerateArray().Where(o => o.GetProperty("sign").GetString() == "hr").Select(o => o.GetProperty("value").GetDouble()).ToList();
        Assert.InRange(hr.Count, 200, 400);
        Assert.Contains(30, hr);
        Assert.Contains(160, hr);

        using var full = JsonDocument.Parse(await f.Viewer.GetStringAsync(new Uri($"api/chairs/{chair}/history?{window}", UriKind.Relative)));
        Assert.Equal(8 * 3600, full.RootElement.EnumerateArray().Count(o => o.GetProperty("sign").GetString() == "hr"));

        using var bad = await f.Viewer.GetAsync(new Uri($"api/chairs/{chair}/history?{window}&points=1", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("points", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
