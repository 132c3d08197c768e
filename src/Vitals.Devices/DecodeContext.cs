namespace Vitals.Devices;

/// <summary>
/// What a codec needs to know about the feed a frame came from. Codecs take time only from here. A struct: feeds make
/// one per frame (per MQTT message: ~60 of ~730 bytes the gateway allocated per message, <c>mqtt-ingest --alloc</c>).
/// </summary>
/// <param name="Site">Clinic site.</param>
/// <param name="Chair">Chair the feed is bound to, or empty when the message itself names the chair.</param>
/// <param name="Device">Configured device id; codecs may replace it with one the frame carries.</param>
/// <param name="ReceivedAt">When the frame arrived.</param>
/// <param name="DeviceTimeZone">Time zone for device times that carry no offset.</param>
public readonly record struct DecodeContext(string Site, string Chair, string Device, DateTimeOffset ReceivedAt, TimeZoneInfo DeviceTimeZone);

/// <summary>The outcome of decoding one frame.</summary>
/// <param name="Ok">False when the frame could not be used at all; it is then counted as bad.</param>
/// <param name="Error">Why the frame was bad, for counters, logs and <c>vitals decode</c>.</param>
public readonly record struct DecodeResult(bool Ok, string? Error)
{
    /// <summary>A frame that decoded (possibly to zero observations, for example all values missing).</summary>
    public static DecodeResult Success { get; } = new(true, null);

    /// <summary>A frame that could not be used.</summary>
    public static DecodeResult Bad(string error) => new(false, error);
}
