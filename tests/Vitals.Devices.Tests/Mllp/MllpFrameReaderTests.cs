using System.Buffers;
using System.Text;
using Vitals.Devices.Mllp;

namespace Vitals.Devices.Tests.Mllp;

public class MllpFrameReaderTests
{
    private static byte[] Framed(string text) => MllpEncoder.Frame(Encoding.ASCII.GetBytes(text));

    internal static List<string> ReadAll(MllpFrameReader reader, IEnumerable<byte[]> chunks)
    {
        // Simulates a PipeReader: unconsumed bytes are kept and new chunks appended.
        var frames = new List<string>();
        var pending = Array.Empty<byte>();
        foreach (var chunk in chunks)
        {
            pending = [.. pending, .. chunk];
            var buffer = new ReadOnlySequence<byte>(pending);
            while (reader.TryReadFrame(ref buffer, out var frame))
            {
                frames.Add(Encoding.Latin1.GetString(frame.ToArray()));
            }

            pending = buffer.ToArray();
        }

        return frames;
    }

    [Fact]
    public void TryReadFrame_TwoCoalescedFrames_ReturnsBoth()
    {
        var reader = new MllpFrameReader();

        var frames = ReadAll(reader, [[.. Framed("MSH|a"), .. Framed("MSH|b")]]);

        Assert.Equal(["MSH|a", "MSH|b"], frames);
        Assert.Equal(0, reader.GarbageBytes);
        Assert.Equal(0, reader.BadFrames);
    }

    [Fact]
    public void TryReadFrame_GarbageBeforeStartBlock_SkipsAndCounts()
    {
        var reader = new MllpFrameReader();

        var frames = ReadAll(reader, [Encoding.ASCII.GetBytes("noise\r\n"), Framed("MSH|a"), [0x00, 0xFF]]);

        Assert.Equal(["MSH|a"], frames);
        Assert.Equal(9, reader.GarbageBytes);
    }

    [Fact]
    public void TryReadFrame_PartialFrame_WaitsForMoreBytes()
    {
        var reader = new MllpFrameReader();
        var framed = Framed("MSH|partial");
        var buffer = new ReadOnlySequence<byte>(framed[..^1]);

        Assert.False(reader.TryReadFrame(ref buffer, out _));
        Assert.Equal(framed.Length - 1, buffer.Length); // nothing consumed

        Assert.Equal(["MSH|partial"], ReadAll(reader, [framed[..5], framed[5..^1], framed[^1..]]));
    }

    [Fact]
    public void TryReadFrame_LoneEndBlockInsideMessage_IsNotATrailer()
    {
        var reader = new MllpFrameReader();

        var frames = ReadAll(reader, [[0x0B, (byte)'A', 0x1C, (byte)'B', 0x1C, 0x0D]]);

        Assert.Equal(["A\u001cB"], frames);
    }

    [Fact]
    public void TryReadFrame_NewStartBeforeEnd_DropsTruncatedFrameAndCountsBad()
    {
        var reader = new MllpFrameReader();

        var frames = ReadAll(reader, [[0x0B, .. "MSH|cut"u8], Framed("MSH|next")]);

        Assert.Equal(["MSH|next"], frames);
        Assert.Equal(1, reader.TruncatedFrames);
        Assert.Equal(1, reader.BadFrames);
    }

    [Fact]
    public void TryReadFrame_OversizeFrameInSmallChunks_DiscardsWithBoundedMemory()
    {
        const int max = 4096;
        var reader = new MllpFrameReader(max);
        var maxPending = 0L;
        var frames = new List<string>();
        var pending = Array.Empty<byte>();

        IEnumerable<byte[]> Chunks()
        {
            yield return [0x0B, .. "MSH|"u8];
            var block = Enumerable.Repeat((byte)'X', 1000).ToArray();
            for (var i = 0; i < 10_000; i++)
            {
                yield return block; // 10 MB body
            }

            yield return [0x1C];
            yield return [0x0D];
            yield return Framed("MSH|after");
        }

        foreach (var chunk in Chunks())
        {
            pending = [.. pending, .. chunk];
            var buffer = new ReadOnlySequence<byte>(pending);
            while (reader.TryReadFrame(ref buffer, out var frame))
            {
                frames.Add(Encoding.ASCII.GetString(frame.ToArray()));
            }

            pending = buffer.ToArray();
            maxPending = Math.Max(maxPending, pending.Length);
        }

        Assert.Equal(["MSH|after"], frames);
        Assert.Equal(1, reader.OversizeFrames);
        Assert.True(maxPending <= max + 1000 + 2, $"kept {maxPending} bytes");
    }

    [Fact]
    public void TryReadFrame_OversizeFrameInOneBuffer_CountsBadAndContinues()
    {
        var reader = new MllpFrameReader(64);

        var frames = ReadAll(reader, [[.. Framed(new string('x', 100)), .. Framed("MSH|ok")]]);

        Assert.Equal(["MSH|ok"], frames);
        Assert.Equal(1, reader.OversizeFrames);
    }

    [Fact]
    public void Encode_RoundTrip_WritesBlocks()
    {
        var writer = new ArrayBufferWriter<byte>();
        MllpEncoder.Write(writer, "MSH|x"u8);

        Assert.Equal([0x0B, .. "MSH|x"u8, 0x1C, 0x0D], writer.WrittenSpan.ToArray());
        Assert.Equal(writer.WrittenSpan.ToArray(), MllpEncoder.Frame("MSH|x"u8));
    }
}

public sealed class MllpFrameReaderLinearTests
{
    /// <summary>
    /// A 1 MiB frame arriving 16 bytes per read through a real Pipe: the framer must examine each byte a bounded number
    /// of times. The old framer searched the whole pending frame again on every read (about 32 GiB examined here).
    /// </summary>
    [Theory]
    [InlineData(16)]
    [InlineData(1000)]
    public async Task TryReadFrame_OneMegabyteFrameInSmallReads_ScansLinearly(int chunk)
    {
        const int size = 1024 * 1024;
        var framed = MllpEncoder.Frame([.. "MSH|"u8, .. Enumerable.Repeat((byte)'X', size - 4)]);
        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 4096));
        var reader = new MllpFrameReader();
        var frames = 0;
        long frameLength = 0;

        for (var at = 0; at < framed.Length; at += chunk)
        {
            await pipe.Writer.WriteAsync(framed.AsMemory(at, Math.Min(chunk, framed.Length - at)));
            var read = await pipe.Reader.ReadAsync();
            var buffer = read.Buffer;
            while (reader.TryReadFrame(ref buffer, out var frame))
            {
                frames++;
                frameLength = frame.Length;
            }

            pipe.Reader.AdvanceTo(buffer.Start, read.Buffer.End);
        }

        Assert.Equal((1, (long)size), (frames, frameLength));
        Assert.InRange(reader.ScannedBytes, framed.Length, 2L * framed.Length);
    }

    [Fact]
    public void TryReadFrame_CallerMovesPendingBytes_StillFindsTheFrame()
    {
        // SerialFeed copies the unconsumed tail to the front of its buffer: the resume point must follow by offset.
        var reader = new MllpFrameReader();
        var framed = MllpEncoder.Frame("MSH|moved\u001cstill-body"u8);
        var frames = MllpFrameReaderTests.ReadAll(reader, [[.. "junk"u8, .. framed[..6]], framed[6..12], framed[12..^1], framed[^1..]]);

        Assert.Equal(["MSH|moved\u001cstill-body"], frames);
        Assert.Equal(4, reader.GarbageBytes);
    }
}
