using System.Net;
using System.Net.Sockets;

namespace Vitals.Gateway.Tests.Browser;

/// <summary>
/// A loopback TCP forwarder in front of a gateway. <see cref="Freeze"/> stops passing the server's bytes on while
/// every connection stays open: to the browser the event stream goes silent without an error, which only the
/// dashboard's missed-heartbeat check can notice. <see cref="Thaw"/> lets the held bytes through.
/// </summary>
public sealed class FreezableProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint upstream;
    private readonly CancellationTokenSource stop = new();
    private readonly List<TcpClient> connections = [];
    private readonly Task accepting;
    private TaskCompletionSource flowing = Open();

    public FreezableProxy(Uri target)
    {
        upstream = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        accepting = AcceptAsync();
    }

    /// <summary>Where the browser goes instead of the gateway.</summary>
    public Uri Address { get; }

    /// <summary>Connections accepted and not yet closed by either side.</summary>
    public int OpenConnections
    {
        get
        {
            lock (connections)
            {
                return connections.Count(c => c.Connected);
            }
        }
    }

    /// <summary>Holds the server's bytes from now on; connections stay open.</summary>
    public void Freeze() => Volatile.Write(ref flowing, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Passes the server's bytes on again, the held ones first.</summary>
    public void Thaw() => Volatile.Read(ref flowing).TrySetResult();

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        Thaw();
        lock (connections)
        {
            connections.ForEach(c => c.Dispose());
        }

        await accepting;
        stop.Dispose();
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(stop.Token);
                var server = new TcpClient();
                await server.ConnectAsync(upstream, stop.Token);
                lock (connections)
                {
                    connections.Add(client);
                    connections.Add(server);
                }

                _ = PumpAsync(client.GetStream(), server.GetStream(), holdWhileFrozen: false);
                _ = PumpAsync(server.GetStream(), client.GetStream(), holdWhileFrozen: true);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/>; the server-to-browser direction waits while frozen.</summary>
    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool holdWhileFrozen)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                if (holdWhileFrozen)
                {
                    await Volatile.Read(ref flowing).Task.WaitAsync(stop.Token);
                }

                var read = await from.ReadAsync(buffer, stop.Token);
                if (read == 0)
                {
                    break;
                }

                if (holdWhileFrozen)
                {
                    // A read that was already waiting when the proxy froze is held here, not passed on.
                    await Volatile.Read(ref flowing).Task.WaitAsync(stop.Token);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            try
            {
                to.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
