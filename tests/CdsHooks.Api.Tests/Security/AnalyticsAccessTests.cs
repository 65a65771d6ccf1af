using System.Net;

namespace CdsHooks.Api.Tests.Security;

/// <summary>The secured host with <c>Analytics:ApiKey</c> set: <c>/analytics</c> needs the client JWT and the key.</summary>
public sealed class SecuredApiKeyHost : SecuredCdsServiceHost
{
    public const string Key = "secured-analytics-key-0123456789";

    protected override IEnumerable<KeyValuePair<string, string?>> Settings => [.. base.Settings, new("Analytics:ApiKey", Key)];
}

/// <summary>
/// Each credential of the analytics policy refused on its own: a bad JWT is the client's bare 401 with the Bearer
/// challenge (logged), a bad key a bare 401 without one; neither is ever a 403. The key does not open the CDS services.
/// </summary>
public sealed class AnalyticsAccessTests(SecuredApiKeyHost host) : IClassFixture<SecuredApiKeyHost>
{
    private const string Cards = "/analytics/cards";

    private async Task<HttpResponseMessage> GetCardsAsync(bool validToken, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Cards);
        if (validToken) request.Headers.Authorization = new("Bearer", host.Token(host.SandboxKey, SecuredCdsServiceHost.SandboxIssuer, Cards).Sign());
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        return await host.Client.SendAsync(request);
    }

    [Fact]
    public async Task ValidTokenAndKey_Returns200()
    {
        using var response = await GetCardsAsync(validToken: true, SecuredApiKeyHost.Key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task ValidTokenWithoutTheKey_ReturnsBare401WithoutChallenge(string? key)
    {
        using var response = await GetCardsAsync(validToken: true, key);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Empty(response.Headers.WwwAuthenticate);
    }

    [Theory]
    [InlineData(SecuredApiKeyHost.Key)]
    [InlineData(null)]
    public async Task KeyWithoutToken_ReturnsTheClientsBare401(string? key)
    {
        using var response = await GetCardsAsync(validToken: false, key);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("401 for GET /analytics/cards: no Authorization header", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeyAlone_DoesNotOpenTheCdsServices()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cds-services") { Headers = { { "X-Api-Key", SecuredApiKeyHost.Key } } };
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
