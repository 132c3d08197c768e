using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Vitals.Core;
using Vitals.Devices;
using Vitals.Devices.Hl7;
using Vitals.Devices.Line;
using Vitals.Gateway.Config;
using Vitals.Storage;

namespace Vitals.Gateway;

/// <summary>
/// <c>vitals decode</c>: decodes a raw capture the way the gateway would and prints one JSON object per observation, so an
/// integrator can check a monitor's output before connecting it. Exit codes: 0 every frame decoded, 3 some were bad,
/// 2 usage error.
/// </summary>
public static class DecodeCommand
{
    /// <summary>Exit code when every frame decoded.</summary>
    public const int Ok = 0;

    /// <summary>Exit code when the command line or a map file is wrong.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code when some frames could not be decoded.</summary>
    public const int SomeBad = 3;

    // Chair stamped when no map is given, so the HL7 codec keeps messages it cannot map; never printed.
    private const string NoChair = "\u0001";

    private static readonly JsonTypeInfo<DecodedObservation> JsonLine = new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = GatewayJson.Metadata,
    }.TypeInfo<DecodedObservation>();

    /// <summary>The <c>decode</c> verb.</summary>
    public static Command Create(TextWriter error)
    {
        var protocol = new Option<string>("--protocol") { Description = "hl7 (MLLP-framed or plain ORU^R01), masimo (Masimo ASCII 1) or line (a configured line device)." };
        var map = new Option<FileInfo?>("--map") { Description = "For line: the line-device JSON (required). For hl7: optional chair map, { \"chairRule\": \"pv1Bed\", \"map\": { \"BED3\": \"chair-3\" } } or a gateway config file." };
        var zone = new Option<string>("--time-zone") { Description = "IANA time zone of device times without an offset (default UTC).", DefaultValueFactory = _ => "UTC" };
        var file = new Argument<string?>("FILE") { Description = "Capture file, or - (default) for standard input.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("decode", "Decode a raw capture and print one JSON object per observation (sign, value, unit, time, device, chair, quality); bad frames go to stderr. Exit 0 all decoded, 3 some bad, 2 usage error.")
        {
            protocol, map, zone, file,
        };
        command.SetAction(parse => Run(parse.GetValue(protocol), parse.GetValue(map)?.FullName, parse.GetValue(zone)!, parse.GetValue(file), Console.Out, error));
        return command;
    }

    /// <summary>Decodes <paramref name="file"/> (or stdin for null or <c>-</c>) and returns the exit code.</summary>
    public static int Run(string? protocol, string? mapPath, string timeZone, string? file, TextWriter output, TextWriter error, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        time ??= TimeProvider.System;
        if (protocol is not ("hl7" or "masimo" or "line"))
        {
            return Usage(error, protocol is null
                ? "--protocol is required. Fix: add --protocol hl7, masimo or line."
                : $"--protocol: '{protocol}' is not supported. Fix: use hl7, masimo or line.");
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var zone))
        {
            return Usage(error, $"--time-zone: '{timeZone}' is not a known time zone. Fix: use an IANA id such as Europe/London or UTC.");
        }

        string? mapText = null;
        if (mapPath is not null)
        {
            try
            {
                mapText = File.ReadAllText(mapPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Usage(error, $"--map: cannot read '{mapPath}': {e.Message}");
            }
        }
        else if (protocol == "line")
        {
            return Usage(error, "--map: protocol 'line' needs the line-device JSON file. Fix: pass --map nonin.json (see hardware-docs/serial-and-usb.md).");
        }

        byte[] input;
        try
        {
            if (file is null or "-")
            {
                using var stdin = Console.OpenStandardInput();
                using var buffer = new MemoryStream();
                stdin.CopyTo(buffer);
                input = buffer.ToArray();
            }
            else
            {
                input = File.ReadAllBytes(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Usage(error, $"FILE: cannot read '{file}': {e.Message}");
        }

        var device = file is null or "-" ? "stdin" : Path.GetFileNameWithoutExtension(file);
        var bad = 0;
        if (protocol == "hl7")
        {
            Hl7OruCodec codec;
            try
            {
                codec = new Hl7OruCodec(Hl7MapFrom(mapText, mapPath));
            }
            catch (Exception e) when (e is JsonException or ConfigException or InvalidOperationException)
            {
                return Usage(error, $"--map: {e.Message}");
            }

            var chair = mapText is null ? NoChair : "";
            var context = new DecodeContext("decode", chair, device, time.GetUtcNow(), zone);
            foreach (var m in Hl7CaptureDecoder.Decode(input, codec, context))
            {
                if (!m.Result.Ok)
                {
                    bad++;
                    error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bad frame at byte {m.Offset}: {m.Result.Error}"));
                }

                Print(m.Observations, output);
            }
        }
        else
        {
            ILineCodec codec;
            try
            {
                codec = LineCodecs.Create(protocol!, mapText);
            }
            catch (Exception e) when (e is ArgumentException or LineConfigException or JsonException)
            {
                return Usage(error, $"--map: {e.Message}");
            }

            bad = DecodeLines(input, codec, new DecodeContext("decode", NoChair, device, time.GetUtcNow(), zone), output, error);
        }

        output.Flush();
        return bad == 0 ? Ok : SomeBad;
    }

    private static int DecodeLines(byte[] input, ILineCodec codec, DecodeContext context, TextWriter output, TextWriter error)
    {
        var all = new ReadOnlySequence<byte>(input);
        var buffer = all;
        var observations = new List<Observation>();
        var bad = 0;
        while (true)
        {
            var scanStart = all.Slice(0, buffer.Start).Length;
            var overlong = codec.Framer.OverlongFrames;
            var found = codec.TryReadFrame(ref buffer, out var frame);
            if (codec.Framer.OverlongFrames != overlong)
            {
                bad += (int)(codec.Framer.OverlongFrames - overlong);
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bad frame at byte {scanStart}: line longer than {codec.Framer.MaxFrameBytes} bytes"));
            }

            long offset;
            if (found)
            {
                offset = all.Slice(0, frame.Start).Length;
            }
            else
            {
                // The last line may lack its terminator: decode what is left.
                var rest = TrimEnd(buffer.ToArray());
                if (rest.Length == 0)
                {
                    return bad;
                }

                offset = all.Slice(0, buffer.Start).Length;
                frame = new ReadOnlySequence<byte>(rest);
                buffer = buffer.Slice(buffer.End);
            }

            observations.Clear();
            var result = codec.Decode(frame, context, observations);
            if (!result.Ok)
            {
                bad++;
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bad frame at byte {offset}: {result.Error}"));
            }
            else
            {
                Print(observations, output);
            }

            if (!found)
            {
                return bad;
            }
        }
    }

    private static byte[] TrimEnd(byte[] bytes)
    {
        var span = bytes.AsSpan().TrimEnd("\r\n \t\0"u8);
        return span.ToArray();
    }

    private static Hl7CodecOptions Hl7MapFrom(string? json, string? path)
    {
        var options = new Hl7CodecOptions();
        if (json is null)
        {
            return options;
        }

        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("chairs", out _))
        {
            // A gateway config file: decoded exactly as the gateway would (map from its hl7 devices, rule from its hl7 section).
            options = ConfigLoader.Load(path!).Hl7CodecOptions();
        }
        else
        {
            var rule = root.TryGetProperty("chairRule", out var r) ? r.GetString() : Hl7Options.DefaultChairRule;
            if (!Hl7Options.ChairRules.Contains(rule))
            {
                throw new InvalidOperationException($"chairRule '{rule}' is not pv1Bed, sendingApplication or equipmentId.");
            }

            options.ChairRule = new Hl7Options { ChairRule = rule! }.Rule;
            if (!root.TryGetProperty("map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidOperationException("expected { \"chairRule\": \"pv1Bed\", \"map\": { \"BED3\": \"chair-3\" } }.");
            }

            foreach (var entry in map.EnumerateObject())
            {
                options.ChairMap[entry.Name] = entry.Value.GetString() ?? "";
            }
        }

        if (options.ChairMap.Count == 0)
        {
            options.ChairRule = Hl7ChairRule.Feed;
        }

        options.Validate();
        return options;
    }

    internal static void Print(IEnumerable<Observation> observations, TextWriter output)
    {
        foreach (var o in observations)
        {
            var line = new DecodedObservation(
                o.Sign.ShortName(),
                o.Value,
                o.Unit,
                o.MeasuredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
                o.Device,
                o.Chair is "" or NoChair ? null : o.Chair,
                Quality(o.Quality));
            output.WriteLine(JsonSerializer.Serialize(line, JsonLine));
        }
    }

    private static string? Quality(ObservationQuality q)
    {
        if (q == ObservationQuality.Ok)
        {
            return null;
        }

        var parts = Enum.GetValues<ObservationQuality>().Where(f => f != ObservationQuality.Ok && q.HasFlag(f)).Select(f => f.ToString().ToLowerInvariant());
        return string.Join(',', parts);
    }

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine($"vitals decode: {message}");
        return UsageError;
    }

    internal sealed record DecodedObservation(string Sign, double Value, string Unit, string Time, string Device, string? Chair, string? Quality);
}
