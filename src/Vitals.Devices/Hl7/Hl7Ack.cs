namespace Vitals.Devices.Hl7;

/// <summary>A parsed acknowledgment (HL7 v2.x MSA segment).</summary>
/// <param name="Code">MSA-1.</param>
/// <param name="AcknowledgedControlId">MSA-2: the MSH-10 of the message being acknowledged.</param>
/// <param name="ErrorText">ERR-8 (or MSA-3) text when present.</param>
public sealed record Hl7Ack(Hl7AckCode Code, string AcknowledgedControlId, string? ErrorText)
{
    /// <summary>Reads MSA (and ERR) from an ACK message; false when it is not an ACK.</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out Hl7Ack? ack)
    {
        ack = null;
        if (message.Length < 9 || !message.StartsWith("MSH"u8))
        {
            return false;
        }

        var sep = new Hl7Separators(message[3], message[4], message[5], message[6], message[7]);
        Hl7Ack? found = null;
        string? error = null;
        Span<Range> f = stackalloc Range[10];
        foreach (var range in message.SplitAny("\r\n"u8))
        {
            var seg = message[range];
            var n = Hl7Text.Split(seg, sep.Field, f);
            if (seg.StartsWith("MSA"u8) && n > 2)
            {
                var code = seg[f[1]];
                var parsed = code.SequenceEqual("AA"u8) || code.SequenceEqual("CA"u8) ? Hl7AckCode.Accept
                    : code.SequenceEqual("AR"u8) || code.SequenceEqual("CR"u8) ? Hl7AckCode.Reject
                    : Hl7AckCode.Error;
                found = new Hl7Ack(parsed, Hl7OruCodec.GetText(seg, f[2], sep), n > 3 && !seg[f[3]].IsEmpty ? Hl7OruCodec.GetText(seg, f[3], sep) : null);
            }
            else if (seg.StartsWith("ERR"u8) && n > 8)
            {
                error = Hl7OruCodec.GetText(seg, f[8], sep);
            }
        }

        if (found is null)
        {
            return false;
        }

        ack = error is null ? found : found with { ErrorText = error };
        return true;
    }
}
