using System.Text;
using Vitals.Core;
using Vitals.Devices.Json;

namespace Vitals.Devices.Tests.Json;

/// <summary>
/// A mapped flat object is read with a Utf8JsonReader instead of a JsonDocument (the document was most of the decode
/// time). The reader must give what the document gives: the same readings and the same first error, for every payload.
/// </summary>
public class JsonFlatReaderTests
{
    private static readonly DateTimeOffset Received = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private static readonly DecodeContext Context = new("site-1", "chair-3", "cfg-device", Received, TimeZoneInfo.Utc);

    /// <summary>The shared Node-RED harness's mapping: hr and spo2, time in Unix milliseconds.</summary>
    private static JsonMapping Harness() => new()
    {
        Fields = [new JsonFieldMapping { Field = "hr", Sign = "hr" }, new JsonFieldMapping { Field = "spo2", Sign = "spo2" }],
        TimeField = "ts",
        TimeFormat = "unix-ms",
    };

    /// <summary>Device field, ISO time, scale and unit conversion.</summary>
    private static JsonMapping Vendor() => new()
    {
        Fields =
        [
            new JsonFieldMapping { Field = "hr", Sign = "hr" },
            new JsonFieldMapping { Field = "spo2", Sign = "spo2" },
            new JsonFieldMapping { Field = "TempF10", Sign = "temp", Unit = "[degF]", Scale = 0.1 },
        ],
        TimeField = "ts",
        DeviceField = "dev",
    };

    /// <summary>One name read as both a field and the time (legal, if odd).</summary>
    private static JsonMapping Shared() => new()
    {
        Fields = [new JsonFieldMapping { Field = "ts", Sign = "hr" }, new JsonFieldMapping { Field = "hr", Sign = "pr" }],
        TimeField = "ts",
        TimeFormat = "unix-s",
        DeviceField = "hr",
    };

