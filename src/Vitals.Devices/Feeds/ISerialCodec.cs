using System.Buffers;
using Vitals.Core;

namespace Vitals.Devices.Feeds;

/// <summary>
/// What <see cref="SerialFeed"/> needs from a protocol: framing, decoding, and an optional reply to the device on the
/// same port. Pure: no I/O, no clock (time comes from <see cref="DecodeContext"/>). Line protocols get the framing part
/// from <see cref="Line.ILineCodec"/>; HL7 v2 over MLLP is <see cref="Mllp.MllpSerialCodec"/>.
/// Instances keep per-stream state (the framer, the last reply), so use one per feed.
/// </summary>
public interface ISerialCodec
{
    /// <summary>The protocol stamped on observations.</summary>
    SourceProtocol Protocol { get; }

    /// <summary>
    /// The most unconsumed bytes the framer leaves in the buffer after <see cref="TryReadFrame"/> returns false;
    /// the feed sizes its read buffer from it, so memory stays bounded whatever arrives.
    /// </summary>
    int MaxFrameBytes { get; }

    /// <summary>Frames the framer discarded so far (overlong, cut short); each counts as one bad frame.</summary>
    long DiscardedFrames { get; }

    /// <summary>Why <see cref="DiscardedFrames"/> were bad, for the feed's last error.</summary>
    string DiscardedFrameReason { get; }

    /// <summary>
    /// Technical conditions the device reported in the last good frame (for example <c>SensorOff</c>), for technical
    /// alarms and the dashboard; empty when none or when the protocol has no such field.
    /// </summary>
    IReadOnlyList<string> ActiveConditions => [];

    /// <summary>
    /// The bytes to send back to the device for the frame last passed to <see cref="Decode"/> (for example an
    /// MLLP-framed HL7 ACK), or empty when the protocol is one-way. Valid until the next <see cref="Decode"/>.
    /// <see cref="SerialFeed"/> writes it to the port only after every observation of that frame was accepted by its
    /// channel, so a positive acknowledgment never goes out for data the gateway did not take.
    /// </summary>
    ReadOnlyMemory<byte> Reply => ReadOnlyMemory<byte>.Empty;

    /// <summary>
    /// What to send instead of <see cref="Reply"/> when the frame decoded well but the gateway could not keep its
    /// observations (the store did not confirm them in time): for HL7 an AE, so the monitor retransmits.
    /// Empty when the protocol is one-way. Valid until the next <see cref="Decode"/>.
    /// </summary>
    ReadOnlyMemory<byte> NotStoredReply => ReadOnlyMemory<byte>.Empty;

    /// <summary>Forgets partial framing state (for example after a reconnect); counters are kept.</summary>
    void ResetFraming();

    /// <summary>
    /// Takes the next complete frame off <paramref name="buffer"/>. Returns false when more bytes are needed;
    /// <paramref name="buffer"/> then starts at the unconsumed bytes (at most <see cref="MaxFrameBytes"/> of them).
    /// </summary>
    bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame);

    /// <summary>Decodes one frame (without framing bytes), appending observations to <paramref name="output"/>. Never throws on bad input.</summary>
    DecodeResult Decode(ReadOnlySpan<byte> frame, DecodeContext context, ICollection<Observation> output);
}
