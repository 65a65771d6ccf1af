using System.Globalization;
using CdsHooks.Fhir;

namespace CdsHooks.Fhir.Tests;

public sealed class FhirDateTimeTests
{
    private static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    [Theory]
    // Partial dates stand for the start of their period, in UTC.
    [InlineData("2024", "2024-01-01T00:00:00Z")]
    [InlineData("2024-03", "2024-03-01T00:00:00Z")]
    [InlineData("2024-03-05", "2024-03-05T00:00:00Z")]
    [InlineData("2024-02-29", "2024-02-29T00:00:00Z")]
    [InlineData(" 2024-03-05 ", "2024-03-05T00:00:00Z")]
    // Full dateTime / instant with a zone.
    [InlineData("2024-03-05T08:30:00Z", "2024-03-05T08:30:00Z")]
    [InlineData("2024-03-05T08:30:00-05:00", "2024-03-05T13:30:00Z")]
    [InlineData("2024-03-05T08:30:00+14:00", "2024-03-04T18:30:00Z")]
    [InlineData("2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z")]
    // Fractional seconds, any precision FHIR allows (1 to 9 digits).
    [InlineData("2024-03-05T08:30:00.1Z", "2024-03-05T08:30:00.1Z")]
    [InlineData("2024-03-05T08:30:00.123Z", "2024-03-05T08:30:00.123Z")]
    [InlineData("2024-03-05T08:30:00.000-05:00", "2024-03-05T13:30:00Z")]
    [InlineData("2024-03-05T08:30:00.1234567+02:00", "2024-03-05T06:30:00.1234567Z")]
    [InlineData("2024-03-05T08:30:00.123456789Z", "2024-03-05T08:30:00.1234567Z")]
    // No zone (not valid FHIR, common in practice): read as UTC.
    [InlineData("2024-03-05T08:30:00", "2024-03-05T08:30:00Z")]
    [InlineData("2024-03-05T08:30:00.250", "2024-03-05T08:30:00.25Z")]
    // Minutes only, with a zone.
    [InlineData("2024-03-05T08:30Z", "2024-03-05T08:30:00Z")]
    public void TryParse_ValidFhirDates_ReturnsUtcInstant(string value, string expected)
    {
        var parsed = FhirDateTime.TryParse(value);

        Assert.NotNull(parsed);
        Assert.Equal(Utc(expected), parsed.Value);
        Assert.Equal(TimeSpan.Zero, parsed.Value.Offset);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("yesterday")]
    [InlineData("0000")]
    [InlineData("24")]
    [InlineData("20240305")]
    [InlineData("2024-13")]
    [InlineData("2024-3-5")]
    [InlineData("2023-02-29")]
    [InlineData("2024-02-30")]
    [InlineData("2024-03-05T25:00:00Z")]
    [InlineData("2024-03-05 08:30:00Z")]
    [InlineData("05/03/2024")]
    [InlineData("2024-03-05T08:30:00.1234567890Z")]
    public void TryParse_Garbage_ReturnsNull(string? value)
    {
        Assert.Null(FhirDateTime.TryParse(value));
    }

    [Theory]
    [InlineData("1980-05-05", "2026-05-04", 45)]
    [InlineData("1980-05-05", "2026-05-05", 46)]
    [InlineData("1980-05-05", "2026-05-06", 46)]
    [InlineData("2008-11-21", "2026-11-20", 17)]
    [InlineData("2008-11-21", "2026-11-21", 18)]
    [InlineData("2016-04-02", "2026-11-21", 10)]
    [InlineData("2026-11-21", "2026-11-21", 0)]
    // Born on a leap day: a year older on 28 February in common years (DateOnly.AddYears clamps to the 28th), on the 29th in leap years.
    [InlineData("2000-02-29", "2023-02-27", 22)]
    [InlineData("2000-02-29", "2023-02-28", 23)]
    [InlineData("2000-02-29", "2023-03-01", 23)]
    [InlineData("2000-02-29", "2024-02-28", 23)]
    [InlineData("2000-02-29", "2024-02-29", 24)]
    // A birthday of 28 February on a leap-year 29 February.
    [InlineData("2000-02-28", "2024-02-29", 24)]
    // Partial birth dates stand for the start of the period.
    [InlineData("1980", "2026-11-21", 46)]
    [InlineData("1980-12", "2026-11-21", 45)]
    public void AgeInYears_AroundBirthdaysAndLeapDays_CountsWholeYears(string birthDate, string today, int expected)
    {
        Assert.Equal(expected, FhirDateTime.AgeInYears(birthDate, DateOnly.ParseExact(today, "yyyy-MM-dd", CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("unknown")]
    [InlineData("1980-02-30")]
    public void AgeInYears_UnreadableBirthDate_ReturnsNull(string? birthDate)
    {
        Assert.Null(FhirDateTime.AgeInYears(birthDate, new DateOnly(2026, 11, 21)));
    }
}
