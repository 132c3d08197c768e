using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Tests.Hl7;
using static Vitals.Devices.Tests.Mllp.TestListener;

namespace Vitals.Devices.Tests.Mllp;

/// <summary>A sender that keeps sending but never reads its ACKs cannot hold its connection, and its address's slot, forever.</summary>
public sealed class MllpListenerUnreadAckTests
{
    [Fact]
    public async Task Listener_SenderNeverReadsItsAcks_ClosedAfterAckWriteTimeoutAndItsAddressGetsBackIn()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero));
        var channel = Channel.CreateUnbounded<Observation>();
        using var store = new DrainingStore(channel.Reader);
        var handled = 0;
        var acceptedUncommitted = 0;
        await using var listener = Start(
            channel.Writer,
            o =>
            {
                (o.Store, o.MaxConnectionsPerSource, o.AckWriteTimeout) = (store, 1, TimeSpan.FromSeconds(30));
                o.MessageHandled = (observations, code) =>
                {
                    Interlocked.Increment(ref handled);
                    if (code == Hl7AckCode.Accept && !observations.All(store.Holds))
                    {
                        Interlocked.Increment(ref acceptedUncommitted);
                    }
                };
            },
            time: time);
        var port = listener.LocalEndPoint!.Port;

        // Tiny buffers, set before connecting so the advertised window stays small: the listener's ACK writes block soon.
        using var hostile = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 2048, SendBufferSize = 2048 };
        await hostile.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(Generous);
        var framed = MllpEncoder.Frame(Hl7TestData.EightObx("BURST"));
        var burst = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await hostile.SendAsync(framed, SocketFlags.None); // never receives
                }
            }
            catch (SocketException)
            {
                // the listener closed the connection
            }
        });

        // Every poll moves the listener's clock on; only a write that has been stuck for 30 of those seconds gives up.
        // Filling the listener's send buffer (autotuned up to megabytes) takes thousands of messages: a longer limit.
        await Eventually.TrueAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return listener.AckWriteTimeouts == 1;
            },
            "the connection whose ACKs are never read to be closed",
            TimeSpan.FromMinutes(3));
        await WaitUntil(() => listener.ActiveConnections == 0, "the connection's slot to be free");
        await burst.WaitAsync(Generous); // the sender sees the connection reset

        // The address's one slot is free again: a monitor there is served, nothing refused.
        await using var monitor = await ConnectAsync(listener);
        var ack = ParseAck(await monitor.SendAsync(Hl7TestData.EightObx("AFTER"), Generous));

        Assert.Equal((Hl7AckCode.Accept, "AFTER"), (ack.Code, ack.AcknowledgedControlId));
        Assert.Equal(0, listener.Refused);
        Assert.Equal(0, listener.ConnectionFaults);
        Assert.Equal(0, listener.IdleClosed);
        Assert.True(Volatile.Read(ref handled) > 1, $"{handled} messages handled before the write blocked");

        // Nothing decoded was lost: every handled message's readings reached the store, and none was AA before its commit.
        await WaitUntil(() => store.Count == 8 * Volatile.Read(ref handled), "every handled message's readings stored");
        Assert.Equal(0, Volatile.Read(ref acceptedUncommitted));
    }

    [Fact]
    public void Options_NonPositiveAckWriteTimeout_FailsFastNamingIt() =>
        Assert.Contains("AckWriteTimeout", Assert.Throws<InvalidOperationException>(new MllpListenerOptions { AckWriteTimeout = TimeSpan.Zero }.Validate).Message, StringComparison.Ordinal);

    /// <summary>A store that commits what the pipeline hands it, in order: the listener's channel drained into a set.</summary>
    private sealed class DrainingStore : IReadingStore, IDisposable
    {
        private readonly ConcurrentDictionary<Observation, byte> stored = new(ReferenceEqualityComparer.Instance);
        private readonly ConcurrentDictionary<Observation, TaskCompletionSource<bool>> watched = new(ReferenceEqualityComparer.Instance);
        private readonly CancellationTokenSource stop = new();
        private readonly Task drain;

        public DrainingStore(ChannelReader<Observation> pipeline) => drain = Task.Run(async () =>
        {
            await foreach (var observation in pipeline.ReadAllAsync(stop.Token))
            {
                stored[observation] = 0;
                if (watched.TryRemove(observation, out var waiter))
                {
                    waiter.SetResult(true);
                }
            }
        });

        public int Count => stored.Count;

        public bool Holds(Observation observation) => stored.ContainsKey(observation);

        public Task<bool> WhenStored(Observation last) => watched.GetOrAdd(last, _ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public void Forget(Observation last) => watched.TryRemove(last, out _);

        public void Dispose()
        {
            stop.Cancel();
            try
            {
                drain.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }

            stop.Dispose();
        }
    }
}
