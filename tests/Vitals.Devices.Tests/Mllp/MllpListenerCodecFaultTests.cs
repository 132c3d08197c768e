using System.Threading.Channels;
using Vitals.Core;
using Vitals.Devices.Hl7;
using Vitals.Devices.Tests.Hl7;
using static Vitals.Devices.Tests.Mllp.TestListener;

namespace Vitals.Devices.Tests.Mllp;

/// <summary>Inputs the mutation fuzzer found crashing the HL7 codec, sent through a real MLLP connection.</summary>
public sealed class MllpListenerCodecFaultTests
{
    [Theory]
    [InlineData("MSH\n^AAAA")]
    [InlineData("MSH\r^AAA|")]
    public async Task Listener_MshEndsBeforeSeparator_AnswersAeAndKeepsConnection(string message)
    {
        var channel = Channel.CreateUnbounded<Observation>();
        await using var listener = Start(channel.Writer);
        await using var client = await ConnectAsync(listener);

        Assert.True(Hl7Ack.TryParse(await client.SendAsync(System.Text.Encoding.ASCII.GetBytes(message), Generous), out var bad));
        Assert.NotEqual(Hl7AckCode.Accept, bad!.Code);

        // Same connection: the next good message is still read and accepted.
        Assert.True(Hl7Ack.TryParse(await client.SendAsync(Hl7TestData.EightObx("after-bad"), Generous), out var good));
        Assert.Equal((Hl7AckCode.Accept, "after-bad"), (good!.Code, good.AcknowledgedControlId));
        Assert.Equal(8, channel.Reader.Count);
    }
}
