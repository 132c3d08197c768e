using System.Buffers;
using System.Text;
using Vitals.Devices.Line;

namespace Vitals.Devices.Tests.Line;

public class LineFramerTests
{
    private static List<string> Frames(LineFramer framer, ref ReadOnlySequence<byte> buffer)
    {
        var frames = new List<string>();
        while (framer.TryReadFrame(ref buffer, out var frame))
        {
            frames.Add(Encoding.ASCII.GetString(frame.ToArray()));
        }

        return frames;
    }

    [Fact]
    public void TryReadFrame_CrLfLfAndBlankLines_YieldsLinesWithoutTerminators()
    {
        var framer = new LineFramer();
        var buffer = new ReadOnlySequence<byte>("one\r\ntwo\n\r\n\nthree\r\npartial"u8.ToArray());

        var frames = Frames(framer, ref buffer);

        Assert.Equal(["one", "two", "three"], frames);
        Assert.Equal("partial", Encoding.ASCII.GetString(buffer.ToArray()));
        Assert.Equal(0, framer.OverlongFrames);
    }

    [Fact]
    public void TryReadFrame_OverlongWithoutNewline_DiscardsUntilNextNewlineAndCountsOnce()
    {
        var framer = new LineFramer(maxFrameBytes: 16);
        var buffer = new ReadOnlySequence<byte>(new byte[40]); // 40 NULs, no newline

        Assert.Empty(Frames(framer, ref buffer));
        Assert.True(buffer.IsEmpty); // memory stays bounded: nothing kept
        Assert.Equal(1, framer.OverlongFrames);

        buffer = new ReadOnlySequence<byte>("more garbage\nok line\n"u8.ToArray());
        Assert.Equal(["ok line"], Frames(framer, ref buffer));
        Assert.Equal(1, framer.OverlongFrames);
    }

    [Fact]
    public void TryReadFrame_OverlongCompleteLine_SkippedAndCounted()
    {
        var framer = new LineFramer(maxFrameBytes: 16);
        var buffer = new ReadOnlySequence<byte>("this line is much too long\r\nshort\r\n"u8.ToArray());

        Assert.Equal(["short"], Frames(framer, ref buffer));
        Assert.Equal(1, framer.OverlongFrames);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(2_000_000)]
    public void Constructor_UnreasonableMaximum_Throws(int max) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LineFramer(max));
}
