using CdsHooks.Protocol;

namespace CdsHooks.Api.Tests;

public sealed class Rfc3339Tests
{
    [Theory]
    [InlineData("2026-11-21T12:41:19.243Z", "2026-11-21T12:41:19.2430000+00:00")]
    [InlineData("2026-11-21t12:41:19z", "2026-11-21T12:41:19.0000000+00:00")]
    [InlineData("2026-11-21T13:41:19+01:00", "2026-11-21T12:41:19.0000000+00:00")]
    [InlineData("2026-11-21T12:41:19.123456789Z", "2026-11-21T12:41:19.1234567+00:00")]
    [InlineData("2026-11-21T12:41:19-00:00", "2026-11-21T12:41:19.0000000+00:00")]
    public void Rfc3339_DateTimeWithOffset_Parses(string value, string expectedUtc)
    {
        Assert.True(Rfc3339.TryParse(value, out var instant));
        Assert.Equal(expectedUtc, instant.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("2026-11-21T12:41:19")]
    [InlineData("2026-11-21")]
    [InlineData("2026-11-21 12:41:19Z")]
    [InlineData("2026-11-21T25:00:00Z")]
    [InlineData("2026-02-29T00:00:00Z")]
    [InlineData("21 Nov 2026 12:41:19 GMT")]
    [InlineData("2026-11-21T12:41:19+0100")]
    [InlineData("２０２６-11-21T12:41:19Z")]
    [InlineData("")]
    public void Rfc3339_AnythingElse_IsRefused(string value) => Assert.False(Rfc3339.TryParse(value, out _));
}
