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
