namespace Vitals.Devices.Hl7;

/// <summary>Configuration of <see cref="Hl7OruCodec"/>. Validate with <see cref="Validate"/> at startup.</summary>
public sealed class Hl7CodecOptions
{
    /// <summary>Default MSH-3 of our ACKs.</summary>
    public const string DefaultApplication = "VITALS";

    /// <summary>Default MSH-4 of our ACKs.</summary>
    public const string DefaultFacility = "VITALS";

    /// <summary>Our application name (ACK MSH-3).</summary>
    public string Application { get; set; } = DefaultApplication;

    /// <summary>Our facility name (ACK MSH-4).</summary>
    public string Facility { get; set; } = DefaultFacility;

    /// <summary>How a message is mapped to a chair.</summary>
    public Hl7ChairRule ChairRule { get; set; } = Hl7ChairRule.Feed;

    /// <summary>
    /// Key (PV1-3 location or bed, MSH-3.1, or OBX-18.1 depending on <see cref="ChairRule"/>) to chair id.
    /// Keys compare case-insensitively. Unmapped keys fall back to the feed's chair when it has one.
    /// </summary>
    public IDictionary<string, string> ChairMap { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Throws <see cref="InvalidOperationException"/> with a clear message when the options cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Application) || string.IsNullOrWhiteSpace(Facility))
        {
            throw new InvalidOperationException("Hl7: Application and Facility must not be empty.");
        }

        if (Application.AsSpan().IndexOfAny("|^~\\&\r\n") >= 0 || Facility.AsSpan().IndexOfAny("|^~\\&\r\n") >= 0)
        {
            throw new InvalidOperationException("Hl7: Application and Facility must not contain HL7 delimiters (|^~\\&).");
        }

        if (ChairRule != Hl7ChairRule.Feed && ChairMap.Count == 0)
        {
            throw new InvalidOperationException($"Hl7: ChairRule {ChairRule} needs at least one ChairMap entry (key -> chair id).");
        }

        foreach (var (key, chair) in ChairMap)
        {
            if (string.IsNullOrWhiteSpace(key) || string.IsNullOrWhiteSpace(chair))
            {
                throw new InvalidOperationException("Hl7: ChairMap keys and chair ids must not be empty.");
            }
        }
    }
}