    public static TheoryData<string> Payloads => new()
    {
        // as the harness sends them
        """{"bed":"bed-1","hr":72,"spo2":97,"seq":1,"ts":1795341600000}""",
        """{"bed":"bed-1","hr":130,"spo2":97,"seq":10,"ts":1795341600000,"dev":"mon-1","TempF10":986}""",
        """  {"hr":72}  """,
        "\n{\n\"hr\" :\t72 ,\r\n\"spo2\":97}\n",

        // nested
        """{"hr":{"v":72},"spo2":[97],"ts":1795341600000}""",
        """{"x":{"y":{"z":[1,2,{"hr":5}]}},"hr":72}""",
        """{"hr":72,"ts":{"ms":1795341600000}}""",
        """{"dev":["a"],"hr":72}""",
        """{"a":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],"hr":72}""",
        """{"a":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]],"hr":72}""",

        // wrong types
        """{"hr":true,"spo2":"97","ts":"1795341600000"}""",
        """{"hr":"fast"}""",
        """{"hr":false}""",
        """{"hr":null,"spo2":null}""",
        """{"hr":null,"spo2":97}""",
        """{"ts":true,"hr":72}""",
        """{"ts":1.5,"hr":72}""",
        """{"ts":-1e3,"hr":72}""",
        """{"ts":"2026-11-22T09:59:30Z","hr":72}""",
        """{"ts":"2026-11-22T09:59:30","hr":72}""",
        """{"ts":"1795341600","hr":72}""",
        """{"ts":null,"hr":72}""",
        """{"dev":"","hr":72}""",
        """{"dev":5,"hr":72}""",
        """{"dev":"mon\u0001","hr":72}""",
        """{"dev":"mon-2","hr":72}""",
        """{"hr":" 72 "}""",
        """{"hr":"NaN"}""",
        """{"hr":"Infinity"}""",
        """{"hr":"1e3"}""",
        """{"hr":"72,5"}""",

        // missing
        "{}",
        """{"bed":"x"}""",
        """{"ts":1795341600000}""",
        """{"dev":"mon-1"}""",

        // huge and odd numbers
        """{"hr":1e400}""",
        """{"hr":-1e400,"spo2":97}""",
        """{"hr":1e308,"spo2":97}""",
        """{"hr":72,"ts":99999999999999999999}""",
        """{"hr":72,"ts":9223372036854775807}""",
        """{"hr":72,"ts":-9223372036854775808}""",
        """{"hr":123456789012345678901234567890}""",
        """{"hr":72.0000000000000000001}""",
        """{"hr":-0,"spo2":0.97e2}""",
        """{"hr":0.5e2,"TempF10":986}""",
        """{"hr":01}""",
        """{"hr":1.}""",
        """{"hr":+1}""",
        """{"hr":900}""",
        """{"spo2":101,"hr":72}""",

        // duplicate keys (the document takes the last)
        """{"hr":72,"hr":80}""",
        """{"hr":"x","hr":80}""",
        """{"hr":80,"hr":"x"}""",
        """{"hr":80,"hr":null}""",
        """{"bed":1,"bed":2,"hr":72}""",
        """{"ts":1,"ts":1795341600000,"hr":72}""",
        """{"dev":5,"dev":"mon-3","hr":72}""",

        // escapes
        """{"h\u0072":72}""",
        """{"hr":"7\u0032"}""",
        """{"hr":72,"dev":"\ud800"}""",
        """{"hr":"\ud800"}""",
        """{"hr":72,"other":"\ud800"}""",
        """{"hr":72,"\ud800":1}""",
        """{"hr":72,"dev":"m\"1"}""",

        // truncated or not JSON
        """{"hr":72""",
        """{"hr":72,""",
        """{"hr":""",
        """{"hr""",
        "{",
        """[{"hr":72},""",
        """{"hr":72}}""",
        """{"hr":72} x""",
        """{"hr":72}{"hr":73}""",
        """{"hr":72,}""",
        """/*c*/{"hr":72}""",
        """{"hr":72}/*c*/""",
        "\n{\n\"hr\":\n72x}",
        """{'hr':72}""",
        """{hr:72}""",
        "   ",
        "\u00ff\u00fe",

        // the plain-object scan's edges: white space, literals, numbers, strings it leaves to the reader
        "{ }",
        " {\t} \r\n",
        "{}x",
        "{,}",
        "{\"hr\":72,,\"spo2\":97}",
        "{\"hr\" 72}",
        "{\"hr\":}",
        "{\"hr\":72 \"spo2\":97}",
        "{\"hr\":72}\u000b",
        "{\"hr\":72}\u00a0",
        "{\f\"hr\":72}",
        "{\"hr\":tru}",
        "{\"hr\":truex}",
        "{\"hr\":nul,\"spo2\":97}",
        "{\"hr\":nulll}",
        "{\"hr\":False}",
        "{\"hr\":null,\"spo2\":true,\"ts\":false}",
        "{\"hr\":-}",
        "{\"hr\":-72}",
        "{\"hr\":--72}",
        "{\"hr\":-072}",
        "{\"hr\":0}",
        "{\"hr\":00}",
        "{\"hr\":0.}",
        "{\"hr\":.5}",
        "{\"hr\":7.2e1}",
        "{\"hr\":72e}",
        "{\"hr\":72e+}",
        "{\"hr\":72E-0}",
        "{\"hr\":72e+01}",
        "{\"hr\":72.5.1}",
        "{\"hr\":0x48}",
        "{\"hr\":72x}",
        "{\"hr\":1_000}",
        "{\"hr\":999999999999999}",
        "{\"hr\":1000000000000000}",
        "{\"hr\":72,\"ts\":1795341600000.0}",
        "{\"hr\":72,\"ts\":17953416e5}",
        "{\"hr\":\"72\",\"dev\":\"mon \u00e9\u20ac\"}",
        "{\"hr\":72,\"dev\":\"tab\there\"}",
        "{\"hr\":72,\"dev\":\"line\nbreak\"}",
        "{\"hr\":72,\"dev\":\"del\u007f\"}",
        "{\"hr\":72,\"dev\":\"\"}",
        "{\"\":1,\"hr\":72}",
        "{\"hr\":72,\"dev\":\"unterminated}",
        "{\"hr\":72,\"x\":\"a\\\\b\"}",
        "{\"hr\":72,\"x\":\"a\\\"b\"}",
        "{\"hr\":72,\"x\":\"a\\u0041\"}",
        "{\"hr\":72,\"x\":[]}",
        "{\"hr\":72,\"x\":{}}",
        "{\"hr\":72,\"x\":[1,{\"hr\":99}]}",
        "{\"hr\":{},\"hr\":72}",
        "{\"hr\":72,\"hr\":{}}",
        "{\"hr\":\"72\",\"hr\":73}",
        "{\"hr\":72,\"spo2\":97,\"spo2\":null}",

        // roots other than one object
        """[{"hr":72},{"hr":73,"ts":1795341600000}]""",
        """[1,{"hr":72}]""",
        """[{"hr":72},"x",{"hr":900}]""",
        "[]",
        """[{"hr":72},{"hr":72,"hr":73}]""",
        """[{"hr":72},{"h\u0072":73}]""",
        """[[{"hr":72}]]""",
        """[{"hr":72}] [""",
        "42",
        "42 43",
        "\"hr\"",
        "null",
        "true",
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Decode_FlatReader_SameReadingsAndErrorAsDocument(string json)
    {
        foreach (var mapping in new[] { Harness(), Vendor(), Shared() })
        {
            AssertSame(Encoding.UTF8.GetBytes(json), mapping);
        }
    }

    [Fact]
    public void Decode_FlatReader_SameAsDocumentForInvalidUtf8AndBom()
    {
        var valid = Encoding.UTF8.GetBytes("""{"hr":72,"dev":"ab"}""");
        var invalid = (byte[])valid.Clone();
        invalid[^3] = 0xC3;

        AssertSame(invalid, Vendor());
        AssertSame([0xEF, 0xBB, 0xBF, .. valid], Vendor());
    }

    [Fact]
    public void Decode_FlatReader_SameAsDocumentPastMaxReadings()
    {
        var many = "[" + string.Join(',', Enumerable.Repeat("""{"hr":72}""", JsonObservationCodec.MaxReadings + 2)) + "]";

        AssertSame(Encoding.UTF8.GetBytes(many), Harness());
        AssertSame(Encoding.UTF8.GetBytes(many[..^1]), Harness()); // truncated after the limit: nothing counts
    }

    /// <summary>Random damage to harness-shaped messages: every result, good or bad, is the document's.</summary>
    [Fact]
    public void Decode_FlatReaderRandomlyDamaged_SameAsDocument()
    {
        var random = new Random(15);
        var valid = Encoding.UTF8.GetBytes("""{"bed":"bed-7","hr":130,"spo2":97,"seq":123456,"ts":1795341600000,"dev":"m-1","TempF10":986}""");
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = (byte[])valid.Clone();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                // Mostly JSON's own characters, so the damage reaches past the first byte check.
                bytes[random.Next(bytes.Length)] = random.Next(4) == 0 ? (byte)random.Next(256) : (byte)"{}[]\":,0123456789-.eE \\ntfu"[random.Next(27)];
            }

            AssertSame(bytes, i % 2 == 0 ? Harness() : Vendor());
        }
    }

    /// <summary>
    /// Random sequences of JSON's tokens, mostly almost-plain objects: wherever the plain-object scan takes one, it must
    /// give what the reader and the document give (a scan that let "01", "1.", a trailing comma or a missing colon through
    /// would emit readings where the others count a malformed frame).
    /// </summary>
    [Fact]
    public void Decode_RandomTokenSequences_PlainScanSameAsReaderAndDocument()
    {
        string[] tokens =
        [
            "{", "}", "\"hr\"", "\"spo2\"", "\"ts\"", "\"dev\"", "\"x\"", ":", ":", ",", ",", "72", "0", "-", "01", "1.", ".5", "e3", "E-2",
            "1795341600000", "true", "false", "null", "nul", " ", "\t", "\n", "\"", "\\", "\\u0041", "[", "]", "\"mon-1\"", "\u0001", "x",
        ];
        var random = new Random(1515);
        for (var i = 0; i < 20_000; i++)
        {
            var json = new StringBuilder("{");
            for (var k = random.Next(1, 12); k > 0; k--)
            {
                // Half the time a well-formed member, so many payloads are valid and get past the scan's first checks.
                json.Append(random.Next(2) == 0 ? $"\"{Pick(random, "hr", "spo2", "ts", "dev", "bed")}\":{Pick(random, "72", "97", "-1.5e1", "\"m-1\"", "null", "true")}," : tokens[random.Next(tokens.Length)]);
            }

            if (random.Next(3) > 0)
            {
                json.Append("\"hr\":80}");
            }

            AssertSame(Encoding.UTF8.GetBytes(json.ToString()), i % 2 == 0 ? Harness() : Vendor());
        }
    }

    /// <summary>The harness's message and its white-space variants take the plain-object scan (so the tests above compare it at all).</summary>
    [Theory]
    [InlineData("""{"bed":"bed-1","hr":72,"spo2":97,"seq":1,"ts":1795341600000}""", true)]
    [InlineData(" {\t\"hr\" :\r\n72 , \"dev\":\"m\u00e9\",\"ok\":true,\"n\":null,\"f\":false,\"x\":-0.5E+3 } \n", true)]
    [InlineData("{}", true)]
    [InlineData("""{"hr":72,"dev":"m\"1"}""", false)]
    [InlineData("""{"hr":72,"x":{"y":1}}""", false)]
    [InlineData("""[{"hr":72}]""", false)]
    [InlineData("""{"hr":01}""", false)]
    [InlineData("""{"hr":72,}""", false)]
    public void PlainObjectScan_TakesOnlyPlainValidObjects(string json, bool plain) =>
        Assert.Equal(plain, new JsonObservationCodec(Vendor()).TakesPlainObjectScan(Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("""{"hr":1e400,"spo2":97}""", "hr value Infinity is outside 0-350 /min")]
    [InlineData("""{"hr":-1e400,"spo2":97}""", "hr value -Infinity is outside 0-350 /min")]
    public void Decode_MappedNumberBeyondDouble_IsOutsideRangeNotException(string json, string error)
    {
        foreach (var reader in new[] { true, false })
        {
            var output = new List<Observation>();

            var result = new JsonObservationCodec(Harness()) { ReadFlatObjects = reader }.Decode(Encoding.UTF8.GetBytes(json), Context, output);

            Assert.False(result.Ok);
            Assert.Equal(error, result.Error);
            Assert.Equal(Sign.Spo2, Assert.Single(output).Sign); // the other field stands on its own
        }
    }

    [Fact]
    public void Decode_HarnessMessage_ReadsBothSignsWithDeviceTime()
    {
        var output = new List<Observation>();

        var result = new JsonObservationCodec(Harness()).Decode(
            Encoding.UTF8.GetBytes("""{"bed":"bed-1","hr":130,"spo2":97,"seq":10,"ts":1795341600123}"""), Context, output);

        Assert.True(result.Ok, result.Error);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1795341600123);
        Assert.Equal(
            [
                new Observation("site-1", "chair-3", "cfg-device", Sign.Hr, 130, at, Received, SourceProtocol.Mqtt),
                new Observation("site-1", "chair-3", "cfg-device", Sign.Spo2, 97, at, Received, SourceProtocol.Mqtt),
            ],
            output);
    }

    /// <summary>The plain-object scan (the default), the reader alone and the document give the same readings and error.</summary>
    private static void AssertSame(byte[] payload, JsonMapping mapping)
    {
        var byScan = new List<Observation> { Marker };
        var byReader = new List<Observation> { Marker };
        var byDocument = new List<Observation> { Marker };
        DecodeResult s = default, r = default, d = default;

        Assert.Null(Record.Exception(() => s = new JsonObservationCodec(mapping).Decode(payload, Context, byScan)));
        Assert.Null(Record.Exception(() => r = new JsonObservationCodec(mapping) { ScanPlainObjects = false }.Decode(payload, Context, byReader)));
        Assert.Null(Record.Exception(() => d = new JsonObservationCodec(mapping) { ReadFlatObjects = false }.Decode(payload, Context, byDocument)));

        var shown = Encoding.UTF8.GetString(payload);
        Assert.True(d == r, $"{shown}: document {d}, reader {r}");
        Assert.True(byDocument.SequenceEqual(byReader), $"{shown}: document {byDocument.Count - 1} readings, reader {byReader.Count - 1}");
        Assert.True(d == s, $"{shown}: document {d}, plain scan {s}");
        Assert.True(byDocument.SequenceEqual(byScan), $"{shown}: document {byDocument.Count - 1} readings, plain scan {byScan.Count - 1}");
    }

    private static string Pick(Random random, params string[] choices) => choices[random.Next(choices.Length)];

    // Already in the list before decoding: neither path may remove what it did not add.
    private static readonly Observation Marker = new("site-0", "chair-0", "d", Sign.Rr, 12, Received, Received, SourceProtocol.Mqtt);
}
