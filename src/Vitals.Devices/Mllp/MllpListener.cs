using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Hl7;

namespace Vitals.Devices.Mllp;

/// <summary>
/// HL7 v2 over MLLP TCP server (HL7 MLLP Release 2; IHE PCD TF-2 PCD-01 over MLLP): monitors and vendor gateways
/// connect, send ORU^R01 messages and get each one acknowledged on the same connection.
/// Observations go to a bounded channel; a message is acknowledged AA only after all its observations were accepted by it.
/// Connections are independent: a bad message or a dropped connection affects only itself.
/// The codec (and with it the chair map) can be replaced while connections are open: see <see cref="ReplaceCodec"/>.
/// </summary>
public sealed class MllpListener : IAsyncDisposable
{
    private readonly MllpListenerOptions options;
    private readonly ChannelWriter<Observation> output;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<string, MllpSourceCounters> sources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, Task> connections = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly MllpAckWriter acks;
    private Socket? socket;
    private Task? acceptLoop;
    private long connectionSeq;
    private int active;
    private long faults;

    // Replaced whole, never changed in place: each message reads it once, so it is decoded and ACKed with one map.
    private Hl7OruCodec codec;

    /// <summary>Creates a listener; nothing is bound until <see cref="Start"/>.</summary>
    public MllpListener(MllpListenerOptions options, Hl7OruCodec codec, ChannelWriter<Observation> output, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        this.options = options;
        this.codec = codec;
        this.output = output;
        this.time = time;
        acks = new MllpAckWriter(time.GetUtcNow());
    }

    /// <summary>The codec that decodes the next message.</summary>
    public Hl7OruCodec Codec => Volatile.Read(ref codec);

    /// <summary>The bound address and port (after <see cref="Start"/>).</summary>
    public IPEndPoint? LocalEndPoint => socket?.LocalEndPoint as IPEndPoint;

    /// <summary>Open connections now.</summary>
    public int ActiveConnections => Volatile.Read(ref active);

    /// <summary>Connections ended by an unexpected error in the gateway (not by the peer); should stay 0.</summary>
    public long ConnectionFaults => Interlocked.Read(ref faults);

    /// <summary>Binds and starts accepting connections.</summary>
    public void Start()
    {
        if (socket is not null)
        {
            throw new InvalidOperationException("The listener is already started.");
        }

        var endPoint = new IPEndPoint(IPAddress.Parse(options.Address), options.Port);
        var listen = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listen.Bind(endPoint);
            listen.Listen(128);
        }
        catch
        {
            listen.Dispose();
            throw;
        }

