using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Vitals.Mqtt.Packets;
using static Vitals.Mqtt.Tests.Broker.TestClients;

namespace Vitals.Mqtt.Tests;

/// <summary>
/// The reader pauses before its next read while messages stream in (<see cref="MqttConnection.CoalesceWait"/>); these
/// tests hold it to what the pause must not cost: a lone message is read at once, a stream arrives whole and in order,
/// and stopping does not wait for the pause. A fake broker on loopback sends exactly the bytes each test asks for.
/// </summary>
public class MqttClientCoalescingTests
{
    [Fact]
    public async Task ReadLoop_LoneMessagesAfterQuiet_DeliveredWithoutFurtherTraffic()
    {
        // A pause that never ends: any message that waited for one would never arrive.
        await using var broker = new ScriptedBroker();
        await using var client = await ConnectedAsync(broker, TimeSpan.FromDays(1));

        for (var i = 1; i <= 3; i++)
        {
            await broker.SendAsync(Publish(i));

            var message = await client.ReceiveAsync();
            Assert.Equal(i, Sequence(message));
        }

        Assert.Equal(0L, client.CoalescePauses);
    }

    [Fact]
    public async Task ReadLoop_StreamOfSmallWrites_ArrivesCompleteAndInOrderAcrossPauses()
    {
        const int Count = 50_000;
        await using var broker = new ScriptedBroker();
        await using var client = await ConnectedAsync(broker, TimeSpan.FromMilliseconds(1), pauseAlways: true);

        // Eight packets per write and one split across each write boundary, back to back.
        var stream = new ArrayBufferWriter<byte>();
        for (var i = 1; i <= Count; i++)
        {
            stream.Write(Publish(i));
        }

        var sending = Task.Run(async () =>
        {
            const int Chunk = 8 * 9 + 5;
            for (var offset = 0; offset < stream.WrittenCount; offset += Chunk)
            {
                await broker.SendAsync(stream.WrittenMemory.Slice(offset, Math.Min(Chunk, stream.WrittenCount - offset)));
            }
        });

        for (var i = 1; i <= Count; i++)
        {
            Assert.Equal(i, Sequence(await client.ReceiveAsync()));
        }

        await sending;
        Assert.True(client.CoalescePauses > 0);

        // Then quiet, and one more message with nothing after it.
        await broker.SendAsync(Publish(Count + 1));
        Assert.Equal(Count + 1, Sequence(await client.ReceiveAsync()));
    }

    [Fact]
    public async Task DisposeAsync_WhileReaderPauses_StopsWithoutWaitingForThePause()
    {
        await using var broker = new ScriptedBroker();
        var client = await ConnectedAsync(broker, TimeSpan.FromDays(1), pauseAlways: true);
        using var stopSending = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            var chunk = new ArrayBufferWriter<byte>();
            for (var i = 0; i < 8; i++)
            {
                chunk.Write(Publish(i));
            }

            while (!stopSending.IsCancellationRequested)
            {
                await broker.SendAsync(chunk.WrittenMemory, stopSending.Token);
            }
        });

        await Eventually.TrueAsync(() => client.CoalescePauses > 0, "the reader pausing");
        await client.DisposeAsync().AsTask().WaitAsync(TestTimeout);

        Assert.Equal(MqttConnectionState.Disposed, client.State);
        await stopSending.CancelAsync();
        try
        {
            await sending;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            // The client is gone: sending had to end one way or the other.
        }
    }

    /// <summary>A client of <paramref name="broker"/> whose reader pauses <paramref name="coalesceWait"/> while messages stream in, or before every read when <paramref name="pauseAlways"/> (so the pause is certain to be taken).</summary>
    private static async Task<MqttClient> ConnectedAsync(ScriptedBroker broker, TimeSpan coalesceWait, bool pauseAlways = false)
    {
        var options = Options(broker.Port) with { KeepAliveSeconds = 0, CoalesceWait = coalesceWait };
        var client = new MqttClient(pauseAlways ? options with { CoalesceAfter = 0 } : options);
        await client.ConnectAsync().WaitAsync(TestTimeout);
        return client;
    }

    /// <summary>A QoS 0 PUBLISH on topic "t" whose payload is <paramref name="sequence"/>, 4 bytes big-endian: 9 bytes.</summary>
    private static byte[] Publish(int sequence)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, sequence);
        return MqttPacketWriter.ToArray(new PublishPacket("t", payload));
    }

    private static int Sequence(MqttMessage message) => BinaryPrimitives.ReadInt32BigEndian(message.Payload.Span);

    /// <summary>Accepts one client, answers its CONNECT, ignores what it sends after and writes what the test asks.</summary>
    private sealed class ScriptedBroker : IAsyncDisposable
    {
        private readonly Socket _listener = new ReservedPort().Socket;
        private readonly TaskCompletionSource<Socket> _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serve;

        public ScriptedBroker()
        {
            _listener.Listen();
            _serve = Task.Run(ServeAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
        {
            var socket = await _accepted.Task.WaitAsync(TestTimeout, cancellationToken);
            await socket.SendAsync(bytes, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Dispose();
            if (_accepted.Task.IsCompletedSuccessfully)
            {
                _accepted.Task.Result.Dispose();
            }

            try
            {
                await _serve;
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopping.
            }

            _stop.Dispose();
        }

        private async Task ServeAsync()
        {
            var socket = await _listener.AcceptAsync(_stop.Token);
            var reader = new MqttPacketReader();
            var buffer = new byte[4096];
            var filled = 0;
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(filled), _stop.Token);
                if (n == 0)
                {
                    return;
                }

                filled += n;
                var sequence = new ReadOnlySequence<byte>(buffer, 0, filled);
                while (reader.TryReadPacket(ref sequence, out var packet))
                {
                    if (packet is ConnectPacket)
                    {
                        await socket.SendAsync(MqttPacketWriter.ToArray(new ConnAckPacket(false, MqttConnectReturnCode.Accepted)), _stop.Token);
                        _accepted.TrySetResult(socket);
                    }
                }

                var rest = (int)sequence.Length;
                Array.Copy(buffer, filled - rest, buffer, 0, rest);
                filled = rest;
            }
        }
    }
}
