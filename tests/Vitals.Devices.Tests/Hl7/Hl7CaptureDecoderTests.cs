using System.Text;
using Vitals.Devices.Hl7;
using static Vitals.Devices.Tests.Hl7.Hl7TestData;

namespace Vitals.Devices.Tests.Hl7;

public class Hl7CaptureDecoderTests
{
    [Fact]
    public void Decode_MllpStream_ReportsMessagesWithOffsetsAndGarbage()
    {
        var capture = Capture("stream_mixed.mllp");

        var messages = Hl7CaptureDecoder.Decode(capture, Codec(), Context("c")).ToList();

        var good = messages.Where(m => m.Result.Ok).ToList();
        Assert.Equal(["GE000123", "GE000124", "MSG00001", "PH-20261121-0042"], good.Select(m => m.ControlId));
        Assert.All(good, m => Assert.Equal((byte)'M', capture[m.Offset]));
        Assert.Equal(8 + 8 + 7 + 8, good.Sum(m => m.Observations.Count));
        Assert.Equal(2, messages.Count(m => !m.Result.Ok)); // leading CRLF, then NUL NUL "garbage" CRLF
        Assert.Equal(2, messages.First(m => !m.Result.Ok).Length);
    }

    [Fact]
    public void Decode_PlainCaptureWithSeveralMessages_SplitsAtMsh()
    {
        var capture = Capture("ge_b40_ne_al.hl7").Concat(Capture("adt_a01_not_oru.hl7")).Concat(Capture("philips_mdil_hex_lf.hl7")).ToArray();

        var messages = Hl7CaptureDecoder.Decode(capture, Codec(), Context("c")).ToList();

        Assert.Equal(3, messages.Count);
        Assert.Equal(0, messages[0].Offset);
        Assert.Equal(Capture("ge_b40_ne_al.hl7").Length, messages[1].Offset);
        Assert.Equal([true, false, true], messages.Select(m => m.Result.Ok));
        Assert.Equal(Hl7AckCode.Reject, messages[1].Ack);
    }

    [Fact]
    public void Decode_UnterminatedMllpFrame_ReportedBadWithOffset()
    {
        var capture = Encoding.ASCII.GetBytes("\vMSH|^~\\&|cut off");

        var message = Assert.Single(Hl7CaptureDecoder.Decode(capture, Codec(), Context("c")));

        Assert.False(message.Result.Ok);
        Assert.Equal(0, message.Offset);
        Assert.Contains("not terminated", message.Result.Error, StringComparison.Ordinal);
    }
}
