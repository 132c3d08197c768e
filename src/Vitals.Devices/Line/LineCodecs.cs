using Vitals.Devices.Masimo;

namespace Vitals.Devices.Line;

/// <summary>Creates line codecs by protocol name, for configuration and <c>vitals decode</c>.</summary>
public static class LineCodecs
{
    /// <summary>Protocol names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Protocols { get; } = ["masimo", "line"];

    /// <summary>
    /// Creates a fresh codec (one per feed or per file). <paramref name="protocol"/> is <c>masimo</c> or <c>line</c>;
    /// <c>line</c> needs <paramref name="lineConfigJson"/> (see hardware-docs/serial-and-usb.md).
    /// Throws <see cref="ArgumentException"/> or <see cref="LineConfigException"/> with a message naming the problem.
    /// </summary>
    public static ILineCodec Create(string protocol, string? lineConfigJson = null, int maxFrameBytes = LineFramer.DefaultMaxFrameBytes) =>
        protocol?.ToUpperInvariant() switch
        {
            "MASIMO" => new MasimoCodec(maxFrameBytes),
            "LINE" when string.IsNullOrWhiteSpace(lineConfigJson) =>
                throw new ArgumentException("protocol 'line' needs a line-device configuration (JSON map file).", nameof(lineConfigJson)),
            "LINE" => LineCodec.FromJson(lineConfigJson!),
            _ => throw new ArgumentException($"protocol: '{protocol}' is not one of {string.Join(", ", Protocols)}.", nameof(protocol)),
        };
}
