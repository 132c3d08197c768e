using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Tests.Hl7;
using static Vitals.Devices.Tests.Mllp.TestListener;

namespace Vitals.Devices.Tests.Mllp;

/// <summary>Idle connections, however many and from however many addresses, never keep a sending monitor out.</summary>
public sealed class MllpListenerStarvationTests
{
    /// <summary>Opens a TCP connection from <paramref name="from"/> (any 127.x.y.z works on Linux loopback) that sends nothing.</summary>
    private static async Task<Socket> OpenIdle(int port, string from)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(Generous);
        return socket;
    }

    private static async Task<bool> ClosedByPeer(Socket socket)
    {
        var buffer = new byte[16];
        try
        {
            using var cts = new CancellationTokenSource(Generous);
            return await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static Hl7Ack Send(byte[] ack)
    {
        Assert.True(Hl7Ack.TryParse(ack, out var parsed), Encoding.ASCII.GetString(ack));
        return parsed!;
    }

    [Fact]
    public async Task Listener_HundredsOfIdleConnectionsFromManyAddresses_NewSenderGetsAa()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer, o => o.MaxConnections = 256);
        var port = listener.LocalEndPoint!.Port;
        var idle = new List<Socket>();
        try
        {
            // 400 silent connections from 40 addresses (10 each, under the per-address cap): more than the listener holds.
            for (var i = 0; i < 400; i++)
            {
                idle.Add(await OpenIdle(port, $"127.1.{i / 10}.1"));
            }

            await WaitUntil(() => listener.Evicted + listener.Refused >= 400 - 256);

            await using var monitor = await MllpClient.ConnectAsync("127.0.0.1", port, Generous);
            var ack = Send(await monitor.SendAsync(Hl7TestData.EightObx("LEGIT-1"), Generous));
            var again = Send(await monitor.SendAsync(Hl7TestData.EightObx("LEGIT-2"), Generous));

            Assert.Equal((Hl7AckCode.Accept, "LEGIT-1"), (ack.Code, ack.AcknowledgedControlId));
            Assert.Equal((Hl7AckCode.Accept, "LEGIT-2"), (again.Code, again.AcknowledgedControlId));
            Assert.Equal(0, listener.Refused); // idle connections always make room
            // An evicted connection is counted at once but closes on its own task: wait for the count to settle.
            await WaitUntil(() => listener.ActiveConnections <= 256 + 1);
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Listener_OneAddressOpensManyIdleConnections_CappedAndItsOwnOldestMakesRoom()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer, o => o.MaxConnectionsPerSource = 5);
        var port = listener.LocalEndPoint!.Port;
        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < 300; i++)
            {
                idle.Add(await OpenIdle(port, "127.0.0.9"));
            }

            // Everything but the 5 newest from that address was closed; a monitor at another address is untouched.
            // Wait for all three counts: the accept loop can still be behind the client's connects, and an accepted
            // connection can count as connected before the one it evicted has finished closing.
            await WaitUntil(() => listener.Evicted == 295 && listener.ActiveConnections == 5
                && listener.GetCounters().Single(s => s.Source == "127.0.0.9").Connected == 5);
            Assert.True(await ClosedByPeer(idle[0]));
            await using var monitor = await MllpClient.ConnectAsync("127.0.0.1", port, Generous);
            var ack = Send(await monitor.SendAsync(Hl7TestData.EightObx("OTHER-1"), Generous));

            Assert.Equal(Hl7AckCode.Accept, ack.Code);
            Assert.Equal(295, listener.Evicted);
            Assert.Equal(5, listener.GetCounters().Single(s => s.Source == "127.0.0.9").Connected);
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Listener_NoCompleteMessageForIdleTimeout_ClosesConnectionButNotAnActiveOne()
    {
        // The listener's clock moves only when the test says so: a busy machine cannot make the active connection look idle.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 8, 0, 0, TimeSpan.Zero));
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer, o => o.IdleTimeout = TimeSpan.FromSeconds(1), time: time);
        var port = listener.LocalEndPoint!.Port;
        using var silent = await OpenIdle(port, "127.0.0.1");
        using var slow = await OpenIdle(port, "127.0.0.1");
        await using var active = await MllpClient.ConnectAsync("127.0.0.1", port, Generous);
        await slow.SendAsync("\u000bMSH|^~\\&|"u8.ToArray(), SocketFlags.None); // a frame that is never finished
        await WaitUntil(() => listener.ActiveConnections == 3, "all three connections accepted");

        var sends = 0;
        var closed = Task.WhenAll(ClosedByPeer(silent), ClosedByPeer(slow));
        while (!closed.IsCompleted)
        {
            // Keeps completing messages, more often than the idle timeout: never closed. The listener restarts the idle
            // timer just after writing the ACK, so two steps can pass between restarts: 2 x 300 ms stays under 1 s.
            Assert.Equal(Hl7AckCode.Accept, Send(await active.SendAsync(Hl7TestData.EightObx($"A-{sends++}"), Generous)).Code);
            time.Advance(TimeSpan.FromMilliseconds(300));
            await Task.Delay(20); // lets the closes reach the sockets
        }

        var results = await closed;
        Assert.Equal([true, true], results);
        Assert.Equal(Hl7AckCode.Accept, Send(await active.SendAsync(Hl7TestData.EightObx("A-last"), Generous)).Code);
        Assert.Equal(2, listener.IdleClosed);
        Assert.Equal(0, listener.Evicted);
    }

    [Fact]
    public void Options_BadIdleTimeoutOrPerSourceCap_FailsFastNamingIt()
    {
        Assert.Contains("IdleTimeout", Assert.Throws<InvalidOperationException>(new MllpListenerOptions { IdleTimeout = TimeSpan.Zero }.Validate).Message, StringComparison.Ordinal);
        Assert.Contains("MaxConnectionsPerSource", Assert.Throws<InvalidOperationException>(new MllpListenerOptions { MaxConnectionsPerSource = 0 }.Validate).Message, StringComparison.Ordinal);
    }
}