        socket = listen;
        acceptLoop = Task.Run(() => AcceptLoopAsync(listen, stopping.Token));
    }

    /// <summary>
    /// Uses <paramref name="next"/> (for example one with a new chair map) for every later message, on open connections
    /// too. A message already being decoded finishes with the codec it started with; no connection is closed.
    /// </summary>
    public void ReplaceCodec(Hl7OruCodec next)
    {
        ArgumentNullException.ThrowIfNull(next);
        Volatile.Write(ref codec, next);
    }

    /// <summary>Counters per source (remote address), for the status endpoint.</summary>
    public IReadOnlyList<MllpSourceStats> GetCounters() => [.. sources.Values.Select(s => s.Snapshot()).OrderBy(s => s.Source, StringComparer.Ordinal)];

    /// <summary>Stops accepting, closes every connection and waits for their handlers.</summary>
    public async Task StopAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        socket?.Dispose();
        if (acceptLoop is not null)
        {
            await acceptLoop.ConfigureAwait(false);
        }

        await Task.WhenAll(connections.Values).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        stopping.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listen, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listen.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!ct.IsCancellationRequested)
            {
                continue; // a connection that died between SYN and accept
            }
            catch (SocketException)
            {
                return;
            }

            if (Interlocked.Increment(ref active) > options.MaxConnections)
            {
                Interlocked.Decrement(ref active);
                client.Dispose();
                continue;
            }

            var id = Interlocked.Increment(ref connectionSeq);
            var task = Task.Run(() => ServeAsync(client, ct), CancellationToken.None);
            connections[id] = task;
            _ = task.ContinueWith(_ => connections.TryRemove(id, out Task? _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken ct)
    {
        var source = (client.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
        var counters = sources.GetOrAdd(source, s => new MllpSourceCounters(s));
        counters.Connect();
        options.Counters?.SetConnected(true);
        client.NoDelay = true;
        if (options.KeepAliveIdle > TimeSpan.Zero)
        {
            // socket(7) SO_KEEPALIVE, tcp(7) TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT.
            client.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            client.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)options.KeepAliveIdle.TotalSeconds);
            client.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)MllpListenerOptions.KeepAliveProbeInterval.TotalSeconds);
            client.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, MllpListenerOptions.KeepAliveProbes);
        }

        var stream = new NetworkStream(client, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
        var framer = new MllpFrameReader(options.MaxFrameSize);
        var connection = new Connection(new List<Observation>(32), new ArrayBufferWriter<byte>(512), counters);
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(ct).ConfigureAwait(false);
                var buffer = read.Buffer;
                var badBefore = framer.BadFrames;
                var garbageBefore = framer.GarbageBytes;
                while (framer.TryReadFrame(ref buffer, out var frame))
                {
                    await HandleFrameAsync(frame, stream, connection, ct).ConfigureAwait(false);
                }

                counters.Bad(framer.BadFrames - badBefore);
                counters.AddGarbage(framer.GarbageBytes - garbageBefore);
                var consumed = read.Buffer.Slice(0, buffer.Start).Length;
                counters.AddBytes(consumed);
                if (options.Counters is { } all)
                {
                    all.AddBytes((int)consumed);
                    if (framer.BadFrames != badBefore)
                    {
                        all.FrameBad("MLLP frame oversize or truncated", framer.BadFrames - badBefore);
                    }
                }
                reader.AdvanceTo(buffer.Start, read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // shutting down
        }
        catch (IOException)
        {
            // peer reset or broken pipe: this connection only
        }
        catch (SocketException)
        {
            // as above
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A defect must not take the listener down: drop this connection only, count it, keep serving others.
            counters.Bad();
            Interlocked.Increment(ref faults);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
            counters.Disconnect();
            if (Interlocked.Decrement(ref active) == 0)
            {
                options.Counters?.SetConnected(false);
            }
        }
    }

    private async Task HandleFrameAsync(ReadOnlySequence<byte> frame, NetworkStream stream, Connection connection, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        connection.Counters.Frame(now);
        var message = frame.IsSingleSegment ? frame.First : frame.ToArray();
        var context = new DecodeContext(options.Site, options.Chair, options.Device, now, options.DeviceTimeZone);
        var codec = Codec;
        connection.Observations.Clear();
        var result = codec.Decode(message.Span, context, connection.Observations);

        var code = result.Ack;
        string? error = null;
        if (code == Hl7AckCode.Accept && !await EnqueueAsync(connection.Observations, ct).ConfigureAwait(false))
        {
            // Never AA what the pipeline did not take (PROTOCOLS.md: GE B40 retransmits on AE).
            code = Hl7AckCode.Error;
            error = "gateway busy: observations not stored, please retransmit";
        }

        if (code == Hl7AckCode.Accept)
        {
            connection.Counters.Ok();
            options.Counters?.FrameOk(now);
        }
        else
        {
            connection.Counters.Bad();
            options.Counters?.FrameBad(error ?? result.Result.Error ?? "message not accepted");
        }

        options.MessageHandled?.Invoke(code == Hl7AckCode.Accept ? connection.Observations : [], code);

        connection.Ack.ResetWrittenCount();
        acks.Write(codec, message.Span, result, code, error, now, connection.Ack);
        await stream.WriteAsync(connection.Ack.WrittenMemory, ct).ConfigureAwait(false);
    }

    private async ValueTask<bool> EnqueueAsync(List<Observation> observations, CancellationToken ct)
    {
        foreach (var observation in observations)
        {
            if (output.TryWrite(observation))
            {
                continue;
            }

            using var timeout = new CancellationTokenSource(options.ChannelWriteTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            try
            {
                await output.WriteAsync(observation, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return false;
            }
            catch (ChannelClosedException)
            {
                return false;
            }
        }

        return true;
    }

    private sealed record Connection(List<Observation> Observations, ArrayBufferWriter<byte> Ack, MllpSourceCounters Counters);
}
