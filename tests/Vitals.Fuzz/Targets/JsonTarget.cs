using Vitals.Core;
using Vitals.Devices;
using Vitals.Devices.Json;

namespace Vitals.Fuzz.Targets;

/// <summary>
/// One MQTT payload through the JSON codec: the Vitals schema and two vendor mappings (nested fields, unit conversion,
/// Unix and custom local-time formats), in every device time zone.
/// </summary>
public sealed class JsonTarget : FuzzTarget
{
    private static readonly JsonObservationCodec[] Codecs =
    [
        new(),
        new(new JsonMapping
        {
            Fields =
            [
                new JsonFieldMapping { Field = "HeartRate", Sign = "hr" },
                new JsonFieldMapping { Field = "SpO2", Sign = "spo2" },
                new JsonFieldMapping { Field = "NIBP.Sys", Sign = "MDC_PRESS_BLD_NONINV_SYS", Unit = "kPa" },
                new JsonFieldMapping { Field = "TempC10", Sign = "150344", Scale = 0.1 },
            ],
            TimeField = "ts",
            TimeFormat = "dd.MM.yyyy HH:mm:ss",
            DeviceField = "serial",
        }),
        new(new JsonMapping
        {
            Fields = [new JsonFieldMapping { Field = "pulse", Sign = "pr" }, new JsonFieldMapping { Field = "tf", Sign = "temp", Unit = "[degF]" }],
            TimeField = "t",
            TimeFormat = "unix-ms",
            DeviceField = "id",
        }),
    ];

    /// <inheritdoc/>
    public override string Name => "json";

    /// <inheritdoc/>
    public override int MaxInputBytes => 8 * 1024;

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "\"sign\":", "\"value\":", "\"unit\":", "\"time\":", "\"device\":",
        "\"readings\":", "\"quality\":", "\"invalid\"", "\"hr\"", "\"nibp_sys\"", "\"MDC_PULS_OXIM_SAT_O2\"", "\"150456\"", "\"bpm\"",
        "\"kPa\"", "\"[degF]\"", "\"0001-01-01T00:00:00\"", "\"9999-12-31T23:59:59\"", "\"2026-11-22T10:00:00+14:00\"",
        "\"2026-11-22T10:00:00Z\"", "\"01.01.0001 00:00:00\"", "\"31.12.9999 23:59:59\"", "\"HeartRate\":", "\"NIBP\":{\"Sys\":",
        "\"ts\":", "\"t\":", "-9223372036854775808", "253402300800000", "1e308", "1e309", "-0", "0.0000001", "\\u0000", "\\ud800",
        "\\u001c", "\"pulse\":", "\"id\":");

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Seeds() =>
    [
        .. CorpusFiles("*.json").Where(b => b.Length > 0 && b[0] is (byte)'{' or (byte)'['),
        """{"pulse":61,"tf":98.6,"t":1795341600000,"id":"P-1"}"""u8.ToArray(),
        """{"device":"m-1","time":"2026-11-22T09:58:00","readings":[{"sign":"hr","value":70,"unit":"bpm","quality":"questionable"}]}"""u8.ToArray(),
    ];

    /// <inheritdoc/>
    public override string Run(byte[] input)
    {
        var outcome = new SortedSet<string>(StringComparer.Ordinal);
        var output = new List<Observation>();
        foreach (var zone in Invariants.Zones)
        {
            var context = new DecodeContext("clinic", "chair-1", "configured-device", Invariants.ReceivedAt, zone);
            foreach (var codec in Codecs)
            {
                output.Clear();
                var result = codec.Decode(input, context, output);
                Invariants.Check(result);
                foreach (var o in output)
                {
                    Invariants.Check(o, context, SourceProtocol.Mqtt);
                }

                outcome.Add(Invariants.Outcome(result.Error) + (output.Count > 0 ? "+obs" : string.Empty));
            }
        }

        return string.Join('|', outcome);
    }
}
