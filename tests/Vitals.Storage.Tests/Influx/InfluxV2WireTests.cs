using System.IO.Compression;
using System.Text;
using Vitals.Core;
using Vitals.Storage.Influx;

namespace Vitals.Storage.Tests.Influx;

public sealed class InfluxV2WireTests
{
    [Fact]
    public async Task WriteAsync_V2Endpoint_PostsApiV2WriteWithTokenAndGzipBody()
    {
        await using var peer = new LoopbackHttpPeer(LoopbackHttpPeer.NoContent);
        var endpoint = InfluxEndpoint.Parse($"http://127.0.0.1:{peer.Port}/?org=my clinic&bucket=vitals", _ => null, token: "tok-abc");
        using var http = new HttpClient();
        using var writer = new LineProtocolWriter();
        var at = new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
        InfluxSchema.WriteObservations(writer, [new Observation("north", "c1", "d1", Sign.Hr, 72, at, at, SourceProtocol.Simulator)]);

        var result = await new InfluxWriteClient(endpoint, http, requestTimeout: TimeSpan.FromSeconds(5)).WriteAsync(writer.Written, CancellationToken.None);

        Assert.True(result.IsSuccess, result.Message);
        var request = Assert.Single(peer.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/api/v2/write?org=my%20clinic&bucket=vitals&precision=ms", request.Target);
        Assert.Equal("Token tok-abc", request.Headers["Authorization"]);
        Assert.Equal("gzip", request.Headers["Content-Encoding"]);
        using var gz = new GZipStream(new MemoryStream(request.Body), CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        Assert.Equal($"vitals,chair=c1,device=d1,site=north hr=72 {at.ToUnixTimeMilliseconds()}\n", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task WriteAsync_V1WithCredentials_BasicAuthNotInUrl()
    {
        await using var peer = new LoopbackHttpPeer(LoopbackHttpPeer.NoContent);
        var endpoint = InfluxEndpoint.Parse($"http://127.0.0.1:{peer.Port}/?db=vitals&rp=week", _ => null, "nurse", "pa:ss");
        using var http = new HttpClient();
        var result = await new InfluxWriteClient(endpoint, http, requestTimeout: TimeSpan.FromSeconds(5)).WriteAsync("m f=1 1\n"u8.ToArray(), CancellationToken.None);
        Assert.True(result.IsSuccess, result.Message);
        var request = Assert.Single(peer.Requests);
        Assert.Equal("/write?db=vitals&rp=week&precision=ms", request.Target);
        Assert.Equal("Basic " + Convert.ToBase64String("nurse:pa:ss"u8), request.Headers["Authorization"]);
    }

    [Fact]
    public async Task Forwarder_429WithRetryAfter_WaitsThenDelivers()
    {
        await using var peer = new LoopbackHttpPeer(
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: 45\r\n\r\n{\"code\":\"too many requests\",\"message\":\"slow\"}",
            LoopbackHttpPeer.NoContent);
        var endpoint = InfluxEndpoint.Parse($"http://127.0.0.1:{peer.Port}/?org=o&bucket=b", _ => null, token: "t");
        using var http = new HttpClient();
        var outbox = new InMemoryOutbox();
        outbox.AddRange(ForwarderHarness.Frames(1, 0, 2));
        using var forwarder = new InfluxForwarder(outbox, new InfluxWriteClient(endpoint, http, requestTimeout: TimeSpan.FromSeconds(5)), ForwarderHarness.FastOptions());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var run = forwarder.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => outbox.Cursor == outbox.Head, "delivery after 429");
        await cts.CancelAsync();
        await run;

        Assert.Equal(2, peer.Requests.Count);
        var waited = peer.Requests[1].At - peer.Requests[0].At;
        Assert.True(waited >= TimeSpan.FromMilliseconds(900), $"waited only {waited}");
        Assert.Contains("HTTP 429", forwarder.Health.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forwarder_ServerErrors_CircuitOpensAndDataStaysInOutbox()
    {
        await using var peer = new LoopbackHttpPeer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        var endpoint = InfluxEndpoint.Parse($"http://127.0.0.1:{peer.Port}/?db=v", _ => null);
        using var http = new HttpClient();
        var outbox = new InMemoryOutbox();
        outbox.AddRange(ForwarderHarness.Frames(1, 0, 2));
        var options = ForwarderHarness.FastOptions();
        options.BreakerSamplingDuration = TimeSpan.FromSeconds(10); // wide window: a loaded CI machine may be slow
        options.BreakDuration = TimeSpan.FromSeconds(5);
        using var forwarder = new InfluxForwarder(outbox, new InfluxWriteClient(endpoint, http, requestTimeout: TimeSpan.FromSeconds(5)), options);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var run = forwarder.RunAsync(cts.Token);
        await Eventually.TrueAsync(() => forwarder.Health.CircuitState == "open", "the circuit to open");
        await cts.CancelAsync();
        await run;

        Assert.Equal(0, outbox.Cursor);
        Assert.Equal(2, forwarder.Health.LagPoints); // 2 frames, a row (and a point) each
        Assert.Contains("HTTP 503", forwarder.Health.LastError, StringComparison.Ordinal);
    }
}
