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
/// Observations go to a bounded channel, a message's whole or none of it; a message is acknowledged AA only after all its
/// observations were accepted by it and, when <see cref="MllpListenerOptions.Store"/> is set, committed to the store.
/// Connections are independent: a bad message or a dropped connection affects only itself. A connection that sends no
/// complete message for <see cref="MllpListenerOptions.IdleTimeout"/> is closed; at the connection caps the longest-idle
/// connection makes room, so idle connections can never lock a sending monitor out. A connection whose ACK cannot be
/// written within <see cref="MllpListenerOptions.AckWriteTimeout"/> (the peer stopped reading) is closed too.
/// The codec (and with it the chair map) can be replaced while connections are open: see <see cref="ReplaceCodec"/>.
/// </summary>
public sealed class MllpListener : IAsyncDisposable
{
    private readonly MllpListenerOptions options;
    private readonly ChannelWriter<Observation> output;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<string, MllpSourceCounters> sources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, ConnectionSlot> connections = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly MllpAckWriter acks;
    private Socket? socket;
    private Task? acceptLoop;
    private long connectionSeq;
    private int active;
    private long faults;
    private long idleClosed;
    private long evicted;
    private long refused;
    private long ackWriteTimeouts;

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

    /// <summary>Connections closed because they sent no complete message for <see cref="MllpListenerOptions.IdleTimeout"/>.</summary>
    public long IdleClosed => Interlocked.Read(ref idleClosed);

    /// <summary>Idle connections closed to make room for a new one at a connection cap.</summary>
    public long Evicted => Interlocked.Read(ref evicted);

    /// <summary>New connections closed at once: a cap was reached and every connection in it was busy with a message.</summary>
    public long Refused => Interlocked.Read(ref refused);

    /// <summary>
    /// Connections closed because an ACK could not be written within <see cref="MllpListenerOptions.AckWriteTimeout"/>: the
    /// peer sends but stopped reading, so its window and our send buffer filled up.
    /// </summary>
    public long AckWriteTimeouts => Interlocked.Read(ref ackWriteTimeouts);

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

        await Task.WhenAll(connections.Values.Select(c => c.Handler)).ConfigureAwait(false);
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

