using System.Buffers;
using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Devices.Hl7;

namespace Vitals.Devices.Mllp;

/// <summary>
/// HL7 v2 ORU^R01 framed with MLLP over a serial or USB-serial tty (codec <c>hl7</c> of a <c>serial</c> device):
/// the <see cref="MllpFrameReader"/> frames, the <see cref="Hl7OruCodec"/> decodes, and every decoded message gets an
/// MLLP-framed ACK as its <see cref="Reply"/> (HL7 v2.x original acknowledgment mode): AA with the message's MSH-10
/// when its observations are usable, AE (with an ERR segment) or AR otherwise. <see cref="SerialFeed"/> sends the ACK
/// only after the observations were accepted, so AA never goes out for a dropped message. Frames the reader discards
/// (oversize, cut short by a new start block) carry no usable MSH-10 and get no ACK; they count as bad frames.
/// Pure (no I/O, no clock); one instance per feed.
/// </summary>
public sealed class MllpSerialCodec : ISerialCodec
{
    /// <summary>Default largest message on a serial line (64 KiB: a PCD-01 message with a few dozen OBX is a few KiB).</summary>
    public const int DefaultMaxFrameSize = 64 * 1024;

    /// <summary>ERR-8 of the AE sent when the store did not confirm a message's readings in time.</summary>
    public const string NotStoredText = "store did not confirm in time: observations may not be stored, please retransmit";

    /// <summary>AE text when the store will not keep the message's observations (writes failing, memory hold full).</summary>
    public const string NotRecordedText = "store failing: observations not stored, please retransmit";

    private readonly Hl7OruCodec codec;
    private readonly MllpFrameReader reader;
    private readonly MllpAckWriter acks;
    private readonly ArrayBufferWriter<byte> reply = new(512);
    private readonly ArrayBufferWriter<byte> notStored = new(512);

    /// <summary>Creates a codec.</summary>
    /// <param name="codec">The HL7 decoder; with its default chair rule every message belongs to the feed's chair.</param>
    /// <param name="startedAt">When the feed was created; makes the ACKs' own MSH-10 unique across restarts.</param>
    /// <param name="maxFrameSize">Largest message kept (bytes between the MLLP blocks); larger ones are discarded.</param>
    public MllpSerialCodec(Hl7OruCodec codec, DateTimeOffset startedAt, int maxFrameSize = DefaultMaxFrameSize)
    {
        this.codec = codec ?? throw new ArgumentNullException(nameof(codec));
        reader = new MllpFrameReader(maxFrameSize);
        acks = new MllpAckWriter(startedAt);
    }

    /// <inheritdoc/>
    public SourceProtocol Protocol => SourceProtocol.Hl7Mllp;

    /// <inheritdoc/>
    /// <remarks>An incomplete frame leaves at most its start block, the message and a pending end block.</remarks>
    public int MaxFrameBytes => reader.MaxFrameSize + MllpEncoder.Overhead;

    /// <inheritdoc/>
    public long DiscardedFrames => reader.BadFrames;

    /// <inheritdoc/>
    public string DiscardedFrameReason => $"MLLP frame longer than {reader.MaxFrameSize} bytes or cut short by a new start block; discarded without ACK";

    /// <summary>The acknowledgment code in <see cref="Reply"/> (meaningful after a <see cref="Decode"/>).</summary>
    public Hl7AckCode LastAck { get; private set; }

    /// <inheritdoc/>
    public ReadOnlyMemory<byte> Reply => reply.WrittenMemory;

    /// <inheritdoc/>
    public ReadOnlyMemory<byte> NotStoredReply => notStored.WrittenMemory;

    /// <inheritdoc/>
    public void ResetFraming() => reader.Reset();

    /// <inheritdoc/>
    public bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame) => reader.TryReadFrame(ref buffer, out frame);

    /// <summary>Decodes one message (the bytes between the MLLP blocks) and prepares its ACK in <see cref="Reply"/>.</summary>
    public DecodeResult Decode(ReadOnlySpan<byte> frame, DecodeContext context, ICollection<Observation> output)
    {
        reply.ResetWrittenCount();
        notStored.ResetWrittenCount();
        var result = codec.Decode(frame, context, output);
        LastAck = result.Ack;
        acks.Write(codec, frame, result, result.Ack, null, context.ReceivedAt, reply);
        if (result.Ack == Hl7AckCode.Accept)
        {
            acks.Write(codec, frame, result, Hl7AckCode.Error, NotStoredText, context.ReceivedAt, notStored);
        }

        return result.Result;
    }
}
