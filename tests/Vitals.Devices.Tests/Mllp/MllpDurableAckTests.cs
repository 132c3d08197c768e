using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Tests.Hl7;
using static Vitals.Devices.Tests.Mllp.TestListener;

namespace Vitals.Devices.Tests.Mllp;

/// <summary>
/// What an HL7 ACK promises: AA only for a message whose readings are all kept (queued whole, committed when a store is
/// set), AE with nothing kept otherwise, and always one well-formed MLLP frame.
/// </summary>
public sealed class MllpDurableAckTests
{
    [Fact]
    public async Task Listener_WithStore_AnswersAaOnlyAfterCommit()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        var store = new ManualStore();
        await using var listener = Start(channel.Writer, o => o.Store = store);
        await using var client = await ConnectAsync(listener);

        var ack = client.SendAsync(Hl7TestData.EightObx("D-1"), Generous);
        await WaitUntil(() => channel.Reader.Count == 8);
        await WaitUntil(() => store.Watched.Count == 1);
        await Task.Delay(300); // the ACK must still be held: nothing is committed yet
        Assert.False(ack.IsCompleted);

        var last = store.Watched.Keys.Single();
        Assert.Same(last, channel.Reader.ReadAllAsync().ToBlockingEnumerable().Take(8).Last()); // it watches the message's last reading
        store.Commit(last);

