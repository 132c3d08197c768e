using System.Text;
using Vitals.Core;
using Vitals.Devices.Hl7;
using static Vitals.Devices.Tests.Hl7.Hl7TestData;

namespace Vitals.Devices.Tests.Hl7;

public class Hl7MalformedTests
{
    public static TheoryData<string, byte[]> Malformed()
    {
        var good = EightObx();
        var random = new Random(1234);
        var noise = new byte[2048];
        random.NextBytes(noise);
        var noisyTail = good.Concat(noise).ToArray();
        var flipped = (byte[])good.Clone();
        for (var i = 0; i < flipped.Length; i += 7)
        {
            flipped[i] = (byte)random.Next(256);
        }

        return new TheoryData<string, byte[]>
        {
            { "empty", [] },
            { "truncated in MSH", good[..20] },
            { "truncated after MSH", good[..120] },
            { "garbage text", Encoding.ASCII.GetBytes("hello world, this is not HL7\r") },
            { "binary noise", noise },
            { "missing MSH", Message("PID|||1", "OBX|1|NM|147842^^MDC|1|72|/min|||||R") },
            { "MSH without encoding chars", Encoding.ASCII.GetBytes("MSH|\r") },
            { "MSH only", Encoding.ASCII.GetBytes("MSH|^~\\&|A|B|||20261121||ORU^R01|1|P|2.6\r") },
            { "MSH ends before MSH-1 (CR)", Encoding.ASCII.GetBytes("MSH\r^AAA|") },
            { "MSH ends before MSH-1 (LF)", Encoding.ASCII.GetBytes("MSH\n^AAAA") },
            { "letters as separators", Encoding.ASCII.GetBytes("MSHAbcdeAfoo\r") },
            { "bit flips", flipped },
            { "no message type", Message("MSH|^~\\&|A|B|||20261121||||P|2.6", "OBX|1|NM|147842^^MDC|1|72|/min|||||R") },
            { "values not numbers", Message("MSH|^~\\&|A|B|||20261121||ORU^R01|1|P|2.6", "OBX|1|NM|147842^^MDC|1|NaN|/min|||||R", "OBX|2|NM|147842^^MDC|1|1e999|/min|||||R") },
            { "overlong fields", Message("MSH|^~\\&|" + new string('A', 5000) + "|B|||20261121||ORU^R01|" + new string('9', 3000) + "|P|2.6", "OBX|1|NM|" + new string('1', 400) + "|1|72|" + new string('x', 400) + "|||||R|||||||" + new string('E', 600)) },
            { "escape at end", Message("MSH|^~\\&|A\\|B\\X4|||20261121||ORU^R01|1|P|2.6", "OBX|1|NM|^MDC_ECG_\\|1|72|/min|||||R") },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Decode_MalformedInput_DoesNotThrowAndIsBad(string name, byte[] message)
    {
        var codec = Codec();
        var list = new List<Observation>();

        var result = codec.Decode(message, Context("chair"), list);
        var ack = codec.CreateAck(message, result, result.Ack, null, Received, "A1");

        Assert.False(result.Result.Ok, name);
        Assert.NotNull(result.Result.Error);
        Assert.NotEqual(Hl7AckCode.Accept, result.Ack);
        Assert.Empty(list);
        Assert.True(Hl7Ack.TryParse(ack, out var parsed), name);
        Assert.NotEqual(Hl7AckCode.Accept, parsed!.Code);
    }

    [Fact]
    public void Decode_NoiseAppendedAfterValidMessage_KeepsValidRows()
    {
        var noise = new byte[512];
        new Random(7).NextBytes(noise);
        var message = EightObx().Concat(noise).ToArray();

        var (result, obs) = Decode(Codec(), message);

        Assert.True(result.Result.Ok);
        Assert.Equal(8, obs.Count);
    }
}
