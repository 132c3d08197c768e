using System.Buffers;
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

    public Stream Stream { get; set; } = stream;

    public long LastSent { get; private set; } = time.GetTimestamp();

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
            var n = await Stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException();
            }

            _end += n;
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
        LastReceived = time.GetTimestamp();
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
