using Vitals.Core;
using Vitals.Devices.Feeds;
using Vitals.Devices.Line;
using Vitals.Devices.Masimo;

namespace Vitals.Fuzz.Targets;

/// <summary>Masimo ASCII 1 lines (hardware-docs/masimo-serial.md) through the Masimo codec and its line framer.</summary>
public sealed class MasimoTarget : SerialCodecTarget
{
    /// <inheritdoc/>
    public override string Name => "masimo";

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "\r\n", "\n", " ", "=", "SN=", "SPO2=", "BPM=", "PI=", "SPCO=", "SPMET=", "DESAT=", "PIDELTA=", "PVI=", "SPHB=", "SPOC=",
        "ALARM=", "EXC=", "EXC1=", "%", "--", "---", "--.-", "000800", "FFFFFF", "FFFFFFFF", "02/29/16", "12/31/99", "00/00/00",
        "23:59:59", "24:00:00", "099", "100", "101", "-1", "1e9");

    /// <inheritdoc/>
    protected override SourceProtocol Source => SourceProtocol.Masimo;

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Seeds() => [.. CorpusFiles("masimo-*.txt")];

    /// <inheritdoc/>
    protected override IEnumerable<Func<ISerialCodec>> Codecs() => [() => new MasimoCodec(256)];
}

/// <summary>The configurable line codec, with a key=value, a CSV and a Unix-time configuration.</summary>
public sealed class LineTarget : SerialCodecTarget
{
    private const string UnixKeyValue = """
        { "name": "fuzz-unix", "format": "keyValue", "time": { "key": "T", "format": "unix-ms" }, "deviceId": { "key": "ID" },
          "fields": [ { "key": "HR", "sign": "hr" }, { "key": "TEMP", "sign": "temp", "unit": "[degF]", "scale": 0.1 }, { "key": "SYS", "sign": "nibp_sys", "unit": "kPa" } ] }
        """;

    private readonly LineDeviceConfig[] configs =
    [
        LineDeviceConfig.FromJson(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpus", "nonin-7500.json"))),
        LineDeviceConfig.FromJson(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpus", "spotcheck-nibp.json"))),
        LineDeviceConfig.FromJson(UnixKeyValue),
    ];

    /// <inheritdoc/>
    public override string Name => "line";

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "\r\n", "\n", ",", " ", "=", "SPO2=", "HR=", "T=", "ID=", "TEMP=", "SYS=", "---", "0001-01-01T00:00:00", "9999-12-31T23:59:59",
        "2026-02-29T10:00:00", "-9223372036854775808", "9223372036854775807", "253402300800000", "-62135596800001", "1e309", "NaN",
        "-0", "98.6", "0x10", "\"");

    /// <inheritdoc/>
    protected override SourceProtocol Source => SourceProtocol.Line;

    /// <inheritdoc/>
    public override IReadOnlyList<byte[]> Seeds() =>
    [
        .. CorpusFiles("nonin-7500.txt"),
        .. CorpusFiles("spotcheck-nibp.csv"),
        "T=1795341600000 ID=K-7 HR=072 TEMP=986 SYS=16\r\nHR=--- T=0\r\n"u8.ToArray(),
    ];

    /// <inheritdoc/>
    protected override IEnumerable<Func<ISerialCodec>> Codecs() => configs.Select(config => (Func<ISerialCodec>)(() => new LineCodec(config)));
}
