using System.Globalization;

namespace Vitals.Devices.Line;

/// <summary>Parses configured time fields.</summary>
internal static class LineTime
{
    private static readonly DateTime Sample = new(2026, 11, 22, 13, 4, 5, DateTimeKind.Unspecified);

    public static bool IsValidFormat(string? format)
    {
        if (string.IsNullOrWhiteSpace(format))
        {
            return false;
        }

        if (format is "unix" or "unix-ms")
        {
            return true;
        }

        try
        {
            string text = Sample.ToString(format, CultureInfo.InvariantCulture);
            return TryParse(text, format, TimeZoneInfo.Utc, out _);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static bool TryParse(ReadOnlySpan<char> text, string format, TimeZoneInfo zone, out DateTimeOffset result)
    {
        result = default;
        if (format == "unix" || format == "unix-ms")
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            {
                return false;
            }

            try
            {
                result = format == "unix" ? DateTimeOffset.FromUnixTimeSeconds(n) : DateTimeOffset.FromUnixTimeMilliseconds(n);
                return true;
            }
            catch (ArgumentOutOfRangeException)
            {
                return false;
            }
        }

        if (format.Contains('z', StringComparison.Ordinal) || format.Contains('K', StringComparison.Ordinal))
        {
            if (!DateTimeOffset.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out result))
            {
                return false;
            }

            result = result.ToUniversalTime();
            return true;
        }

        if (!DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return false;
        }

        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        result = new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
        return true;
    }
}
