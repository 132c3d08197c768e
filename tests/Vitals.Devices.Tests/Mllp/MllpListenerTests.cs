using System.Text;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Tests.Hl7;
using static Vitals.Devices.Tests.Mllp.TestListener;

namespace Vitals.Devices.Tests.Mllp;

public sealed class MllpListenerTests
{
    [Fact]
    public async Task Listener_ConcurrentClients_AcksEveryMessageAaWithItsControlId()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer);

        async Task<int> Client(int c)
        {
            await using var client = await ConnectAsync(listener);
            for (var m = 0; m < 5; m++)
            {
                var id = $"C{c}-M{m}";
                var ack = ParseAck(await client.SendAsync(Hl7TestData.EightObx(id), Generous));
                Assert.Equal(Hl7AckCode.Accept, ack.Code);
                Assert.Equal(id, ack.AcknowledgedControlId);
            }

            return c;
        }

        await Task.WhenAll(Enumerable.Range(0, 6).Select(Client)).WaitAsync(Generous);

        Assert.Equal(6 * 5 * 8, channel.Reader.Count);
        var stats = Assert.Single(listener.GetCounters());
        Assert.Equal("127.0.0.1", stats.Source);
        Assert.Equal(30, stats.FramesOk);
        Assert.Equal(0, stats.FramesBad);
        Assert.True(stats.Bytes > 30 * 800);
        Assert.NotNull(stats.LastFrameAt);
    }

    [Fact]
    public async Task Listener_BadMessageOnOneConnection_AnswersAeAndOtherConnectionKeepsWorking()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer);
        await using var bad = await ConnectAsync(listener);
        await using var good = await ConnectAsync(listener);

        var unusable = Hl7TestData.Message("MSH|^~\\&|M|F|||20261121101530||ORU^R01|BAD-1|P|2.6", "OBX|1|NM|999999^^MDC|1|5|/min|||||R");
        var ae = ParseAck(await bad.SendAsync(unusable, Generous));
        var aa = ParseAck(await good.SendAsync(Hl7TestData.EightObx("GOOD-1"), Generous));
        var notOru = ParseAck(await bad.SendAsync(Hl7TestData.Capture("adt_a01_not_oru.hl7"), Generous));
        var garbageThenGood = bad.SendRawAsync("\0\0junk"u8.ToArray());
        await garbageThenGood.WaitAsync(Generous);
        var again = ParseAck(await bad.SendAsync(Hl7TestData.EightObx("BAD-CONN-2"), Generous));

        Assert.Equal((Hl7AckCode.Error, "BAD-1"), (ae.Code, ae.AcknowledgedControlId));
        Assert.NotNull(ae.ErrorText);
        Assert.Equal((Hl7AckCode.Accept, "GOOD-1"), (aa.Code, aa.AcknowledgedControlId));
        Assert.Equal((Hl7AckCode.Reject, "ADT-1"), (notOru.Code, notOru.AcknowledgedControlId));
        Assert.Equal((Hl7AckCode.Accept, "BAD-CONN-2"), (again.Code, again.AcknowledgedControlId));
        var stats = Assert.Single(listener.GetCounters());
        Assert.Equal(2, stats.FramesOk);
        Assert.Equal(2, stats.FramesBad);
        Assert.Equal(6, stats.GarbageBytes);
        Assert.Equal(2, stats.Connected);
    }

    [Fact]
    public async Task Listener_ChannelFull_AnswersAeNeverAa()
    {
        var channel = Channel.CreateBounded<Observation>(4);
        await using var listener = Start(channel.Writer, o => (o.ChannelWriteTimeout, o.AckTimeout) = (TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(300)));
        await using var client = await ConnectAsync(listener);

        // Room for 4 of 8 and a pipeline that never drains: the message cannot be taken whole, so it is never AA.
        var ack = ParseAck(await client.SendAsync(Hl7TestData.EightObx("FULL-1"), Generous));

        Assert.Equal(Hl7AckCode.Error, ack.Code);
        Assert.Equal("FULL-1", ack.AcknowledgedControlId);
        Assert.Contains("retransmit", ack.ErrorText, StringComparison.Ordinal);
        Assert.Equal(1, Assert.Single(listener.GetCounters()).FramesBad);
    }

    [Fact]
    public async Task Listener_ClientDropsMidFrame_OtherConnectionUnaffected()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer);
        await using var stays = await ConnectAsync(listener);
        var drops = await ConnectAsync(listener);
        var framed = MllpEncoder.Frame(Hl7TestData.EightObx("DROP"));
        await drops.SendRawAsync(framed.AsMemory(0, framed.Length / 2)).WaitAsync(Generous);
        await drops.DisposeAsync();

        var ack = ParseAck(await stays.SendAsync(Hl7TestData.EightObx("STAYS"), Generous));

        Assert.Equal((Hl7AckCode.Accept, "STAYS"), (ack.Code, ack.AcknowledgedControlId));
        Assert.Equal(8, channel.Reader.Count);
    }

    [Fact]
    public async Task Listener_OversizeFrame_DiscardedAndConnectionKeepsWorking()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer, o => o.MaxFrameSize = 4096);
        await using var client = await ConnectAsync(listener);

        await client.SendRawAsync(MllpEncoder.Frame(Encoding.ASCII.GetBytes("MSH|^~\\&|" + new string('X', 100_000)))).WaitAsync(Generous);
        var ack = ParseAck(await client.SendAsync(Hl7TestData.EightObx("AFTER"), Generous));

        Assert.Equal((Hl7AckCode.Accept, "AFTER"), (ack.Code, ack.AcknowledgedControlId));
        var stats = Assert.Single(listener.GetCounters());
        Assert.Equal(1, stats.FramesBad);
        Assert.Equal(1, stats.FramesOk);
    }

    [Fact]
    public async Task ReplaceCodec_OpenConnection_NextMessageUsesNewChairMapOnSameConnection()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer, o => o.Chair = "", Hl7TestData.Codec(Hl7ChairRule.Pv1Bed, ("CHAIR-02", "chair-2"))); // no fallback chair: unmapped is AE
        await using var client = await ConnectAsync(listener);

        var before = ParseAck(await client.SendAsync(Hl7TestData.EightObx("R1"), Generous)); // PV1-3 bed CHAIR-01: not in the map
        var next = Hl7TestData.Codec(Hl7ChairRule.Pv1Bed, ("CHAIR-01", "chair-7"));
        listener.ReplaceCodec(next);
        var after = ParseAck(await client.SendAsync(Hl7TestData.EightObx("R2"), Generous));

        Assert.Equal((Hl7AckCode.Error, "R1"), (before.Code, before.AcknowledgedControlId));
        Assert.Equal((Hl7AckCode.Accept, "R2"), (after.Code, after.AcknowledgedControlId));
        Assert.Same(next, listener.Codec);
        Assert.Equal(8, channel.Reader.Count);
        Assert.True(channel.Reader.TryRead(out var first));
        Assert.Equal("chair-7", first.Chair);
        var stats = Assert.Single(listener.GetCounters());
        Assert.Equal((1L, 1L, 1), (stats.FramesOk, stats.FramesBad, stats.Connected));
        Assert.Equal(0, listener.ConnectionFaults);
    }

    [Fact]
    public async Task StopAsync_WithOpenConnections_ClosesThemPromptly()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        var listener = Start(channel.Writer);
        await using var client = await ConnectAsync(listener);
        await client.SendAsync(Hl7TestData.EightObx("S1"), Generous);

        await listener.DisposeAsync().AsTask().WaitAsync(Generous);

        Assert.Equal(0, listener.ActiveConnections);
        await Assert.ThrowsAnyAsync<Exception>(() => client.SendAsync(Hl7TestData.EightObx("S2"), TimeSpan.FromSeconds(2)));
    }

    /// <summary>Asks the kernel (ss from iproute2) which timer the accepted connection runs: a pulled cable is only ever noticed by keep-alive probes.</summary>
    [Theory]
    [InlineData(7, "timer:(keepalive,")]
    [InlineData(0, null)]
    public async Task AcceptedConnection_KeepAliveIdle_KernelRunsKeepAliveTimer(int idleSeconds, string? timer)
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer, o => o.KeepAliveIdle = TimeSpan.FromSeconds(idleSeconds));
        await using var client = await ConnectAsync(listener);
        await client.SendAsync(Hl7TestData.EightObx("K1"), Generous); // acknowledged: the connection is being served

        var port = listener.LocalEndPoint!.Port;
        var ss = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ss", ["-tnoH", "state", "established", $"( sport = :{port} )"]) { RedirectStandardOutput = true })!;
        var line = (await ss.StandardOutput.ReadToEndAsync()).Trim();
        await ss.WaitForExitAsync();

        Assert.Contains($":{port}", line, StringComparison.Ordinal);
        if (timer is null)
        {
            Assert.DoesNotContain("keepalive", line, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(timer, line, StringComparison.Ordinal);
            // ss prints the time left as [Nmin][S(sec|.)][MMMms]: under a minute means the configured idle time
            // counts down, not the kernel's default of 2 h.
            var left = System.Text.RegularExpressions.Regex.Match(line, @"keepalive,([^,]+),");
            Assert.True(left.Success, line);
            Assert.DoesNotContain("min", left.Groups[1].Value, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Options_KeepAliveIdleNotWholeSeconds_FailsFastNamingIt()
    {
        var error = Assert.Throws<InvalidOperationException>(new MllpListenerOptions { KeepAliveIdle = TimeSpan.FromMilliseconds(1500) }.Validate);
        Assert.Contains("KeepAliveIdle", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_InvalidAddress_FailsFastWithClearMessage()
    {
        var options = new MllpListenerOptions { Address = "localhost:2575" };

        var error = Assert.Throws<InvalidOperationException>(options.Validate);

        Assert.Contains("not an IP address", error.Message, StringComparison.Ordinal);
    }
}

public sealed class MllpClientTests
{
    [Fact]
    public async Task SendAsync_PeerNeverAcks_ThrowsTimeout()
    {
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        await using var client = await MllpClient.ConnectAsync("127.0.0.1", port, TimeSpan.FromSeconds(5));
        using var accepted = await silent.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(5));

        await Assert.ThrowsAsync<TimeoutException>(() => client.SendAsync(Hl7TestData.EightObx(), TimeSpan.FromMilliseconds(300)))
            .WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Options_DeviceTimeZoneId_ResolvesIanaZone()
    {
        var options = new MllpListenerOptions { DeviceTimeZoneId = "Europe/London" };

        options.Validate();

        Assert.Equal("Europe/London", options.DeviceTimeZone.Id);
        Assert.Throws<InvalidOperationException>(new MllpListenerOptions { DeviceTimeZoneId = "Mars/Olympus" }.Validate);
    }
}
