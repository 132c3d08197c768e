using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;
using Vitals.Devices.Tests.Hl7;

namespace Vitals.Devices.Tests.Mllp;

/// <summary>Inputs the mutation fuzzer found crashing the HL7 codec, sent through a real MLLP connection.</summary>
public sealed class MllpListenerCodecFaultTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("MSH\n^AAAA")]
    [InlineData("MSH\r^AAA|")]
    public async Task Listener_MshEndsBeforeSeparator_AnswersAeAndKeepsConnection(string message)
    {
        var channel = Channel.CreateUnbounded<Observation>();
        var options = new MllpListenerOptions { Address = "127.0.0.1", Port = 0, Site = "clinic", Chair = "chair-1" };
        await using var listener = new MllpListener(options, Hl7TestData.Codec(), channel.Writer, TimeProvider.System);
        listener.Start();
        await using var client = await MllpClient.ConnectAsync("127.0.0.1", listener.LocalEndPoint!.Port, Timeout);

        Assert.True(Hl7Ack.TryParse(await client.SendAsync(System.Text.Encoding.ASCII.GetBytes(message), Timeout), out var bad));
        Assert.NotEqual(Hl7AckCode.Accept, bad!.Code);

        // Same connection: the next good message is still read and accepted.
        Assert.True(Hl7Ack.TryParse(await client.SendAsync(Hl7TestData.EightObx("after-bad"), Timeout), out var good));
        Assert.Equal((Hl7AckCode.Accept, "after-bad"), (good!.Code, good.AcknowledgedControlId));
        Assert.Equal(8, channel.Reader.Count);
    }
}
