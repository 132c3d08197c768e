using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vitals.Storage.Tests.Influx;

/// <summary>
/// A loopback HTTP proxy in front of influxd that records every line-protocol line POSTed through it and whether
/// influxd acknowledged it (2xx). InfluxDB overwrites a point with the same series and timestamp, so its counts cannot
/// show a duplicate; these records can. When influxd is down or dies mid-request, the proxy answers 502 and closes the
/// connection, so the forwarder sees a failed write and retries.
/// </summary>
public sealed class CountingInfluxProxy : IDisposable
{
    private const int BindAttempts = 20;
    private readonly HttpListener listener;
    private readonly HttpClient upstream = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Uri target;
    private readonly List<string> accepted = [];
    private readonly Task loop;

    public CountingInfluxProxy(Uri target)
    {
        this.target = target;
        (listener, Port) = Listen();
        loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    /// <summary>Writes influxd answered with an error or never answered (the forwarder must send those lines again).</summary>
    public int UnacknowledgedPosts { get; private set; }

    /// <summary>The --influx URL for a database, through the proxy.</summary>
    public string Url(string db) => $"http://127.0.0.1:{Port}/?db={db}";

    /// <summary>Every line influxd acknowledged, in order (a line acknowledged twice appears twice).</summary>
    public List<string> AcceptedLines()
    {
        lock (accepted)
        {
            return [.. accepted];
        }
    }

    /// <summary>Acknowledged lines of one measurement (the text before the first unescaped comma or space).</summary>
    public List<string> AcceptedLines(string measurement) =>
        [.. AcceptedLines().Where(l => l.StartsWith(measurement + ",", StringComparison.Ordinal) || l.StartsWith(measurement + " ", StringComparison.Ordinal))];

    /// <summary>Lines influxd acknowledged more than once, with their count.</summary>
    public Dictionary<string, int> AcknowledgedTwice() =>
        AcceptedLines().GroupBy(l => l, StringComparer.Ordinal).Where(g => g.Count() > 1).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        try
        {
            loop.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
        }

        upstream.Dispose();
    }

    /// <summary>
    /// HttpListener cannot report a port 0 binding, so a port the kernel just handed out is tried, and on a busy machine
    /// (another process took it before HttpListener bound it) a fresh one, until one binds.
    /// </summary>
    private static (HttpListener Listener, int Port) Listen()
    {
        for (var attempt = 1; ; attempt++)
        {
            int port;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            var candidate = new HttpListener();
            candidate.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                candidate.Start();
                return (candidate, port);
            }
            catch (HttpListenerException) when (attempt < BindAttempts)
            {
                candidate.Close(); // taken in between: try another
            }
        }
    }

    private async Task LoopAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => ForwardAsync(context));
        }
    }

    private async Task ForwardAsync(HttpListenerContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body);
        var bytes = body.ToArray();
        using var message = new HttpRequestMessage(new HttpMethod(request.HttpMethod), new Uri(target, request.Url!.PathAndQuery)) { Content = new ByteArrayContent(bytes) };
        foreach (var name in request.Headers.AllKeys)
        {
            if (name is null || name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!message.Headers.TryAddWithoutValidation(name, request.Headers[name]))
            {
                message.Content.Headers.TryAddWithoutValidation(name, request.Headers[name]);
            }
        }

        var isWrite = request.HttpMethod == "POST" && request.Url!.AbsolutePath.EndsWith("/write", StringComparison.Ordinal);
        try
        {
            using var response = await upstream.SendAsync(message);
            var answer = await response.Content.ReadAsByteArrayAsync();
            if (isWrite)
            {
                Record(bytes, request.Headers["Content-Encoding"], response.IsSuccessStatusCode);
            }

            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var header in response.Headers.Concat(response.Content.Headers))
            {
                if (header.Key is not ("Content-Length" or "Transfer-Encoding" or "Connection"))
                {
                    context.Response.Headers[header.Key] = string.Join(",", header.Value);
                }
            }

            await context.Response.OutputStream.WriteAsync(answer);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            if (isWrite)
            {
                Record(bytes, request.Headers["Content-Encoding"], acknowledged: false);
            }

            // influxd is gone: answer as a gateway whose upstream is down, and drop the connection.
            context.Response.StatusCode = (int)HttpStatusCode.BadGateway;
            context.Response.KeepAlive = false;
            context.Response.Close();
        }
    }

    private void Record(byte[] body, string? encoding, bool acknowledged)
    {
        if (!acknowledged)
        {
            lock (accepted)
            {
                UnacknowledgedPosts++;
            }

            return;
        }

        string text;
        if (string.Equals(encoding, "gzip", StringComparison.OrdinalIgnoreCase))
        {
            using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, Encoding.UTF8);
            text = reader.ReadToEnd();
        }
        else
        {
            text = Encoding.UTF8.GetString(body);
        }

        lock (accepted)
        {
            accepted.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
    }
}
