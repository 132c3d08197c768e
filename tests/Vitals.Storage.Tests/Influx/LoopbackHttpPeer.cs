using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vitals.Storage.Tests.Influx;

/// <summary>A minimal HTTP/1.1 peer on 127.0.0.1 that records requests and answers from a script.</summary>
public sealed class LoopbackHttpPeer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Queue<string> _responses;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LoopbackHttpPeer(params string[] responses)
    {
        _responses = new Queue<string>(responses);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public sealed record Request(string Method, string Target, Dictionary<string, string> Headers, byte[] Body, DateTimeOffset At);

    public List<Request> Requests { get; } = [];

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public const string NoContent = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var stream = client.GetStream();
            while (await ReadRequestAsync(stream) is { } request)
            {
                lock (Requests)
                {
                    Requests.Add(request);
                }

                var response = _responses.Count > 1 ? _responses.Dequeue() : _responses.Peek();
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response), _stop.Token);
            }
        }
    }

    private async Task<Request?> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!EndsWithBlankLine(head))
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
            {
                return null;
            }

            head.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var first = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var length = headers.TryGetValue("Content-Length", out var cl) ? int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture) : 0;
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, _stop.Token);
        return new Request(first[0], first[1], headers, body, TimeProvider.System.GetUtcNow());
    }

    private static bool EndsWithBlankLine(List<byte> b) =>
        b.Count >= 4 && b[^4] == '\r' && b[^3] == '\n' && b[^2] == '\r' && b[^1] == '\n';
}
