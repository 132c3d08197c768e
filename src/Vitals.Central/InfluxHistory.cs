using System.Globalization;
using System.Text;
using System.Text.Json;
using Vitals.Storage.Influx;

namespace Vitals.Central;

/// <summary>One trend point: bucket start (Unix ms) and the mean of each sign in it (null when none was measured).</summary>
public sealed record TrendPoint(long T, double? Hr, double? NibpSys, double? Spo2);

/// <summary>A chair's trend over <see cref="Minutes"/> from the shared InfluxDB, one point per <see cref="BucketSeconds"/>.</summary>
public sealed record TrendView(string Site, string Chair, int Minutes, int BucketSeconds, List<TrendPoint> Points);

/// <summary>Thrown when InfluxDB cannot answer a trend query; the message says why (never credentials).</summary>
public sealed class HistoryUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Trends from the InfluxDB the sites forward to (measurement <c>vitals</c>, tags <c>site</c> and <c>chair</c>), with
/// InfluxQL over <c>GET /query</c>: InfluxDB 1.x natively, 2.x through its 1.x-compatible query API (the bucket needs a
/// DBRP mapping, <c>influx v1 dbrp create</c>; auth by token).
/// </summary>
public sealed class InfluxHistory(InfluxEndpoint endpoint, HttpClient http)
{
    /// <summary>The windows the chair page offers: 30 min, 2 h, 8 h.</summary>
    public static readonly IReadOnlyList<int> WindowMinutes = [30, 120, 480];

    /// <summary>Points per window (the bucket length follows: 5 s for 30 min, 80 s for 8 h).</summary>
    public const int PointsPerWindow = 360;

    /// <summary>Mean HR, systolic NIBP and SpO2 per bucket over the last <paramref name="minutes"/> of one chair of one site.</summary>
    public async Task<TrendView> TrendAsync(string site, string chair, int minutes, CancellationToken ct)
    {
        var bucket = minutes * 60 / PointsPerWindow;
        var measurement = endpoint.Api == InfluxApiVersion.V1 && endpoint.RetentionPolicy is { } rp ? $"{Identifier(rp)}.\"vitals\"" : "\"vitals\"";
        var query = string.Create(
            CultureInfo.InvariantCulture,
            $"SELECT mean(\"hr\") AS hr, mean(\"nibp_sys\") AS nibp_sys, mean(\"spo2\") AS spo2 FROM {measurement} WHERE \"site\" = {Literal(site)} AND \"chair\" = {Literal(chair)} AND time > now() - {minutes}m GROUP BY time({bucket}s) fill(none)");
        var database = endpoint.Api == InfluxApiVersion.V1 ? endpoint.Database! : endpoint.Bucket!;
        var uri = new Uri(endpoint.BaseAddress, $"query?db={Uri.EscapeDataString(database)}&epoch=ms&q={Uri.EscapeDataString(query)}");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = endpoint.Authorization();
        try
        {
            using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HistoryUnavailableException($"InfluxDB answered {(int)response.StatusCode} for {endpoint.TargetDescription}: {Shorten(Encoding.UTF8.GetString(body))}");
            }

            return new TrendView(site, chair, minutes, bucket, Parse(body));
        }
        catch (HttpRequestException e)
        {
            throw new HistoryUnavailableException($"InfluxDB at {endpoint.BaseAddress} is not reachable: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new HistoryUnavailableException("InfluxDB answered something that is not a query result.", e);
        }
    }

    /// <summary>Reads <c>{"results":[{"series":[{"columns":[...],"values":[[t, ...]]}]}]}</c>; a result <c>error</c> throws.</summary>
    internal static List<TrendPoint> Parse(ReadOnlySpan<byte> body)
    {
        using var doc = JsonDocument.Parse(body.ToArray());
        var result = doc.RootElement.GetProperty("results")[0];
        if (result.TryGetProperty("error", out var error))
        {
            throw new HistoryUnavailableException($"InfluxDB refused the trend query: {Shorten(error.GetString() ?? "")}");
        }

        var points = new List<TrendPoint>();
        if (!result.TryGetProperty("series", out var series))
        {
            return points; // nothing stored for this chair in the window
        }

        var columns = series[0].GetProperty("columns").EnumerateArray().Select(c => c.GetString()).ToList();
        int hr = columns.IndexOf("hr"), sys = columns.IndexOf("nibp_sys"), spo2 = columns.IndexOf("spo2");
        foreach (var row in series[0].GetProperty("values").EnumerateArray())
        {
            points.Add(new TrendPoint(row[0].GetInt64(), Number(row, hr), Number(row, sys), Number(row, spo2)));
        }

        return points;
    }

    private static double? Number(JsonElement row, int index) =>
        index >= 0 && row[index].ValueKind == JsonValueKind.Number ? row[index].GetDouble() : null;

    // InfluxQL string literals and identifiers: backslash-escape the quote and the backslash.
    private static string Literal(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    private static string Identifier(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string Shorten(string text) => text.Length <= 200 ? text.Trim() : text[..200].Trim() + "...";
}
