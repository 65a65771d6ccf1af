using CdsHooks.Fhir;

namespace CdsHooks.Rls.Tests;

public class FhirDateTimeTests
{
    [Theory]
    [InlineData("2026-11-21", "2026-11-21T00:00:00.0000000+00:00")]
    [InlineData(" 2024-02-29 ", "2024-02-29T00:00:00.0000000+00:00")]
    [InlineData("2026-11-21T08:05:09Z", "2026-11-21T08:05:09.0000000+00:00")]
    [InlineData("2026-11-21T08:05:09.5Z", "2026-11-21T08:05:09.5000000+00:00")]
    [InlineData("2026-11-21T08:05:09.1234567Z", "2026-11-21T08:05:09.1234567+00:00")]
    [InlineData("2026-11-21T08:05:09+05:30", "2026-11-21T02:35:09.0000000+00:00")]
    [InlineData("2026-11-21T01:00:00.250-05:00", "2026-11-21T06:00:00.2500000+00:00")]
    [InlineData("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.0000000+00:00")]
    // Shapes the canonical reader leaves to the general path.
    [InlineData("2026", "2026-01-01T00:00:00.0000000+00:00")]
    [InlineData("2026-11", "2026-11-01T00:00:00.0000000+00:00")]
    [InlineData("2026-11-21T08:05Z", "2026-11-21T08:05:00.0000000+00:00")]
    [InlineData("2026-11-21T08:05:09", "2026-11-21T08:05:09.0000000+00:00")]
    [InlineData("2026-11-21T08:05:09.75", "2026-11-21T08:05:09.7500000+00:00")]
    [InlineData("2026-11-21T08:05:09+14:00", "2026-11-20T18:05:09.0000000+00:00")]
    [InlineData("2026-11-21T08:05:09.Z", "2026-11-21T08:05:09.0000000+00:00")]
    public void TryParse_FhirDateOrDateTime_UtcInstant(string value, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), FhirDateTime.TryParse(value));
        Assert.Equal(TimeSpan.Zero, FhirDateTime.TryParse(value)!.Value.Offset);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2026-02-29")]
    [InlineData("2026-13-01")]
    [InlineData("2026-11-21T24:00:00Z")]
    [InlineData("2026-11-21T08:60:00Z")]
    [InlineData("2026-11-21T08:05:09 Z")]
    [InlineData("21/11/2026")]
    [InlineData("２０２６-11-21")]
    public void TryParse_NotAFhirDateTime_Null(string? value)
    {
        Assert.Null(FhirDateTime.TryParse(value));
    }
}
