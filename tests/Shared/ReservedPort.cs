using System.Net;
using System.Net.Sockets;

namespace Vitals.Testing;

/// <summary>
/// A loopback TCP port held for a test: bound but not listening, so a connection to it is refused (the kernel answers
/// RST) and no other process can take the port meanwhile, as it could one picked and released in advance. A test that
/// wants a server to appear there later hands <see cref="Socket"/> to that server, which calls <c>Listen</c> on it.
/// </summary>
public sealed class ReservedPort : IDisposable
{
    /// <summary>Binds a fresh socket to 127.0.0.1 port 0.</summary>
    public ReservedPort()
    {
        Socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }

    /// <summary>The bound, not yet listening socket.</summary>
    public Socket Socket { get; }

    /// <summary>The port the kernel gave it.</summary>
    public int Port => ((IPEndPoint)Socket.LocalEndPoint!).Port;

    /// <inheritdoc />
    public void Dispose() => Socket.Dispose();
}
