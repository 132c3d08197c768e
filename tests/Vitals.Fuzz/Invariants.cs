using System.Buffers;
using System.Globalization;
using System.Text;
using Vitals.Core;
using Vitals.Devices;
using Vitals.Devices.Hl7;
using Vitals.Devices.Mllp;

namespace Vitals.Fuzz;

/// <summary>The promises every codec makes about what it outputs, whatever the input.</summary>
public static class Invariants
{
    /// <summary>When the frames were received; codecs take time only from the context.</summary>
    public static readonly DateTimeOffset ReceivedAt = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    /// <summary>The device time zones each input is decoded in: UTC and the two extremes either side of it.</summary>
    public static readonly IReadOnlyList<TimeZoneInfo> Zones =
    [
        TimeZoneInfo.Utc,
        TimeZoneInfo.CreateCustomTimeZone("fuzz+14", TimeSpan.FromHours(14), "fuzz+14", "fuzz+14"),
        TimeZoneInfo.CreateCustomTimeZone("fuzz-12", TimeSpan.FromHours(-12), "fuzz-12", "fuzz-12"),
    ];

    /// <summary>Throws <see cref="InvariantViolation"/> with <paramref name="message"/> unless <paramref name="condition"/>.</summary>
    public static void That(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvariantViolation(message);
        }
    }

    /// <summary>A decode result either succeeded or says why not.</summary>
    public static void Check(DecodeResult result) =>
        That(result.Ok || !string.IsNullOrWhiteSpace(result.Error), "a bad frame has no error text");

    /// <summary>
    /// An observation has a known sign, a finite value within the sign's hard bounds, a UTC time, the context's receive
    /// time, site and (when the feed names one) chair, the codec's protocol, known quality flags, and ids without control
    /// characters. Whether a device's time is plausible (too far ahead, implausibly old) is the pipeline's device clock
    /// policy, not the codec's: codecs report what the device said.
    /// </summary>
    public static void Check(Observation o, DecodeContext context, SourceProtocol source, IReadOnlySet<string>? chairs = null)
    {
        ArgumentNullException.ThrowIfNull(o);
        That(Enum.IsDefined(o.Sign), $"unknown sign {(int)o.Sign}");
        var info = o.Sign.Info();
        That(double.IsFinite(o.Value), $"{info.ShortName} value {o.Value} is not finite");
        That(o.Value >= info.HardMin && o.Value <= info.HardMax, $"{info.ShortName} value {o.Value.ToString(CultureInfo.InvariantCulture)} outside {info.HardMin}-{info.HardMax}");
        That(o.MeasuredAt.Offset == TimeSpan.Zero, $"measured time {o.MeasuredAt:O} is not UTC");
        That(o.ReceivedAt == context.ReceivedAt, "receive time differs from the context's");
        That(o.Site == context.Site, "site differs from the context's");
        That(chairs is null ? o.Chair == context.Chair : chairs.Contains(o.Chair), $"chair '{Printable(o.Chair)}' is not one the feed or its map names");
        That(o.Source == source, $"source {o.Source} is not {source}");
        That((o.Quality & ~(ObservationQuality.Questionable | ObservationQuality.Invalid | ObservationQuality.Simulated)) == 0, $"unknown quality flags {(int)o.Quality}");
        That(o.Device.Length is > 0 and <= 256, $"device id of {o.Device.Length} characters");
        That(!o.Device.Any(char.IsControl), $"device id '{Printable(o.Device)}' contains a control character");
    }

    /// <summary>
    /// An MLLP-framed ACK is exactly one well-formed frame: a fresh frame reader takes one frame and leaves nothing, and the
    /// frame is an HL7 ACK whose MSA-1 is <paramref name="expected"/>.
    /// </summary>
    public static void CheckFramedAck(ReadOnlySpan<byte> framed, Hl7AckCode expected)
    {
        var reader = new MllpFrameReader(Math.Max(framed.Length, 16));
        var frames = new List<byte[]>();
        var left = ChunkedFeed.Feed<ReadOnlySequence<byte>>(framed.ToArray(), null, reader.TryReadFrame, f => frames.Add(f.ToArray()));
        That(frames.Count == 1 && left == 0 && reader.BadFrames == 0,
            $"the ACK is not one MLLP frame: {frames.Count} frames, {left} bytes left, {reader.BadFrames} bad ({Printable(Encoding.Latin1.GetString(framed))})");
        That(Hl7Ack.TryParse(frames[0], out var ack), $"the ACK does not parse: {Printable(Encoding.Latin1.GetString(frames[0]))}");
        That(ack!.Code == expected, $"the ACK says {ack.Code}, the decode said {expected}");
    }

    /// <summary>Throws when whole and chunked feeding produced different results.</summary>
    public static void Same(IReadOnlyList<string> whole, IReadOnlyList<string> chunked, string how)
    {
        ArgumentNullException.ThrowIfNull(whole);
        ArgumentNullException.ThrowIfNull(chunked);
        var n = Math.Min(whole.Count, chunked.Count);
        for (var i = 0; i < n; i++)
        {
            That(whole[i] == chunked[i], $"fed {how}, item {i} differs: '{Printable(chunked[i])}' vs whole '{Printable(whole[i])}'");
        }

        That(whole.Count == chunked.Count, $"fed {how}: {chunked.Count} items vs {whole.Count} whole");
    }

    /// <summary>One line describing an observation, for comparisons.</summary>
    public static string Describe(Observation o) =>
        string.Create(CultureInfo.InvariantCulture, $"{o.Chair}/{o.Device}/{o.Sign}={o.Value:R}@{o.MeasuredAt.UtcTicks}/{o.Quality}");

    /// <summary>A short outcome class: the error text without digits or quoted input, so similar errors group.</summary>
    public static string Outcome(string? error)
    {
        if (error is null)
        {
            return "ok";
        }

        var text = new StringBuilder(Math.Min(error.Length, 48));
        var quoted = false;
        foreach (var c in error)
        {
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (!quoted && !char.IsDigit(c))
            {
                text.Append(c);
            }

            if (text.Length == 48)
            {
                break;
            }
        }

        return text.ToString();
    }

    /// <summary>Control characters as \xNN, for messages.</summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = new StringBuilder(Math.Min(text.Length, 200));
        foreach (var c in text.Take(200))
        {
            s.Append(char.IsControl(c) || c == '\'' ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}") : c.ToString());
        }

        return s.ToString();
    }
}
