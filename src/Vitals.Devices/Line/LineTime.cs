using System.Globalization;

namespace Vitals.Devices.Line;

/// <summary>Parses configured time fields, and turns device times into UTC for every codec.</summary>
internal static class LineTime
{
    /// <summary>
    /// A device's wall-clock time, read in <paramref name="zone"/>, as UTC; false when that instant is outside
    /// what a <see cref="DateTimeOffset"/> can hold (year 1 in a zone ahead of UTC, 9999-12-31 in one behind).
    /// </summary>
    public static bool TryFromDeviceLocal(DateTime local, TimeZoneInfo zone, out DateTimeOffset utc)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        long ticks = local.Ticks - zone.GetUtcOffset(local).Ticks;
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            utc = default;
            return false;
        }

        utc = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }

    /// <summary>Unix seconds (or milliseconds) as a time; false when outside the representable range.</summary>
    public static bool TryFromUnix(long value, bool milliseconds, out DateTimeOffset result)
    {
        try
        {
            result = milliseconds ? DateTimeOffset.FromUnixTimeMilliseconds(value) : DateTimeOffset.FromUnixTimeSeconds(value);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            result = default;
            return false;
        }
    }

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
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && TryFromUnix(n, format == "unix-ms", out result);
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

        return TryFromDeviceLocal(local, zone, out result);
    }
}
