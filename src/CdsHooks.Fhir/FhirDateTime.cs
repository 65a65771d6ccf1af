using System.Globalization;

namespace CdsHooks.Fhir;

/// <summary>
/// Parses FHIR date, dateTime and instant values, including the partial forms FHIR allows
/// (<c>2024</c>, <c>2024-03</c>, <c>2024-03-05</c>). A value without a zone is read as UTC; a partial date
/// stands for the start of its period.
/// </summary>
public static class FhirDateTime
{
    private static readonly string[] FullFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mmK",
    ];

    public static DateTimeOffset? TryParse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var s = value.AsSpan().Trim();
        if (TryParseCanonical(s, out var canonical)) return canonical;
        const DateTimeStyles styles = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal;

        switch (s.Length)
        {
            case 4 when int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var y) && y >= 1:
                return new DateTimeOffset(y, 1, 1, 0, 0, 0, TimeSpan.Zero);
            case 7 when DateTime.TryParseExact(s, "yyyy-MM", CultureInfo.InvariantCulture, styles, out var ym):
                return new DateTimeOffset(ym, TimeSpan.Zero);
            case 10 when DateTime.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, styles, out var d):
                return new DateTimeOffset(d, TimeSpan.Zero);
        }

        // FHIR allows up to 9 fractional digits; .NET reads at most 7 (100 ns ticks), so drop the 8th and 9th.
        var dot = s.IndexOf('.');
        if (dot > 0)
        {
            int end = dot + 1;
            while (end < s.Length && char.IsAsciiDigit(s[end])) end++;
            if (end - dot - 1 is 8 or 9) s = string.Concat(s[..(dot + 8)], s[end..]);
        }

        if (DateTimeOffset.TryParseExact(s, FullFormats, CultureInfo.InvariantCulture, styles, out var full))
        {
            return full;
        }

        // Some EHRs omit the zone on dateTime (not valid FHIR, but common): read it as UTC.
        return DateTimeOffset.TryParseExact(s, ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF"], CultureInfo.InvariantCulture, styles, out var local)
            ? local
            : null;
    }

    /// <summary>
    /// The shapes nearly every EHR sends — <c>2026-11-21</c> and <c>2026-11-21T08:05:00[.fff](Z|±hh:mm)</c> — read
    /// digit by digit: every lab result has one or two of these and TryParseExact over format lists is slow.
    /// Anything else, or any value out of range, goes to the general path, which decides as it always did.
    /// </summary>
    private static bool TryParseCanonical(ReadOnlySpan<char> s, out DateTimeOffset result)
    {
        result = default;
        if (s.Length < 10 || s[4] != '-' || s[7] != '-'
            || !TryDigits(s[..4], out var year) || !TryDigits(s.Slice(5, 2), out var month) || !TryDigits(s.Slice(8, 2), out var day)
            || year < 2 || year > 9998 || month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }
        if (s.Length == 10)
        {
            result = new DateTimeOffset(year, month, day, 0, 0, 0, TimeSpan.Zero);
            return true;
        }

        if (s.Length < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':'
            || !TryDigits(s.Slice(11, 2), out var hour) || !TryDigits(s.Slice(14, 2), out var minute) || !TryDigits(s.Slice(17, 2), out var second)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }
        var rest = s[19..];
        long fractionTicks = 0;
        if (rest[0] == '.')
        {
            int digits = 1;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits])) digits++;
            if (digits == 1 || digits > 8) return false; // 1 to 7 fraction digits, as the general path's FFFFFFF
            TryDigits(rest[1..digits], out var fraction);
            fractionTicks = fraction * Pow10(8 - digits);
            rest = rest[digits..];
        }

        TimeSpan offset;
        if (rest.Length == 1 && rest[0] == 'Z')
        {
            offset = TimeSpan.Zero;
        }
        else if (rest.Length == 6 && rest[0] is '+' or '-' && rest[3] == ':'
                 && TryDigits(rest.Slice(1, 2), out var offsetHours) && TryDigits(rest.Slice(4, 2), out var offsetMinutes)
                 && offsetHours <= 13 && offsetMinutes <= 59)
        {
            offset = new TimeSpan(offsetHours, offsetMinutes, 0);
            if (rest[0] == '-') offset = -offset;
        }
        else
        {
            return false;
        }

        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fractionTicks);
        result = new DateTimeOffset(local - offset, TimeSpan.Zero);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<char> digits, out int value)
    {
        value = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }

    private static long Pow10(int n)
    {
        long p = 1;
        while (n-- > 0) p *= 10;
        return p;
    }

    /// <summary>Age in whole years on <paramref name="today"/>, or null when the birth date is unreadable.</summary>
    public static int? AgeInYears(string? birthDate, DateOnly today)
    {
        var born = TryParse(birthDate);
        if (born is null) return null;
        var b = DateOnly.FromDateTime(born.Value.UtcDateTime);
        int age = today.Year - b.Year;
        if (today < b.AddYears(age)) age--;
        return age;
    }
}