        Assert.Equal((Hl7AckCode.Accept, "D-1"), (ParseAck(await ack).Code, ParseAck(await ack).AcknowledgedControlId));
    }

    [Fact]
    public async Task Listener_StoreNeverConfirms_AnswersAeAfterAckTimeout()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        var store = new ManualStore();
        await using var listener = Start(channel.Writer, o => (o.Store, o.AckTimeout) = (store, TimeSpan.FromMilliseconds(300)));
        await using var client = await ConnectAsync(listener);

        var ack = ParseAck(await client.SendAsync(Hl7TestData.EightObx("D-2"), Generous));

        Assert.Equal((Hl7AckCode.Error, "D-2"), (ack.Code, ack.AcknowledgedControlId));
        Assert.Contains("retransmit", ack.ErrorText, StringComparison.Ordinal);
        Assert.Empty(store.Watched); // no waiter left behind
        Assert.Equal(1, Assert.Single(listener.GetCounters()).FramesBad);
    }

    [Fact]
    public async Task Listener_StoreWillNotKeepTheReadings_AnswersAeAtOnceNotAa()
    {
        // The gateway's store failing with its memory hold full: the readings are judged, but the AE tells the monitor
        // they are not kept, long before the ack timeout.
        var channel = Channel.CreateUnbounded<Observation>();
        var store = new ManualStore();
        await using var listener = Start(channel.Writer, o => (o.Store, o.AckTimeout) = (store, TimeSpan.FromMinutes(5)));
        await using var client = await ConnectAsync(listener);

        var sent = client.SendAsync(Hl7TestData.EightObx("D-9"), Generous);
        await WaitUntil(() => store.Watched.Count == 1);
        store.Refuse(store.Watched.Keys.Single());
        var ack = ParseAck(await sent);

        Assert.Equal((Hl7AckCode.Error, "D-9"), (ack.Code, ack.AcknowledgedControlId));
        Assert.Equal(MllpSerialCodec.NotRecordedText, ack.ErrorText);
        Assert.Equal(8, channel.Reader.Count); // judged all the same
    }

    [Fact]
    public async Task Listener_ChannelFillsMidMessage_QueuesWholeMessageOnceAndAnswersAa()
    {
        // Room for 4 of 8 readings; the pipeline frees room only after the first reading's write timeout has passed.
        // The old listener queued 4, answered AE, and the retransmit stored those 4 twice.
        var channel = Channel.CreateBounded<Observation>(4);
        await using var listener = Start(channel.Writer, o => o.ChannelWriteTimeout = TimeSpan.FromMilliseconds(200));
        await using var client = await ConnectAsync(listener);
        var taken = new List<Observation>();

        var ack = client.SendAsync(Hl7TestData.EightObx("HALF-1"), Generous);
        await WaitUntil(() => channel.Reader.Count == 4);
        await Task.Delay(600);
        while (taken.Count < 8)
        {
            taken.Add(await channel.Reader.ReadAsync().AsTask().WaitAsync(Generous));
        }

        var parsed = ParseAck(await ack);
        Assert.Equal((Hl7AckCode.Accept, "HALF-1"), (parsed.Code, parsed.AcknowledgedControlId));
        Assert.Equal(8, taken.Select(o => o.Sign).Distinct().Count());
    }

    [Fact]
    public async Task Listener_ChannelFullForWholeTimeout_AnswersAeAndQueuesNothingOfTheMessage()
    {
        var channel = Channel.CreateBounded<Observation>(4);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(channel.Writer.TryWrite(new Observation("clinic", "other", "d", Sign.Hr, 60, default, default, SourceProtocol.Mqtt)));
        }

        await using var listener = Start(channel.Writer, o => o.ChannelWriteTimeout = TimeSpan.FromMilliseconds(200));
        await using var client = await ConnectAsync(listener);

        var ack = ParseAck(await client.SendAsync(Hl7TestData.EightObx("FULL-2"), Generous));
        var left = new List<Observation>();
        while (channel.Reader.TryRead(out var o))
        {
            left.Add(o);
        }

        Assert.Equal(Hl7AckCode.Error, ack.Code);
        Assert.Contains("not stored", ack.ErrorText, StringComparison.Ordinal);
        Assert.All(left, o => Assert.Equal("other", o.Chair));
        Assert.Equal(4, left.Count);
    }

    [Fact]
    public async Task Listener_RowForUnmappedEquipment_AnswersAeAndQueuesNoRowOfTheMessage()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer, o => o.Chair = "", Hl7TestData.Codec(Hl7ChairRule.EquipmentId, ("EUI-A", "chair-a"))); // no fallback chair
        await using var client = await ConnectAsync(listener);
        var message = Hl7TestData.Message(
            "MSH|^~\\&|GW|F|||20261121101530+0000||ORU^R01|U-1|P|2.6",
            "OBR|1|||x|||20261121101500+0000",
            "OBX|1|NM|147842^^MDC|1.1.1.1|70|/min|||||R|||||||EUI-A",
            "OBR|2|||x|||20261121101500+0000",
            "OBX|2|NM|147842^^MDC|1.1.1.1|90|/min|||||R|||||||EUI-UNKNOWN");

        var ack = ParseAck(await client.SendAsync(message, Generous));

        Assert.Equal((Hl7AckCode.Error, "U-1"), (ack.Code, ack.AcknowledgedControlId));
        Assert.Contains("EUI-UNKNOWN", ack.ErrorText, StringComparison.Ordinal);
        Assert.Equal(0, channel.Reader.Count);
    }

    [Fact]
    public async Task Listener_GarbageAndFrameInOneRead_GarbageCountedBeforeTheAck()
    {
        var channel = Channel.CreateUnbounded<Observation>();
        long garbageSeenWhileAnswering = -1;
        MllpListener? self = null;
        await using var listener = Start(channel.Writer, o => o.MessageHandled = (_, _) =>
            garbageSeenWhileAnswering = self!.GetCounters().Single().GarbageBytes);
        self = listener;
        await using var client = await ConnectAsync(listener);

        await client.SendRawAsync((byte[])[.. "\0\0junk"u8, .. MllpEncoder.Frame(Hl7TestData.EightObx("G-1"))]);
        var ack = ParseAck(await client.ReceiveAsync(Generous));

        Assert.Equal(Hl7AckCode.Accept, ack.Code);
        Assert.Equal(6, garbageSeenWhileAnswering);
        Assert.Equal(6, listener.GetCounters().Single().GarbageBytes);
    }

    [Theory]
    [InlineData("MSH|^~\\&|MON\u001c1|F\u000b|||20261121101530+0000||ORU^R01|X\u001c|P|2.6", "X\\X1C\\")]
    [InlineData("MSH|^~\\&|MON1|F|||20261121101530+0000||ORU^R01|A\u000bB\u0000C\u001c\u007f|P|2.6", "A\\X0B\\B\\X00\\C\\X1C\\\\X7F\\")]
    [InlineData("MSH|^~\\&|MON1|F|||20261121101530+0000||ORU^R01|Z\u001c|P|2\u001c.6", "Z\\X1C\\")]
    public void SerialCodec_ControlCharactersInMshIds_AckIsOneWellFormedFrame(string msh, string escapedId)
    {
        var codec = new MllpSerialCodec(Hl7TestData.Codec(), Hl7TestData.Received);
        var message = Hl7TestData.Message(msh, "OBX|1|NM|147842^^MDC|1.1.1.1|70|/min|||||R");

        codec.Decode(message, Hl7TestData.Context("chair-1"), new List<Observation>());
        var reply = codec.Reply.ToArray();

        AssertOneFrame(reply);
        var text = Encoding.Latin1.GetString(reply);
        Assert.Contains("MSA|AA|" + escapedId + "\r", text, StringComparison.Ordinal);
        AssertOneFrame(codec.NotStoredReply.ToArray());
    }

    internal static void AssertOneFrame(byte[] framed)
    {
        Assert.Equal(MllpFrameReader.StartBlock, framed[0]);
        Assert.Equal([MllpFrameReader.EndBlock, MllpFrameReader.CarriageReturn], framed[^2..]);
        var body = framed[1..^2];
        Assert.DoesNotContain(body, b => b is < 0x20 and not 0x0D or 0x7F);
        var reader = new MllpFrameReader();
        var all = new System.Buffers.ReadOnlySequence<byte>(framed);
        Assert.True(reader.TryReadFrame(ref all, out var frame));
        Assert.Equal(body.Length, frame.Length);
        Assert.True(all.IsEmpty);
    }


    /// <summary>A store whose commits the test performs by hand (the real one is the gateway's StoreWriter).</summary>
    private sealed class ManualStore : IReadingStore
    {
        public ConcurrentDictionary<Observation, TaskCompletionSource<bool>> Watched { get; } = new(ReferenceEqualityComparer.Instance);

        public Task<bool> WhenStored(Observation last) => Watched.GetOrAdd(last, _ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public void Forget(Observation last) => Watched.TryRemove(last, out _);

        public void Commit(Observation last)
        {
            Assert.True(Watched.TryRemove(last, out var waiter));
            waiter.SetResult(true);
        }

        public void Refuse(Observation last)
        {
            Assert.True(Watched.TryRemove(last, out var waiter));
            waiter.SetResult(false);
        }
    }
}
