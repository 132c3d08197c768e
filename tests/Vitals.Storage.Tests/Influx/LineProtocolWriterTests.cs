using System.Globalization;
using System.Text;
using Vitals.Storage.Influx;

namespace Vitals.Storage.Tests.Influx;

public sealed class LineProtocolWriterTests
{
    private static string Write(Action<LineProtocolWriter> build)
    {
        using var writer = new LineProtocolWriter(256);
        build(writer);
        return Encoding.UTF8.GetString(writer.Written.Span);
    }

    [Theory]
    [InlineData("vitals", "vitals")]
    [InlineData("my measurement", @"my\ measurement")]
    [InlineData("a,b", @"a\,b")]
    [InlineData("a=b", "a=b")]
    [InlineData("a\"b", "a\"b")]
    public void BeginPoint_SpecialCharacters_EscapesCommaAndSpaceOnly(string measurement, string expected)
    {
        var line = Write(w => w.BeginPoint(measurement).Field("f", 1.0).EndPoint(5));
        Assert.Equal($"{expected} f=1 5\n", line);
    }

    [Theory]
    [InlineData("chair 1", @"chair\ 1")]
    [InlineData("a,b", @"a\,b")]
    [InlineData("a=b", @"a\=b")]
    [InlineData("say \"hi\"", "say\\ \"hi\"")]
    [InlineData("Stuhl-ä", "Stuhl-ä")]
    [InlineData("line1\nline2", @"line1\ line2")]
    [InlineData(@"C:\chairs", @"C:\chairs")]
    [InlineData(@"ends\", "ends/")]
    [InlineData(@"a\,b", @"a/\,b")]
    public void Tag_SpecialCharacters_EscapesCommaEqualsSpace(string value, string expected)
    {
        var line = Write(w => w.BeginPoint("m").Tag("k", value).Field("f", 1.0).EndPoint(5));
        Assert.Equal($"m,k={expected} f=1 5\n", line);
    }

    [Fact]
    public void Tag_KeyWithSpecials_EscapedLikeValues()
    {
        var line = Write(w => w.BeginPoint("m").Tag("a b,c=d", "v").Field("x y", 2.0).EndPoint(1));
        Assert.Equal(@"m,a\ b\,c\=d=v x\ y=2 1" + "\n", line);
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData(@"back\slash", "\"back\\\\slash\"")]
    [InlineData(@"ends\", "\"ends\\\\\"")]
    [InlineData("a, b = c", "\"a, b = c\"")]
    [InlineData("two\nlines", "\"two lines\"")]
    public void Field_StringValue_EscapesQuoteAndBackslash(string value, string expected)
    {
        var line = Write(w => w.BeginPoint("m").Field("s", value).EndPoint(7));
        Assert.Equal($"m s={expected} 7\n", line);
    }

    [Theory]
    [InlineData(72.0, "72")]
    [InlineData(36.6, "36.6")]
    [InlineData(-0.5, "-0.5")]
    [InlineData(1e20, "1E+20")]
    [InlineData(0.1 + 0.2, "0.30000000000000004")]
    public void Field_Double_InvariantShortestRoundTrip(double value, string expected)
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            var line = Write(w => w.BeginPoint("m").Field("v", value).EndPoint(1));
            Assert.Equal($"m v={expected} 1\n", line);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Field_NaNAndInfinity_Skipped()
    {
        var line = Write(w => w.BeginPoint("m").Field("a", double.NaN).Field("b", 1.5).Field("c", double.PositiveInfinity).Field("d", double.NegativeInfinity).EndPoint(1));
        Assert.Equal("m b=1.5 1\n", line);
    }

    [Fact]
    public void EndPoint_NoFields_PointDroppedAndWriterUsable()
    {
        using var writer = new LineProtocolWriter(256);
        writer.BeginPoint("m").Tag("t", "x").Field("a", double.NaN).Field("s", (string?)null).Field("n", (double?)null);
        Assert.False(writer.EndPoint(1));
        writer.BeginPoint("m").Field("a", 2.0);
        Assert.True(writer.EndPoint(2));
        Assert.Equal("m a=2 2\n", Encoding.UTF8.GetString(writer.Written.Span));
        Assert.Equal(1, writer.LineCount);
    }

    [Fact]
    public void Field_Booleans_WrittenAsTrueFalse()
    {
        var line = Write(w => w.BeginPoint("m").Field("a", true).Field("b", false).EndPoint(1));
        Assert.Equal("m a=true,b=false 1\n", line);
    }

    [Fact]
    public void Tag_EmptyOrNullValue_Omitted()
    {
        var line = Write(w => w.BeginPoint("m").Tag("a", string.Empty).Tag("b", null).Tag("c", "x").Field("f", 1.0).EndPoint(1));
        Assert.Equal("m,c=x f=1 1\n", line);
    }

    [Fact]
    public void EndPoint_DateTimeOffset_MillisecondPrecision()
    {
        var at = new DateTimeOffset(2026, 11, 22, 0, 0, 0, 123, TimeSpan.Zero).AddTicks(4567);
        var line = Write(w => w.BeginPoint("m").Field("f", 1.0).EndPoint(at));
        Assert.Equal($"m f=1 {at.ToUnixTimeMilliseconds()}\n", line);
        Assert.EndsWith("123\n", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Tag_AfterField_Throws()
    {
        using var writer = new LineProtocolWriter(256);
        writer.BeginPoint("m").Field("f", 1.0);
        Assert.Throws<InvalidOperationException>(() => writer.Tag("t", "v"));
    }

    [Fact]
    public void GetLines_ManyPoints_GrowsBufferAndSlicesLines()
    {
        using var writer = new LineProtocolWriter(256);
        for (var i = 0; i < 10_000; i++)
        {
            writer.BeginPoint("m").Tag("chair", "c" + i.ToString(CultureInfo.InvariantCulture)).Field("v", i).EndPoint(i);
        }

        Assert.Equal(10_000, writer.LineCount);
        Assert.Equal("m,chair=c9999 v=9999 9999", writer.GetLineText(9999));
        Assert.Equal("m,chair=c1 v=1 1\nm,chair=c2 v=2 2\n", Encoding.UTF8.GetString(writer.GetLines(1, 3).Span));
    }

    [Fact]
    public void WritePoint_SteadyState_AllocatesNothing()
    {
        using var writer = new LineProtocolWriter(1024 * 1024);
        void Round()
        {
            writer.Clear();
            for (var i = 0; i < 1000; i++)
            {
                writer.BeginPoint("vitals").Tag("chair", "c1").Tag("device", "dev").Tag("site", "s").Field("hr", 72.5).Field("spo2", 98.0).EndPoint(1_700_000_000_000 + i);
            }
        }

        Round();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Round();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Only the line-offset list may grow; after the first round it does not.
        Assert.True(allocated < 1024, $"allocated {allocated} bytes for 1000 points");
    }
}
