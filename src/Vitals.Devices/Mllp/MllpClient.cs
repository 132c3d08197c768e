using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace Vitals.Devices.Mllp;

/// <summary>
/// MLLP sender (the monitor's side, used by the simulator and tests): connect, send a message, await the ACK frame
/// on the same connection (HL7 v2.x original acknowledgment mode: the sender waits for the acknowledgment before sending the next message).
/// One outstanding message at a time; not thread-safe.
/// </summary>
public sealed class MllpClient : IAsyncDisposable
{
    private readonly Socket socket;
    private readonly NetworkStream stream;
    private readonly PipeReader reader;
    private readonly MllpFrameReader framer;
    private readonly TimeProvider time;

    private MllpClient(Socket socket, TimeProvider time, int maxFrameSize)
    {
        this.socket = socket;
        this.time = time;
        stream = new NetworkStream(socket, ownsSocket: true);
        reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        framer = new MllpFrameReader(maxFrameSize);
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>, giving up after <paramref name="timeout"/>.</summary>
    public static async Task<MllpClient> ConnectAsync(string host, int port, TimeSpan timeout, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await socket.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"MLLP connect to {host}:{port} timed out after {timeout}.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new MllpClient(socket, time, MllpFrameReader.DefaultMaxFrameSize);
    }

    /// <summary>Sends one message framed in MLLP and returns the ACK message (unframed).</summary>
    /// <exception cref="TimeoutException">No ACK within <paramref name="ackTimeout"/>.</exception>
    /// <exception cref="IOException">The connection closed before the ACK.</exception>
    public async Task<byte[]> SendAsync(ReadOnlyMemory<byte> message, TimeSpan ackTimeout, CancellationToken cancellationToken = default)
    {
        await stream.WriteAsync(MllpEncoder.Frame(message.Span), cancellationToken).ConfigureAwait(false);
        return await ReceiveAsync(ackTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends bytes as they are (no framing): for tests of garbage and split frames.</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) =>
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);

    /// <summary>Waits for the next frame from the peer.</summary>
    public async Task<byte[]> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(linked.Token).ConfigureAwait(false);
                var buffer = read.Buffer;
                if (framer.TryReadFrame(ref buffer, out var frame))
                {
                    var ack = frame.ToArray();
                    reader.AdvanceTo(buffer.Start);
                    return ack;
                }

                reader.AdvanceTo(buffer.Start, read.Buffer.End);
                if (read.IsCompleted)
                {
                    throw new IOException("The MLLP peer closed the connection before acknowledging.");
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No MLLP acknowledgment within {timeout}.");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await reader.CompleteAsync().ConfigureAwait(false);
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // already gone
        }

        await stream.DisposeAsync().ConfigureAwait(false);
    }
}
