using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Vitals.Core;
using Vitals.Devices.Line;
using Vitals.Devices.Masimo;

namespace Vitals.Devices.Benchmarks;

/// <summary>Masimo ASCII 1 decode throughput and allocations; each line yields 2 observations (spo2, pr).</summary>
[MemoryDiagnoser]
public class MasimoDecodeBenchmarks
{
    private const int LinesPerStream = 1000;

    private static readonly byte[] Line =
        "02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800"u8.ToArray();

    private readonly List<Observation> output = new(2 * LinesPerStream);
    private readonly DecodeContext context = new("clinic-a", "chair-3", "dev", new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero), TimeZoneInfo.Utc);
    private static readonly byte[] NoninLine = "SPO2=097 HR=072"u8.ToArray();

    private MasimoCodec codec = null!;
    private LineCodec nonin = null!;
    private byte[] stream = null!;

    [GlobalSetup]
    public void Setup()
    {
        codec = new MasimoCodec();
        nonin = LineCodec.FromJson("""{ "name": "nonin-7500", "fields": [ { "key": "SPO2", "sign": "spo2" }, { "key": "HR", "sign": "pr" } ] }""");
        var sb = new StringBuilder();
        for (int i = 0; i < LinesPerStream; i++)
        {
            sb.Append(Encoding.ASCII.GetString(Line).Replace("SPO2=098", $"SPO2=0{90 + (i % 10)}", StringComparison.Ordinal)).Append("\r\n");
        }

        stream = Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>One line already framed: parse and build 2 observations.</summary>
    [Benchmark(Baseline = true)]
    public int DecodeLine()
    {
        output.Clear();
        codec.Decode(Line, context, output);
        return output.Count;
    }

    /// <summary>1000 CR LF lines in one buffer: framing plus decode, as the serial feed does it.</summary>
    [Benchmark(OperationsPerInvoke = LinesPerStream)]
    public int FrameAndDecodeStream()
    {
        output.Clear();
        var buffer = new ReadOnlySequence<byte>(stream);
        ILineCodec c = codec;
        while (c.TryReadFrame(ref buffer, out var frame))
        {
            c.Decode(frame.FirstSpan, context, output);
        }

        return output.Count;
    }

    /// <summary>A configurable line codec on a Nonin-style line (2 observations).</summary>
    [Benchmark]
    public int DecodeNoninLine()
    {
        output.Clear();
        nonin.Decode(NoninLine, context, output);
        return output.Count;
    }
}
