namespace Vitals.Devices.Hl7;

/// <summary>MSA-1 acknowledgment code (HL7 v2.x table 0008, original acknowledgment mode).</summary>
public enum Hl7AckCode
{
    /// <summary>AA: accepted; the observations are in the gateway's pipeline.</summary>
    Accept,

    /// <summary>AE: error; the sender may retransmit (GE B40 does, up to 3 attempts).</summary>
    Error,

    /// <summary>AR: rejected; the message type or version is not one we process. Senders do not retransmit.</summary>
    Reject,
}

/// <summary>How a message is mapped to a chair.</summary>
public enum Hl7ChairRule
{
    /// <summary>Every message on the feed belongs to the feed's configured chair (<see cref="DecodeContext.Chair"/>).</summary>
    Feed,

    /// <summary>PV1-3 point of care: the map key is the full location <c>unit^room^bed</c> or, failing that, the bed (PV1-3.3).</summary>
    Pv1Bed,

    /// <summary>MSH-3 sending application (namespace id, MSH-3.1): one monitor per chair.</summary>
    SendingApplication,

    /// <summary>OBX-18 equipment instance identifier (EI.1, often an EUI-64) of the row, or of the last row that carried one.</summary>
    EquipmentId,
}

/// <summary>The separators a message declares in MSH-1 and MSH-2 (HL7 v2.x MSH-1 field separator, MSH-2 encoding characters).</summary>
/// <param name="Field">MSH-1, usually <c>|</c>.</param>
/// <param name="Component">MSH-2.1, usually <c>^</c>.</param>
/// <param name="Repetition">MSH-2.2, usually <c>~</c>.</param>
/// <param name="Escape">MSH-2.3, usually <c>\</c>.</param>
/// <param name="Subcomponent">MSH-2.4, usually <c>&amp;</c>.</param>
public readonly record struct Hl7Separators(byte Field, byte Component, byte Repetition, byte Escape, byte Subcomponent)
{
    /// <summary>The recommended separators <c>|^~\&amp;</c>.</summary>
    public static Hl7Separators Standard { get; } = new((byte)'|', (byte)'^', (byte)'~', (byte)'\\', (byte)'&');

    /// <summary>True when these are the standard separators.</summary>
    public bool IsStandard => this == Standard;
}

/// <summary>Outcome of decoding one HL7 message. Header fields are ranges into the decoded message bytes (no copies).</summary>
public readonly record struct Hl7DecodeResult
{
    /// <summary>Whether the message was usable, and why not.</summary>
    public DecodeResult Result { get; init; }

    /// <summary>The acknowledgment the codec recommends (the caller downgrades AA to AE if it cannot keep the observations).</summary>
    public Hl7AckCode Ack { get; init; }

    /// <summary>HL7 table 0357 error code for the ERR segment (0 when accepted).</summary>
    public int ErrorCode { get; init; }

    /// <summary>Separators from MSH-1/MSH-2 (standard ones when MSH was unreadable).</summary>
    public Hl7Separators Separators { get; init; }

    /// <summary>Observations added to the sink.</summary>
    public int Accepted { get; init; }

    /// <summary>OBX rows whose identifier is not one of our signs.</summary>
    public int UnknownCodes { get; init; }

    /// <summary>OBX rows skipped: status X/D/W, non-numeric value, unknown or incompatible unit, no time.</summary>
    public int Skipped { get; init; }

    /// <summary>Values outside the sign's hard bounds.</summary>
    public int OutOfRange { get; init; }

    /// <summary>Rows that could not be mapped to a chair.</summary>
    public int Unmapped { get; init; }

    /// <summary>MSH-3 sending application (raw field, escapes kept).</summary>
    public Range SendingApplication { get; init; }

    /// <summary>MSH-4 sending facility (raw field).</summary>
    public Range SendingFacility { get; init; }

    /// <summary>MSH-9.2 trigger event (raw component).</summary>
    public Range TriggerEvent { get; init; }

    /// <summary>MSH-10 message control id (raw field).</summary>
    public Range ControlId { get; init; }

    /// <summary>MSH-12.1 version id (raw component).</summary>
    public Range Version { get; init; }
}
