using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using Vitals.Mqtt.Packets;

namespace Vitals.Mqtt;

/// <summary>One TCP/TLS connection: the stream, its receive buffer and liveness timestamps.</summary>
internal sealed class MqttConnection(Socket socket, Stream stream, MqttPacketReader packetReader, TimeProvider time)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private long _discard;
    private int _quickReads;

    /// <summary>
    /// Pause before a socket read while messages stream in, so that one read takes many messages; zero (the handshake's
    /// reads) reads at once. Set by the read loop.
    /// </summary>
    /// <remarks>
    /// Why: the gateway judges each read's messages faster than a busy publisher sends them, so without a pause it woke
    /// and read once per message (harness, quiet machine: 20k recvfrom + 4.6k EAGAIN + 14.5k epoll_wait per 200k
    /// messages, median read 93 bytes = one PUBLISH, recv ~15 % of the CPU). Streaming means <see cref="CoalesceAfter"/>
    /// (16) reads in a row that each found their bytes within <see cref="QuickRead"/> and brought less than
    /// <see cref="SmallRead"/>; one read that had to wait longer (a quiet spell) ends it, so a lone message after quiet
    /// is read at once. Measured on the shared harness (gw-only, 200k messages, alternating with main): seven pairs at
    /// load 1.6-3.0, window CPU mean 1.53 -> 1.29 CPU-s (-15 %, 6 of 7 lower), recvfrom 1.6-23.5k -> 1.2-2.7k,
    /// epoll_wait 0.9-13.0k -> 0.6-1.7k; 13 pairs at load 3.3-7.4 (a busy machine batches reads already) 1.30 -> 1.25,
    /// recvfrom 1.2-15.7k -> 1.0-3.6k. Pausing without the streak
    /// (after any read quicker than 1 ms) added 4-7 ms to the alarm's MQTT-out p50 at 100 chairs (bursts of alarms
    /// kept pausing the subscriber); with the streak p50/p99 stay as before. Thread.Sleep instead of Task.Delay: no
    /// better, and not cancellable.
    /// </remarks>
    public TimeSpan CoalesceWait { get; set; }

    /// <summary>Quick, small reads in a row that make a stream (see <see cref="CoalesceWait"/>).</summary>
    public int CoalesceAfter { get; set; }

    /// <summary>Pauses taken before reads since the connection opened.</summary>
    public long CoalescePauses { get; private set; }

    private static TimeSpan QuickRead => TimeSpan.FromMicroseconds(200);

    private const int SmallRead = 16 * 1024;

    public Stream Stream { get; set; } = stream;

    public long LastSent { get; private set; } = time.GetTimestamp();

    /// <summary>
    /// When bytes last arrived: stamped once per socket read, not per packet (a clock read per message was ~0.7 % of the
    /// gateway's harness window in perf, AOT); the packets of one read arrive together.
    /// </summary>
    public long LastReceived { get; private set; } = time.GetTimestamp();

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await Stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        LastSent = time.GetTimestamp();
    }

    public async ValueTask<MqttPacket> ReadPacketAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryReadBufferedPacket(out var packet))
            {
                return packet;
            }

            MakeRoom();
            if (_quickReads >= CoalesceAfter && CoalesceWait > TimeSpan.Zero)
            {
                CoalescePauses++;
                await Task.Delay(CoalesceWait, cancellationToken).ConfigureAwait(false);
            }

            // The socket's own pace on the real clock, not the injected TimeProvider: a test's frozen clock must not stall reads.
            var asked = Stopwatch.GetTimestamp();
            var n = await Stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException();
            }

            _end += n;
            LastReceived = time.GetTimestamp();
            _quickReads = n < SmallRead && Stopwatch.GetElapsedTime(asked) < QuickRead ? Math.Min(_quickReads + 1, CoalesceAfter) : 0;
        }
    }

    /// <summary>The next packet already received whole, if any; never reads the socket.</summary>
    public bool TryReadBufferedPacket([NotNullWhen(true)] out MqttPacket? packet)
    {
        if (_discard > 0)
        {
            // The rest of an oversized PUBLISH: dropped as it arrives, never buffered whole.
            var skip = (int)Math.Min(_discard, _end - _start);
            _start += skip;
            _discard -= skip;
        }

        packet = null;
        if (_discard > 0 || _end == _start)
        {
            return false;
        }

        var sequence = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
        if (!packetReader.TryReadPacket(ref sequence, out packet))
        {
            return false;
        }

        _start = _end - (int)sequence.Length;
        _discard = packet is OversizedPublishPacket oversized ? oversized.Discard : 0;
        return true;
    }

    public void Close()
    {
        try
        {
            Stream.Dispose();
        }
        catch (IOException)
        {
            // Already broken; closing is all we want.
        }

        socket.Dispose();
    }

    private void MakeRoom()
    {
        if (_start == _end)
        {
            _start = _end = 0;
            return;
        }

        if (_start > 0 && _buffer.Length - _end < 4096)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            // A partial packet fills the buffer: grow; the reader rejected anything above MaxPacketSize already.
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
    }
}
