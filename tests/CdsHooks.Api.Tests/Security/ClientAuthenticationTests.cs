using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Security;

/// <summary>
/// CDS Hooks 2.0 §Trusting CDS Clients over real HTTP: valid Sandbox-style (ES384) and Epic-style (RS384) tokens get
/// cards; every attack gets a bare 401 with the reason only in the log.
/// </summary>
public sealed class ClientAuthenticationTests(SecuredCdsServiceHost host) : IClassFixture<SecuredCdsServiceHost>
{
    private const string Discovery = "/cds-services";
    private const string Select = "/cds-services/rls-iron-order-select";

    private TestToken SandboxToken(string path = Select) => host.Token(host.SandboxKey, SecuredCdsServiceHost.SandboxIssuer, path);

    private TestToken EpicToken(string path = Select) =>
        host.Token(host.EpicKey, SecuredCdsServiceHost.EpicIssuer, path).With("tenant", SecuredCdsServiceHost.EpicTenant).With("sub", "epic-client-id");

    private async Task<string> AssertCardsAsync(string token)
    {
        using var response = await host.PostAsync(Select, token, SecuredCdsServiceHost.ZoloftRequest());
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {json}\n{host.Logs.All}");
        Assert.NotEmpty(CardAssertions.AssertConformantResponse(json));
        return json;
    }

