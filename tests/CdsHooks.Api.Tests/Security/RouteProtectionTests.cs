using System.Net;

namespace CdsHooks.Api.Tests.Security;

/// <summary>
/// What the route policies leave to the fallback: a call under the protected paths that no route takes (an unknown
/// path, a method the route does not accept) is refused without a token and gets the routing's own answer with one;
/// a token sent outside the protected paths is never read.
/// </summary>
public sealed class RouteProtectionTests(SecuredCdsServiceHost host) : IClassFixture<SecuredCdsServiceHost>
{
    public static TheoryData<string, string, HttpStatusCode> UnroutedCalls => new()
    {
        { "GET", "/cds-services/rls-iron-order-select", HttpStatusCode.MethodNotAllowed },
        { "POST", "/cds-services", HttpStatusCode.MethodNotAllowed },
        { "GET", "/cds-services/rls-iron-order-select/feedback/extra", HttpStatusCode.NotFound },
        { "DELETE", "/analytics/cards", HttpStatusCode.MethodNotAllowed },
        { "GET", "/analytics/no-such-report", HttpStatusCode.NotFound },
        { "GET", "/ANALYTICS/no-such-report", HttpStatusCode.NotFound },
    };

    [Theory]
    [MemberData(nameof(UnroutedCalls))]
    public async Task UnroutedCallUnderProtectedPaths_WithoutToken_ReturnsBare401(string method, string path, HttpStatusCode _)
    {
        using var response = await host.SendAsync(new HttpMethod(method), path, null, null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains($"401 for {method} {path}: no Authorization header", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(UnroutedCalls))]
    public async Task UnroutedCallUnderProtectedPaths_WithValidToken_GetsTheRoutingAnswer(string method, string path, HttpStatusCode expected)
    {
        var token = host.Token(host.SandboxKey, SecuredCdsServiceHost.SandboxIssuer, path).Sign();
        using var response = await host.SendAsync(new HttpMethod(method), path, token, null);
        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData("/health/ready")]
    [InlineData("/health/live")]
    [InlineData("/explain")]
    [InlineData("/openapi/v1.json")]
    public async Task TokenSentOutsideProtectedPaths_IsNotRead(string path)
    {
        // A valid token for discovery, sent first where no policy asks for one: its jti is not used up there...
        var token = host.Token(host.SandboxKey, SecuredCdsServiceHost.SandboxIssuer, "/cds-services").Sign();
        using (var elsewhere = await host.GetAsync(path, token))
        {
            Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        }
        // ...so discovery still accepts it, and a token that is not even a JWT does not matter there either.
        using (var discovery = await host.GetAsync("/cds-services", token))
        {
            Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        }
        using var garbage = await host.GetAsync(path, "not-a-jwt");
        Assert.Equal(HttpStatusCode.OK, garbage.StatusCode);
    }

    [Fact]
    public async Task UnknownPathOutsideProtectedPaths_Returns404WithoutToken()
    {
        using var response = await host.GetAsync("/no-such-area/anything", null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
