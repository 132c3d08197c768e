using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Vitals.Devices.Json;

namespace Vitals.Devices.Tests.Json;

/// <summary>
/// The codec sums the digits of short whole numbers itself (a Unix time, a heart rate) instead of calling the parser:
/// that fast path must give the parser's answer, value and success, for numbers in every form JSON has and some it has not.
/// </summary>
public class JsonNumberTests
{
    public static TheoryData<string> Numbers => new()
    {
        "0", "7", "72", "-0", "-1", "1795341600000", "-1795341600000", "01", "00", "0000000000000000001",
        "999999999999999", "1000000000000000", "9999999999999999", "99999999999999999", "999999999999999999",
        "1000000000000000000", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "99999999999999999999", "123456789012345678901234567890", "1.5", "1.", ".5", "-.5", "1e3", "1E3", "1e+3", "1e-3",
        "-1e400", "1e400", "0.97e2", "72.0000000000000000001", "+1", "--1", "-", "", " 1", "1 ", "1x", "0x48", "1_000",
        "\u0661", "١٢", "1\u0000",
    };

    [Theory]
    [MemberData(nameof(Numbers))]
    public void TryInt64AndTryDouble_SameAsParser(string number) => AssertSameAsParser(Encoding.UTF8.GetBytes(number));

    [Fact]
    public void GeneratedNumbers_SameAsParser()
    {
        var random = new Random(1506);
        for (var i = 0; i < 200_000; i++)
        {
            // Whole numbers of 1 to 22 digits (past both fast paths' limits), with signs, fractions and exponents now and then.
            var text = new StringBuilder();
            if (random.Next(4) == 0)
            {
                text.Append(random.Next(8) == 0 ? '+' : '-');
            }

            var digits = random.Next(1, 23);
            for (var k = 0; k < digits; k++)
            {
                text.Append((char)('0' + (random.Next(3) == 0 ? 9 : random.Next(10))));
            }

            switch (random.Next(8))
            {
                case 0:
                    text.Append('.').Append(random.Next(1000).ToString(CultureInfo.InvariantCulture));
                    break;
                case 1:
                    text.Append(random.Next(2) == 0 ? 'e' : 'E').Append(random.Next(-400, 400).ToString(CultureInfo.InvariantCulture));
                    break;
                case 2:
                    text.Append((char)random.Next(0x20, 0x7F));
                    break;
            }

            AssertSameAsParser(Encoding.UTF8.GetBytes(text.ToString()));
        }
    }

    [Fact]
    public void LongBoundaries_SameAsParser()
    {
        foreach (var n in new[] { long.MaxValue, long.MinValue, 999_999_999_999_999_999L, 1_000_000_000_000_000_000L, 0L })
        {
            for (var delta = -3L; delta <= 3; delta++)
            {
                AssertSameAsParser(Encoding.UTF8.GetBytes(unchecked(n + delta).ToString(CultureInfo.InvariantCulture)));
            }
        }
    }

    private static void AssertSameAsParser(byte[] number)
    {
        var shown = Encoding.UTF8.GetString(number);

        var longOk = Utf8Parser.TryParse(number, out long expectedLong, out var used) && used == number.Length;
        Assert.True(longOk == JsonObservationCodec.TryInt64(number, out var actualLong), $"{shown}: parser {longOk}");
        if (longOk)
        {
            Assert.True(expectedLong == actualLong, $"{shown}: {actualLong} instead of {expectedLong}");
        }

        var doubleOk = Utf8Parser.TryParse(number, out double expectedDouble, out used) && used == number.Length;
        Assert.True(doubleOk == JsonObservationCodec.TryDouble(number, out var actualDouble), $"{shown}: parser {doubleOk}");
        if (doubleOk)
        {
            Assert.True(expectedDouble.Equals(actualDouble), $"{shown}: {actualDouble} instead of {expectedDouble}");
        }
    }
}
