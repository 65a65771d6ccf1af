using System.Net;
using System.Text.Json;
using CdsHooks.Api.Security;
using CdsHooks.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Security;

/// <summary>The secured host with a jti store that never answers (as Redis down does), without needing Redis.</summary>
public sealed class UnansweringReplayStoreHost : SecuredCdsServiceHost
{
    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<IJtiReplayStore, UnansweringReplayStore>();

    private sealed class UnansweringReplayStore : IJtiReplayStore
    {
        public ValueTask<bool> TryMarkUsedAsync(string issuer, string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
            throw new StoreUnavailableException("test-replay-store", "it never answers");
    }
}

/// <summary>
/// A token that cannot be checked is not a refused token: 503 problem details with <c>Retry-After</c> and no challenge,
/// on every route that names a policy and on the fallback; a call without a token is still a bare 401.
/// </summary>
public sealed class UncheckableTokenTests(UnansweringReplayStoreHost host) : IClassFixture<UnansweringReplayStoreHost>
{
    [Theory]
    [InlineData("POST", "/cds-services/rls-iron-order-select")]
    [InlineData("POST", "/cds-services/rls-iron-order-select/feedback")]
    [InlineData("GET", "/cds-services")]
    [InlineData("GET", "/analytics/cards")]
    [InlineData("GET", "/cds-services/rls-iron-order-select")]
    public async Task ValidTokenWhileTheJtiStoreDoesNotAnswer_Returns503WithRetryAfter(string method, string path)
    {
        var token = host.Token(host.SandboxKey, SecuredCdsServiceHost.SandboxIssuer, path).Sign();
        var refusalsLogged = RefusalsLogged(method, path);
        using var response = await host.SendAsync(new HttpMethod(method), path, token, method == "POST" ? SecuredCdsServiceHost.ZoloftRequest() : null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(CdsClientAuthenticationHandler.UnavailableRetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        Assert.Empty(response.Headers.WwwAuthenticate);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("Client token cannot be checked", problem.RootElement.GetProperty("title").GetString());
        // Not logged as a refusal (StoreHealth logs the store's episode; the call itself only at Debug).
        Assert.Equal(refusalsLogged, RefusalsLogged(method, path));
    }

    private int RefusalsLogged(string method, string path) => host.Logs.Lines.Count(l => l.Contains($"401 for {method} {path}:", StringComparison.Ordinal));

    [Fact]
    public async Task NoTokenWhileTheJtiStoreDoesNotAnswer_IsStillABare401()
    {
        using var response = await host.PostAsync("/cds-services/rls-iron-order-select", null, SecuredCdsServiceHost.ZoloftRequest());
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }
}
