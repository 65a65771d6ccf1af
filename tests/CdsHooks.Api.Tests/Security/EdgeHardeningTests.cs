using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Security;

/// <summary>CORS for browser clients, the body size cap and security headers, on the secured host.</summary>
public sealed class EdgeHardeningTests(SecuredCdsServiceHost host) : IClassFixture<SecuredCdsServiceHost>
{
    private const string Select = "/cds-services/rls-iron-order-select";

    private string Token(string path = Select) => host.Token(host.SandboxKey, SecuredCdsServiceHost.SandboxIssuer, path).Sign();

    private static HttpRequestMessage Preflight(string origin) => new(HttpMethod.Options, Select)
    {
        Headers =
        {
            { "Origin", origin },
            { "Access-Control-Request-Method", "POST" },
            { "Access-Control-Request-Headers", "authorization,content-type" },
        },
    };

    [Fact]
    public async Task CorsPreflight_FromConfiguredOrigin_SucceedsWithoutJwt()
    {
        using var response = await host.Client.SendAsync(Preflight(SecuredCdsServiceHost.BrowserOrigin));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(SecuredCdsServiceHost.BrowserOrigin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        var allowed = string.Join(',', response.Headers.GetValues("Access-Control-Allow-Headers")).ToUpperInvariant();
        Assert.Contains("AUTHORIZATION", allowed);
        Assert.Contains("CONTENT-TYPE", allowed);
        Assert.Contains("POST", string.Join(',', response.Headers.GetValues("Access-Control-Allow-Methods")));
    }

    [Fact]
    public async Task CorsPreflight_FromOtherOrigin_GetsNoAllowOrigin()
    {
        using var response = await host.Client.SendAsync(Preflight("https://evil.example.test"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task CrossOriginCall_WithToken_GetsCardsAndAllowOrigin()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Select)
        {
            Content = new StringContent(SecuredCdsServiceHost.ZoloftRequest(), Encoding.UTF8, "application/json"),
            Headers = { { "Origin", SecuredCdsServiceHost.BrowserOrigin }, { "Authorization", "Bearer " + Token() } },
        };
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SecuredCdsServiceHost.BrowserOrigin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    [Fact]
    public async Task RealisticLargePrefetch_FitsUnderTheBodyCap()
    {
        var body = FixtureFiles.ReadFixture("requests/order-select-sertraline-big-benchmark.json");
        Assert.True(Encoding.UTF8.GetByteCount(body) > 30_000);
        using var response = await host.PostAsync(Select, Token(), body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BodyOverTheCap_Returns413ProblemDetails()
    {
        // Expect: 100-continue lets the client read the early 413 instead of writing a body the server will not read.
        using var request = new HttpRequestMessage(HttpMethod.Post, Select)
        {
            Content = new StringContent(OversizedBody(), Encoding.UTF8, "application/json"),
            Headers = { { "Authorization", "Bearer " + Token() } },
        };
        request.Headers.ExpectContinue = true;
        using var response = await host.Client.SendAsync(request);
        await AssertTooLargeAsync(response);
    }

    [Fact]
    public async Task ChunkedBodyOverTheCap_Returns413ProblemDetails()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Select)
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(OversizedBody()))),
            Headers = { { "Authorization", "Bearer " + Token() } },
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.ExpectContinue = true;
        using var response = await host.Client.SendAsync(request);
        await AssertTooLargeAsync(response);
    }

    /// <summary>Just over the default cap of 1 MiB.</summary>
    private static string OversizedBody()
    {
        var request = JsonNode.Parse(SecuredCdsServiceHost.ZoloftRequest())!.AsObject();
        request["padding"] = new string('x', 1024 * 1024 - Encoding.UTF8.GetByteCount(request.ToJsonString()));
        return request.ToJsonString();
    }

    private static async Task AssertTooLargeAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(413, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("Limits:MaxRequestBodyBytes", problem.RootElement.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CdsResponses_CarrySecurityHeaders_AndNoServerHeader(bool authenticated)
    {
        using var response = await host.GetAsync("/cds-services", authenticated ? Token("/cds-services") : null);
        Assert.Equal(authenticated ? HttpStatusCode.OK : HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Contains("default-src 'none'", Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store missing");
        Assert.False(response.Headers.Contains("Server"));
    }
}

/// <summary>The OpenAPI document (open, on the secured host) says which operations need the client JWT.</summary>
public sealed class SecurityOpenApiTests(SecuredCdsServiceHost host) : IClassFixture<SecuredCdsServiceHost>
{
    [Fact]
    public async Task OpenApi_DescribesBearerJwt_AndTheEdgeAnswers_OnProtectedOperations()
    {
        using var response = await host.GetAsync("/openapi/v1.json", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var scheme = doc.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("cdsClientJwt");
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());

        var paths = doc.RootElement.GetProperty("paths");
        foreach (var operation in new[] { paths.GetProperty("/cds-services").GetProperty("get"), paths.GetProperty("/cds-services/{id}").GetProperty("post") })
        {
            Assert.Equal("cdsClientJwt", operation.GetProperty("security")[0].EnumerateObject().Single().Name);
            foreach (var code in new[] { "401", "413", "429", "503" }) Assert.True(operation.GetProperty("responses").TryGetProperty(code, out _), code);
        }
    }

    [Fact]
    public async Task OpenApi_FollowsTheRoutesPolicies_FeedbackAndAnalyticsNeedTheJwt_OpenRoutesNothing()
    {
        using var response = await host.GetAsync("/openapi/v1.json", null);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = doc.RootElement.GetProperty("paths");
        foreach (var (path, method) in new[] { ("/cds-services/{id}/feedback", "post"), ("/analytics/cards", "get"), ("/analytics/cards/report", "get") })
        {
            // No Analytics:ApiKey on this host: the JWT alone.
            Assert.Equal("cdsClientJwt", paths.GetProperty(path).GetProperty(method).GetProperty("security")[0].EnumerateObject().Single().Name);
        }
        foreach (var path in new[] { "/explain", "/explain/{kind}", "/dashboard/api/report" })
        {
            var operation = paths.EnumerateObject().Single(p => p.Name.TrimEnd('/') == path).Value.GetProperty("get");
            Assert.False(operation.TryGetProperty("security", out _), path);
        }
        Assert.False(doc.RootElement.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("analyticsApiKey", out _));
    }
}

/// <summary>With <c>Analytics:ApiKey</c> set, the analytics operations need the key as well as the JWT.</summary>
public sealed class SecurityOpenApiWithKeyTests(SecuredApiKeyHost host) : IClassFixture<SecuredApiKeyHost>
{
    [Fact]
    public async Task OpenApi_AnalyticsOperationsNeedTheJwtAndTheKey_CdsServicesTheJwtOnly()
    {
        using var response = await host.GetAsync("/openapi/v1.json", null);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var key = doc.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("analyticsApiKey");
        Assert.Equal("X-Api-Key", key.GetProperty("name").GetString());
        Assert.Equal("header", key.GetProperty("in").GetString());
        var paths = doc.RootElement.GetProperty("paths");
        string[] Required(string path, string method) =>
            [.. paths.GetProperty(path).GetProperty(method).GetProperty("security")[0].EnumerateObject().Select(s => s.Name).Order(StringComparer.Ordinal)];
        Assert.Equal(["analyticsApiKey", "cdsClientJwt"], Required("/analytics/cards", "get"));
        Assert.Equal(["analyticsApiKey", "cdsClientJwt"], Required("/analytics/cards/report", "get"));
        Assert.Equal(["cdsClientJwt"], Required("/cds-services/{id}", "post"));
    }
}

/// <summary>Bad JSON shapes meet a clear 400, never a 500 (open host: no token needed).</summary>
public sealed class JsonDepthTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    [Theory]
    [InlineData("context")]
    [InlineData("prefetch")]
    [InlineData("extension")]
    public async Task DeeplyNestedBody_Returns400(string where)
    {
        var request = JsonNode.Parse(SecuredCdsServiceHost.ZoloftRequest())!.AsObject();
        var nested = Nested(CdsHooks.Protocol.CdsJson.MaxDepth + 10);
        var json = where switch
        {
            "context" => request.ToJsonString().Replace("\"context\":{", "\"context\":{\"deep\":" + nested + ",", StringComparison.Ordinal),
            "prefetch" => request.ToJsonString().Replace("\"prefetch\":{", "\"prefetch\":{\"patient\":{\"resourceType\":\"Patient\",\"deep\":" + nested + "},", StringComparison.Ordinal),
            _ => request.ToJsonString().TrimEnd('}') + ",\"extension\":" + nested + "}",
        };
        Assert.Contains(nested, json);
        using var response = await host.Client.PostAsync("/cds-services/rls-iron-order-select", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