    /// <summary>A bare 401: no body, a Bearer challenge, and the reason in the log.</summary>
    private async Task AssertRefusedAsync(HttpResponseMessage response, string reasonInLog)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("401 for") && l.Contains(reasonInLog, StringComparison.Ordinal));
    }

    private async Task AssertServiceCallRefusedAsync(string token, string reasonInLog)
    {
        using var response = await host.PostAsync(Select, token, SecuredCdsServiceHost.ZoloftRequest());
        await AssertRefusedAsync(response, reasonInLog);
    }

    [Fact]
    public async Task SandboxStyleEs384Token_FromJwksUrl_GetsCards() => await AssertCardsAsync(SandboxToken().Sign());

    [Fact]
    public async Task EpicStyleRs384Token_WithNbfSubAndTenant_FromInlineJwks_GetsCards() =>
        await AssertCardsAsync(EpicToken().With("nbf", host.Clock.GetUtcNow().ToUnixTimeSeconds()).Sign());

    [Fact]
    public async Task TokenWithAllowlistedJku_IsCheckedAgainstThatJwks_GetsCards()
    {
        var before = host.Jwks.FetchCount("sandbox-alt");
        await AssertCardsAsync(SandboxToken().WithHeader("jku", host.Jwks.UrlOf("sandbox-alt")).Sign());
        Assert.True(host.Jwks.FetchCount("sandbox-alt") >= Math.Max(1, before));
    }

    [Fact]
    public async Task Discovery_WithTokenForDiscoveryUrl_Returns200()
    {
        using var response = await host.GetAsync(Discovery, SandboxToken(Discovery).Sign());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Discovery_WithoutToken_Returns401()
    {
        using var response = await host.GetAsync(Discovery, null);
        await AssertRefusedAsync(response, "no Authorization header");
    }

    [Theory]
    [InlineData("/cds-services/rls-iron-order-select/feedback")]
    [InlineData("/cds-services/no-such-service")]
    [InlineData("/analytics/cards")]
    public async Task EveryPathUnderProtectedPrefixes_WithoutToken_Returns401(string path)
    {
        using var response = await host.SendAsync(HttpMethod.Post, path, null, "{}");
        await AssertRefusedAsync(response, path);
    }

    [Fact]
    public async Task UnknownService_WithValidToken_Returns404AfterAuthentication()
    {
        const string path = "/cds-services/no-such-service";
        using var response = await host.PostAsync(path, SandboxToken(path).Sign(), SecuredCdsServiceHost.ZoloftRequest());
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task HealthEndpoints_StayOpen()
    {
        using var response = await host.GetAsync("/health/ready", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task NotABearerToken_Returns401() =>
        await AssertRefusedAsync(await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, Discovery) { Headers = { { "Authorization", "Basic dXNlcjpwYXNz" } } }),
            "not a single Bearer token");

    [Fact]
    public async Task MalformedToken_Returns401() => await AssertServiceCallRefusedAsync("not.a-jwt", "malformed token");

    [Fact]
    public async Task DiscoveryUrlAsAud_OnServiceCall_Returns401() =>
        await AssertServiceCallRefusedAsync(SandboxToken().With("aud", host.Url(Discovery)).Sign(), "aud is not the URL called");

    [Fact]
    public async Task ServiceUrlAsAud_OnFeedbackCall_Returns401()
    {
        const string feedback = Select + "/feedback";
        using var response = await host.PostAsync(feedback, SandboxToken(Select).Sign(), "{\"feedback\":[]}");
        await AssertRefusedAsync(response, "aud is not the URL called");
    }

    [Fact]
    public async Task ExpiredToken_Returns401()
    {
        var now = host.Clock.GetUtcNow();
        await AssertServiceCallRefusedAsync(
            SandboxToken().With("iat", now.AddMinutes(-10).ToUnixTimeSeconds()).With("exp", now.AddMinutes(-5).ToUnixTimeSeconds()).Sign(), "expired (exp)");
    }

    [Fact]
    public async Task TokenExpiredWithinClockSkew_GetsCards()
    {
        var now = host.Clock.GetUtcNow();
        await AssertCardsAsync(SandboxToken().With("iat", now.AddMinutes(-5).ToUnixTimeSeconds()).With("exp", now.AddSeconds(-30).ToUnixTimeSeconds()).Sign());
    }

    [Fact]
    public async Task FutureNbf_Returns401() =>
        await AssertServiceCallRefusedAsync(SandboxToken().With("nbf", host.Clock.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds()).Sign(), "not valid yet (nbf)");

    [Fact]
    public async Task FutureIat_Returns401() =>
        await AssertServiceCallRefusedAsync(SandboxToken().With("iat", host.Clock.GetUtcNow().AddMinutes(3).ToUnixTimeSeconds()).Sign(), "iat is in the future");

    [Fact]
    public async Task ExpFarAhead_Returns401() =>
        await AssertServiceCallRefusedAsync(SandboxToken().With("exp", host.Clock.GetUtcNow().AddDays(2).ToUnixTimeSeconds()).Sign(), "exp is more than");

    [Theory]
    [InlineData("exp", "no exp claim")]
    [InlineData("iat", "no iat claim")]
    [InlineData("jti", "no jti claim")]
    public async Task MissingRequiredClaim_Returns401(string claim, string reason)
    {
        var token = SandboxToken();
        token.Payload.Remove(claim);
        await AssertServiceCallRefusedAsync(token.Sign(), reason);
    }

    [Fact]
    public async Task ReplayedJti_Returns401()
    {
        var token = SandboxToken().Sign();
        await AssertCardsAsync(token);
        await AssertServiceCallRefusedAsync(token, "jti already used (replay)");
    }

    [Fact]
    public async Task SameJti_FromAnotherIssuer_IsNotAReplay()
    {
        var jti = Guid.NewGuid().ToString();
        await AssertCardsAsync(SandboxToken().With("jti", jti).Sign());
        await AssertCardsAsync(EpicToken().With("jti", jti).Sign());
    }

    [Fact]
    public async Task UnknownIssuer_Returns401WithoutFetchingAnything()
    {
        var fetches = host.Jwks.TotalFetches;
        await AssertServiceCallRefusedAsync(SandboxToken().With("iss", "https://unknown-ehr.example.test").WithHeader("jku", host.Jwks.UrlOf("attacker")).Sign(), "is not trusted");
        Assert.Equal(fetches, host.Jwks.TotalFetches);
    }

    [Fact]
    public async Task JkuNotOnIssuersAllowlist_Returns401WithoutFetching()
    {
        host.Jwks.Serve("attacker", host.SandboxKey);
        await AssertServiceCallRefusedAsync(SandboxToken().WithHeader("jku", host.Jwks.UrlOf("attacker")).Sign(), "is not on the allowlist");
        Assert.Equal(0, host.Jwks.FetchCount("attacker"));
    }

    [Fact]
    public async Task JwksUrlAsJku_IsCheckedAgainstThatJwks_GetsCards() =>
        await AssertCardsAsync(SandboxToken().WithHeader("jku", host.Jwks.UrlOf("sandbox")).Sign());

    [Fact]
    public async Task InlineKeys_TokenNamingItsPublishedJku_IsCheckedWithThePinnedKeyWithoutFetching()
    {
        // An EHR whose keys were pasted inline still names where it publishes them; the pinned key is used.
        host.Jwks.Serve("epic-published", host.EpicKey);
        await AssertCardsAsync(EpicToken().WithHeader("jku", host.Jwks.UrlOf("epic-published")).Sign());
        Assert.Equal(0, host.Jwks.FetchCount("epic-published"));
    }

    [Fact]
    public async Task InlineKeys_KidNotInlineWithUnlistedJku_Returns401WithoutFetching()
    {
        using var rogue = TestSigningKey.Rs384("epic-rogue");
        host.Jwks.Serve("epic-rogue", rogue);
        var token = host.Token(rogue, SecuredCdsServiceHost.EpicIssuer, Select).With("tenant", SecuredCdsServiceHost.EpicTenant)
            .WithHeader("jku", host.Jwks.UrlOf("epic-rogue"));

        await AssertServiceCallRefusedAsync(token.Sign(), "is not on the allowlist of issuer 'https://epic.example.test/interconnect'");
        Assert.Equal(0, host.Jwks.FetchCount("epic-rogue"));
    }

    /// <summary>RFC 7515 §4.1.11: no header extension is understood here, so any crit is refused, and so is a malformed one.</summary>
    [Theory]
    [InlineData("""["b64"]""", "crit names header extensions this service does not understand: b64")]
    [InlineData("""["http://example.org/ext", "x-private"]""", "crit names header extensions this service does not understand: http://example.org/ext, x-private")]
    [InlineData("""["alg"]""", "crit lists the registered header parameter 'alg'")]
    [InlineData("""["x-private", "x5t#S256"]""", "crit lists the registered header parameter 'x5t#S256'")]
    [InlineData("[]", "crit is an empty array")]
    [InlineData("\"b64\"", "crit is not an array of header parameter names")]
    [InlineData("""["b64", 7]""", "crit is not an array of header parameter names")]
    [InlineData("""[["b64"]]""", "crit is not an array of header parameter names")]
    [InlineData("null", "crit is not an array of header parameter names")]
    public async Task CritHeader_Returns401NamingWhy(string crit, string reason)
    {
        var token = SandboxToken();
        token.Header["crit"] = JsonNode.Parse(crit);
        if (crit.Contains("b64", StringComparison.Ordinal)) token.Header["b64"] = false; // RFC 7797's unencoded payload

        await AssertServiceCallRefusedAsync(token.Sign(), reason);
    }

    [Fact]
    public async Task AlgNone_Returns401() => await AssertServiceCallRefusedAsync(SandboxToken().Unsigned(), "alg 'none' is not allowed");

    [Fact]
    public async Task Hs256WithPublicKeyAsSecret_Returns401()
    {
        await AssertServiceCallRefusedAsync(SandboxToken().SignHs256(host.SandboxKey.PublicPem()), "alg 'HS256' is not allowed");
        await AssertServiceCallRefusedAsync(SandboxToken().SignHs256(host.SandboxKey.PublicJwk().ToJsonString()), "alg 'HS256' is not allowed");
    }

    [Fact]
    public async Task Rs256_NotConfigured_Returns401() =>
        await AssertServiceCallRefusedAsync(EpicToken().WithHeader("alg", "RS256").Sign(), "alg 'RS256' is not allowed");

    [Fact]
    public async Task MissingKid_Returns401() => await AssertServiceCallRefusedAsync(SandboxToken().WithHeader("kid", null).Sign(), "no kid in the header");

    [Fact]
    public async Task TypNotJwt_Returns401() => await AssertServiceCallRefusedAsync(SandboxToken().WithHeader("typ", "at+jwt").Sign(), "is not JWT");

    [Fact]
    public async Task KidOfAnotherIssuer_Returns401() =>
        await AssertServiceCallRefusedAsync(host.Token(host.EpicKey, SecuredCdsServiceHost.SandboxIssuer, Select).Sign(), "no key 'epic-rs384-2026'");

    [Fact]
    public async Task SignedByAnotherKeyWithTheSameKid_Returns401()
    {
        using var impostor = TestSigningKey.Es384(host.SandboxKey.Kid);
        await AssertServiceCallRefusedAsync(host.Token(impostor, SecuredCdsServiceHost.SandboxIssuer, Select).Sign(), "bad signature");
    }

    [Fact]
    public async Task TamperedPayload_Returns401()
    {
        var token = SandboxToken().Sign().Split('.');
        var forged = SandboxToken().With("sub", "admin").Payload.ToJsonString();
        token[1] = TestSigningKey.B64(Encoding.UTF8.GetBytes(forged));
        await AssertServiceCallRefusedAsync(string.Join('.', token), "bad signature");
    }

    [Fact]
    public async Task WrongTenant_Returns401() =>
        await AssertServiceCallRefusedAsync(EpicToken().With("tenant", "other-tenant").Sign(), "is not the configured tenant");

    [Fact]
    public async Task RotatedKey_IsFetchedOnUnknownKid_AndTheWithdrawnKeyStopsWorking()
    {
        host.Jwks.Serve("rotating", host.RotatingKey1);
        await AssertCardsAsync(host.Token(host.RotatingKey1, SecuredCdsServiceHost.RotatingIssuer, Select).Sign());
        var fetches = host.Jwks.FetchCount("rotating");

        // The EHR rotates: the new key is published, the old one withdrawn.
        host.Jwks.Serve("rotating", host.RotatingKey2);
        // Within the refresh interval an unknown kid does not refetch (no amplification of forged kids)...
        await AssertServiceCallRefusedAsync(host.Token(host.RotatingKey2, SecuredCdsServiceHost.RotatingIssuer, Select).Sign(), "no key 'rotating-2'");
        Assert.Equal(fetches, host.Jwks.FetchCount("rotating"));

        // ...after it, the unknown kid triggers one refetch and the new key works.
        host.Clock.Advance(TimeSpan.FromSeconds(31));
        await AssertCardsAsync(host.Token(host.RotatingKey2, SecuredCdsServiceHost.RotatingIssuer, Select).Sign());
        Assert.Equal(fetches + 1, host.Jwks.FetchCount("rotating"));

        await AssertServiceCallRefusedAsync(host.Token(host.RotatingKey1, SecuredCdsServiceHost.RotatingIssuer, Select).Sign(), "no key 'rotating-1'");
        Assert.Equal(fetches + 1, host.Jwks.FetchCount("rotating"));
    }

    [Fact]
    public async Task JwksEndpointDown_CachedKeysStillWork()
    {
        host.Jwks.SetDown("flaky", false);
        await AssertCardsAsync(host.Token(host.FlakyKey, SecuredCdsServiceHost.FlakyIssuer, Select).Sign());
        var fetches = host.Jwks.FetchCount("flaky");

        host.Jwks.SetDown("flaky", true);
        try
        {
            // Past the cache lifetime the set is fetched again; the fetch fails and the cached key is used.
            host.Clock.Advance(TimeSpan.FromSeconds(3601));
            await AssertCardsAsync(host.Token(host.FlakyKey, SecuredCdsServiceHost.FlakyIssuer, Select).Sign());
            Assert.Equal(fetches + 1, host.Jwks.FetchCount("flaky"));
            Assert.Contains(host.Logs.Lines, l => l.Contains("still using the 1 keys fetched before"));
        }
        finally
        {
            host.Jwks.SetDown("flaky", false);
        }
    }

    [Fact]
    public async Task Logs_NeverContainTheJwtOrTheFhirAccessToken()
    {
        const string accessToken = "fhir-access-token-5e1b7c2d9a";
        var request = JsonNode.Parse(SecuredCdsServiceHost.ZoloftRequest())!.AsObject();
        request["fhirAuthorization"] = new JsonObject
        {
            ["access_token"] = accessToken, ["token_type"] = "Bearer", ["expires_in"] = 300, ["scope"] = "patient/*.read", ["subject"] = "rls-iron-cds",
        };
        var valid = SandboxToken().Sign();
        var tampered = SandboxToken().Sign()[..^4] + "AAAA";
        var expired = SandboxToken().With("exp", host.Clock.GetUtcNow().AddHours(-1).ToUnixTimeSeconds()).Sign();
        var epic = EpicToken().Sign();

        foreach (var token in new[] { valid, tampered, expired, epic, valid })
        {
            using var response = await host.PostAsync(Select, token, request.ToJsonString());
        }

        var logs = host.Logs.All;
        Assert.Contains("jti already used", logs);
        foreach (var token in new[] { valid, tampered, expired, epic })
        {
            var parts = token.Split('.');
            Assert.DoesNotContain(parts[1], logs);
            Assert.DoesNotContain(parts[2], logs);
            Assert.DoesNotContain(parts[0] + "." + parts[1], logs);
        }
        Assert.DoesNotContain(accessToken, logs);
    }
}