            var source = (client.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
            if (!MakeRoom(source))
            {
                Interlocked.Increment(ref refused);
                client.Dispose();
                continue;
            }

            Interlocked.Increment(ref active);
            var id = Interlocked.Increment(ref connectionSeq);
            var slot = new ConnectionSlot(source, new CancellationTokenSource(options.IdleTimeout, time), time.GetTimestamp());
            connections[id] = slot;
            slot.Handler = Task.Run(() => ServeAsync(client, slot, ct), CancellationToken.None);
            _ = slot.Handler.ContinueWith(_ => connections.TryRemove(id, out ConnectionSlot? _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Makes sure a new connection from <paramref name="source"/> fits under both caps: at a cap the connection that has
    /// gone longest without a complete message (and is not answering one now) is closed to make room. A sender that is
    /// connecting now is more likely alive than one that has said nothing for longest, so idle connections, however many,
    /// never keep a monitor out. False when every connection in the full cap is busy.
    /// </summary>
    private bool MakeRoom(string source)
    {
        var fromSource = connections.Values.Count(c => c.Source == source && !c.Closing);
        if (fromSource >= options.MaxConnectionsPerSource && !EvictIdlest(c => c.Source == source))
        {
            return false;
        }

        return connections.Values.Count(c => !c.Closing) < options.MaxConnections || EvictIdlest(_ => true);
    }

    private bool EvictIdlest(Func<ConnectionSlot, bool> among)
    {
        var idlest = connections.Values.Where(c => !c.Closing && !c.Busy && among(c)).MinBy(c => c.LastMessage);
        if (idlest is null)
        {
            return false;
        }

        idlest.Close();
        Interlocked.Increment(ref evicted);
        return true;
    }

    private async Task ServeAsync(Socket client, ConnectionSlot slot, CancellationToken ct)
    {
        var source = slot.Source;
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
        using var ackWrite = new AckWriteDeadline(time, options.AckWriteTimeout, ct);
        var connection = new Connection(new List<Observation>(32), new ArrayBufferWriter<byte>(512), counters, ackWrite);
        var framing = new FramingCounts(framer, counters, options.Counters);
        using var readToken = CancellationTokenSource.CreateLinkedTokenSource(ct, slot.IdleToken);
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(readToken.Token).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (framer.TryReadFrame(ref buffer, out var frame))
                {
                    // Count what the framer skipped before this frame now, so counters are current when its ACK is read.
                    framing.Flush();
                    slot.Busy = true;
                    await HandleFrameAsync(frame, stream, connection, ct).ConfigureAwait(false);
                    slot.MessageAnswered(time.GetTimestamp(), options.IdleTimeout);
                }

                framing.Flush();
                var consumed = read.Buffer.Slice(0, buffer.Start).Length;
                counters.AddBytes(consumed);
                options.Counters?.AddBytes((int)consumed);
                reader.AdvanceTo(buffer.Start, read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && ackWrite.Expired && !ct.IsCancellationRequested)
        {
            // The message was stored (and counted) before its ACK was written; the sender never read that ACK, so it resends.
            // Reset instead of a graceful close: the kernel would otherwise keep probing a zero window to deliver unread ACKs.
            Interlocked.Increment(ref ackWriteTimeouts);
            try
            {
                client.LingerState = new LingerOption(enable: true, seconds: 0);
            }
            catch (SocketException)
            {
                // already gone: closing it is all that is left
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && slot.IdleToken.IsCancellationRequested)
        {
            // No complete message for IdleTimeout, or closed to make room for a new sender (counted there).
            if (!slot.Closing)
            {
                Interlocked.Increment(ref idleClosed);
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
            slot.Dispose();
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
        if (code == Hl7AckCode.Accept)
        {
            // Never AA what the store does not hold (PROTOCOLS.md: a monitor never resends after AA, GE B40 retransmits on AE).
            error = await KeepAsync(connection.Observations, ct).ConfigureAwait(false);
            code = error is null ? code : Hl7AckCode.Error;
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
        await connection.AckWrite.WriteAsync(stream, connection.Ack.WrittenMemory).ConfigureAwait(false);
    }

    /// <summary>Queues a message's observations and waits until they are stored; null when done, else the reason for AE.</summary>
    private async ValueTask<string?> KeepAsync(List<Observation> observations, CancellationToken ct)
    {
        if (observations.Count == 0)
        {
            return null;
        }

        var last = observations[^1];
        var stored = options.Store?.WhenStored(last);
        var queued = await QueueAsync(observations, ct).ConfigureAwait(false);
        if (queued != Queued.All)
        {
            options.Store?.Forget(last);
            return queued == Queued.None
                ? "gateway busy: observations not stored, please retransmit"
                : "gateway stalled: the message was only partly taken, please retransmit";
        }

        if (stored is null)
        {
            return null;
        }

        try
        {
            // False: judged and shown, but the store is failing with its memory hold full and will not keep them.
            return await stored.WaitAsync(options.AckTimeout, time, ct).ConfigureAwait(false) ? null : MllpSerialCodec.NotRecordedText;
        }
        catch (TimeoutException)
        {
            options.Store!.Forget(last);
            return MllpSerialCodec.NotStoredText;
        }
    }

    /// <summary>
    /// Queues a message whole or not at all: the first observation waits up to <see cref="MllpListenerOptions.ChannelWriteTimeout"/>
    /// for room (none: nothing of the message is queued); once it is in, the rest follow, waiting up to
    /// <see cref="MllpListenerOptions.AckTimeout"/> (the pipeline drains thousands a second; only a stalled pipeline leaves a part queued).
    /// </summary>
    private async ValueTask<Queued> QueueAsync(List<Observation> observations, CancellationToken ct)
    {
        if (!await WriteAsync(observations[0], options.ChannelWriteTimeout, ct).ConfigureAwait(false))
        {
            return Queued.None;
        }

        for (var i = 1; i < observations.Count; i++)
        {
            if (!await WriteAsync(observations[i], options.AckTimeout, ct).ConfigureAwait(false))
            {
                return Queued.Part;
            }
        }

        return Queued.All;
    }

    private async ValueTask<bool> WriteAsync(Observation observation, TimeSpan wait, CancellationToken ct)
    {
        if (output.TryWrite(observation))
        {
            return true;
        }

        using var timeout = new CancellationTokenSource(wait, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await output.WriteAsync(observation, linked.Token).ConfigureAwait(false);
            return true;
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

    private enum Queued
    {
        None,
        Part,
        All,
    }

    private sealed record Connection(List<Observation> Observations, ArrayBufferWriter<byte> Ack, MllpSourceCounters Counters, AckWriteDeadline AckWrite);

    /// <summary>
    /// Bounds each ACK write. A peer that sends but never reads fills its receive window and our send buffer; without a
    /// limit the write waits forever and the connection stays busy, so neither the idle timeout nor eviction can close it.
    /// </summary>
    private sealed class AckWriteDeadline(TimeProvider time, TimeSpan limit, CancellationToken stopping) : IDisposable
    {
        private readonly CancellationTokenSource timeout = new(Timeout.InfiniteTimeSpan, time);
        private CancellationTokenSource? linked;

        /// <summary>A write ran out of time; the connection must be closed (part of an ACK may have gone out).</summary>
        public bool Expired => timeout.IsCancellationRequested;

        public async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> bytes)
        {
            linked ??= CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
            timeout.CancelAfter(limit);
            await stream.WriteAsync(bytes, linked.Token).ConfigureAwait(false);
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        }

        public void Dispose()
        {
            linked?.Dispose();
            timeout.Dispose();
        }
    }

    /// <summary>Moves what the framer counted (garbage, dropped frames) into the source's and the listener's counters.</summary>
    private sealed class FramingCounts(MllpFrameReader framer, MllpSourceCounters source, Feeds.FeedCounters? all)
    {
        private long bad;
        private long garbage;

        public void Flush()
        {
            var newBad = framer.BadFrames - bad;
            var newGarbage = framer.GarbageBytes - garbage;
            bad += newBad;
            garbage += newGarbage;
            if (newGarbage > 0)
            {
                source.AddGarbage(newGarbage);
            }

            if (newBad > 0)
            {
                source.Bad(newBad);
                all?.FrameBad("MLLP frame oversize or truncated", newBad);
            }
        }
    }

    /// <summary>One open connection as the accept loop sees it: its source, when it last completed a message, and how to close it.</summary>
    private sealed class ConnectionSlot(string source, CancellationTokenSource idle, long acceptedAt) : IDisposable
    {
        private long lastMessage = acceptedAt;
        private volatile bool busy;
        private volatile bool closing;

        public string Source => source;

        /// <summary>Cancelled after IdleTimeout without a complete message, or to make room for a new connection.</summary>
        public CancellationToken IdleToken { get; } = idle.Token;

        public Task Handler { get; set; } = Task.CompletedTask;

        /// <summary>Timestamp of the last answered message (or of the accept).</summary>
        public long LastMessage => Interlocked.Read(ref lastMessage);

        /// <summary>Decoding, storing or answering a message: never closed for room then.</summary>
        public bool Busy
        {
            get => busy;
            set => busy = value;
        }

        /// <summary>Chosen to make room: no longer counted against the caps.</summary>
        public bool Closing => closing;

        public void MessageAnswered(long at, TimeSpan idleTimeout)
        {
            Interlocked.Exchange(ref lastMessage, at);
            busy = false;
            try
            {
                idle.CancelAfter(idleTimeout);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Close()
        {
            closing = true;
            try
            {
                idle.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Dispose() => idle.Dispose();
    }
}
