using System.Buffers;
using Vitals.Core;
using Vitals.Devices.Mllp;

namespace Vitals.Devices.Hl7;

/// <summary>One message (or one dropped stretch of bytes) found in a raw capture.</summary>
/// <param name="Offset">Byte offset in the capture where the message (or the bad stretch) starts.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="Result">Decode outcome; bad entries carry the reason.</param>
/// <param name="Ack">The acknowledgment the gateway would send (AE for bytes that were not a message).</param>
/// <param name="ControlId">MSH-10 when readable.</param>
/// <param name="Observations">Decoded observations (empty for bad entries).</param>
public sealed record Hl7CaptureMessage(long Offset, long Length, DecodeResult Result, Hl7AckCode Ack, string? ControlId, IReadOnlyList<Observation> Observations);

/// <summary>
/// Decodes a raw HL7 capture for tools such as <c>vitals decode --protocol hl7</c>: either MLLP-framed (a tcpdump/socat
/// payload dump) or plain messages separated by CR, LF or CRLF, each starting with an MSH segment. Pure; no I/O.
/// </summary>
public static class Hl7CaptureDecoder
{
    /// <summary>True when the capture uses MLLP framing (a start block appears before the first MSH).</summary>
    public static bool IsMllp(ReadOnlySpan<byte> capture)
    {
        var vt = capture.IndexOf(MllpFrameReader.StartBlock);
        var msh = capture.IndexOf("MSH"u8);
        return vt >= 0 && (msh < 0 || vt < msh);
    }

    /// <summary>Enumerates the messages of <paramref name="capture"/> in order, with byte offsets and decode results.</summary>
    public static IEnumerable<Hl7CaptureMessage> Decode(ReadOnlyMemory<byte> capture, Hl7OruCodec codec, DecodeContext context, int maxFrameSize = MllpFrameReader.DefaultMaxFrameSize)
    {
        ArgumentNullException.ThrowIfNull(codec);
        return IsMllp(capture.Span) ? DecodeMllp(capture, codec, context, maxFrameSize) : DecodePlain(capture, codec, context);
    }

    private static IEnumerable<Hl7CaptureMessage> DecodeMllp(ReadOnlyMemory<byte> capture, Hl7OruCodec codec, DecodeContext context, int maxFrameSize)
    {
        var framer = new MllpFrameReader(maxFrameSize);
        var all = new ReadOnlySequence<byte>(capture);
        var buffer = all;
        while (true)
        {
            var scanStart = all.Slice(0, buffer.Start).Length;
            var garbage = framer.GarbageBytes;
            var oversize = framer.OversizeFrames;
            var truncated = framer.TruncatedFrames;
            var found = framer.TryReadFrame(ref buffer, out var frame);
            if (framer.GarbageBytes > garbage)
            {
                var n = framer.GarbageBytes - garbage;
                yield return Bad(scanStart, n, $"{n} bytes outside MLLP blocks");
            }

            if (framer.TruncatedFrames > truncated)
            {
                yield return Bad(scanStart, 0, "MLLP frame truncated (new start block before the end block)");
            }

            if (framer.OversizeFrames > oversize)
            {
                yield return Bad(scanStart, 0, $"MLLP frame larger than {maxFrameSize} bytes");
            }

            if (!found)
            {
                if (!buffer.IsEmpty)
                {
                    yield return Bad(all.Slice(0, buffer.Start).Length, buffer.Length, "MLLP frame not terminated at end of capture");
                }

                yield break;
            }

            var offset = all.Slice(0, frame.Start).Length;
            yield return DecodeOne(frame.ToArray(), offset, codec, context);
        }
    }

    private static IEnumerable<Hl7CaptureMessage> DecodePlain(ReadOnlyMemory<byte> capture, Hl7OruCodec codec, DecodeContext context)
    {
        // Message boundaries: every segment that starts with MSH (HL7 v2.x ch. 2 message construction) begins a new message.
        var starts = new List<int>();
        var span = capture.Span;
        var lineStart = 0;
        while (lineStart < span.Length)
        {
            if (span[lineStart..].StartsWith("MSH"u8))
            {
                starts.Add(lineStart);
            }

            var eol = span[lineStart..].IndexOfAny((byte)'\r', (byte)'\n');
            if (eol < 0)
            {
                break;
            }

            lineStart += eol + 1;
        }

        if (starts.Count == 0 || starts[0] > 0)
        {
            var end = starts.Count == 0 ? span.Length : starts[0];
            if (!span[..end].Trim("\r\n \t"u8).IsEmpty)
            {
                yield return Bad(0, end, "bytes before the first MSH segment");
            }
        }

        for (var i = 0; i < starts.Count; i++)
        {
            var end = i + 1 < starts.Count ? starts[i + 1] : capture.Length;
            yield return DecodeOne(capture[starts[i]..end].ToArray(), starts[i], codec, context);
        }
    }

    private static Hl7CaptureMessage DecodeOne(byte[] message, long offset, Hl7OruCodec codec, DecodeContext context)
    {
        var observations = new List<Observation>();
        var result = codec.Decode(message, context, observations);
        var controlId = result.ControlId.End.Value > result.ControlId.Start.Value
            ? Hl7OruCodec.GetText(message, result.ControlId, result.Separators)
            : null;
        return new Hl7CaptureMessage(offset, message.Length, result.Result, result.Ack, controlId, observations);
    }

    private static Hl7CaptureMessage Bad(long offset, long length, string reason) =>
        new(offset, length, DecodeResult.Bad(reason), Hl7AckCode.Error, null, []);
}
