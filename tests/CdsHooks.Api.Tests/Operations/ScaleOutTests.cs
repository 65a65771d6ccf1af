using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CdsHooks.Api.Tests.Feedback;
using CdsHooks.Api.Tests.Security;
using CdsHooks.Testing;
using Xunit.Abstractions;

namespace CdsHooks.Api.Tests.Operations;

/// <summary>
/// Two service processes on different ports, sharing only the real PostgreSQL and Redis, behave as one: feedback
/// posted to either node shows in both nodes' analytics.
/// </summary>
public sealed class ScaleOutTests(ITestOutputHelper output)
{
    [RequiresPostgresAndRedisFact]
    public async Task TwoNodes_FeedbackOnEitherNode_ShowsInBothNodesAnalytics()
    {
        var database = await TestServers.CreateDatabaseAsync();
        try
        {
            using var key = TestSigningKey.Es384("scale-out-1");
            var environment = SharedNodeSettings(database, key);
            // Both start at once on the empty database: the schema migration must not race.
            var nodes = await Task.WhenAll(
                ServiceProcess.StartAsync(environment, new SigningHandler(key, Issuer, PublicBaseUrl)),
                ServiceProcess.StartAsync(environment, new SigningHandler(key, Issuer, PublicBaseUrl)));
            await using var a = nodes[0];
            await using var b = nodes[1];
            Assert.NotEqual(a.BaseAddress.Port, b.BaseAddress.Port);

            // Cards issued by node A (real clock: the child processes have no fixed clock).
            var (_, cards) = await HookCalls.CallAsync(a.Client);
            var therapy = cards.Single(c => c.Source.Topic!.Code == "iron-therapy");
            var ssri = cards.Single(c => c.Source.Topic!.Code == "ssri-caution");
            var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

            // Feedback to node B on one card and to node A on the other.
            await HookCalls.PostFeedbackAsync(b.Client, FeedbackTests.Body(FeedbackTests.Accepted(therapy.Uuid!, therapy.Suggestions![0].Uuid!, now)));
            await HookCalls.PostFeedbackAsync(a.Client, FeedbackTests.Body(FeedbackTests.Overridden(ssri.Uuid!, "benefit-outweighs-risk", now)));

            foreach (var node in nodes)
            {
                var (therapyStats, ssriStats, waited) = await WaitForAnalyticsAsync(node.Client);
                output.WriteLine($"node :{node.BaseAddress.Port} saw both cards and both reports after {waited.TotalMilliseconds:0} ms");
                Assert.Equal(1, therapyStats.GetProperty("issued").GetInt64());
                Assert.Equal(1, therapyStats.GetProperty("accepted").GetInt64());
                Assert.Equal(1, ssriStats.GetProperty("overridden").GetInt64());
                Assert.Equal("benefit-outweighs-risk", ssriStats.GetProperty("topOverrideReasons")[0].GetProperty("code").GetString());
            }
        }
        finally
        {
            await TestServers.DropDatabaseAsync(database);
        }
    }



    [RequiresPostgresAndRedisFact]
    public async Task TwoNodes_TokenReplayedToTheOtherNode_IsRefused()
    {
        var database = await TestServers.CreateDatabaseAsync();
        try
        {
            using var key = TestSigningKey.Es384("scale-out-2");
            var environment = SharedNodeSettings(database, key);
            var signer = new SigningHandler(key, Issuer, PublicBaseUrl);
            await using var a = await ServiceProcess.StartAsync(environment, signer);
            await using var b = await ServiceProcess.StartAsync(environment);

            using var first = await a.Client.GetAsync("/cds-services");
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);

            // The same token (same jti, same public aud: both nodes sit behind one public URL) sent to node B.
            using var replay = new HttpRequestMessage(HttpMethod.Get, "/cds-services");
            replay.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", signer.LastToken);
            using var replayed = await b.Client.SendAsync(replay);
            Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
            Assert.Equal("", await replayed.Content.ReadAsStringAsync());

            // A fresh token is still welcome on node B.
            using var fresh = new HttpRequestMessage(HttpMethod.Get, "/cds-services");
            fresh.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
                new TestToken(key, Issuer, new Uri(PublicBaseUrl, "/cds-services").ToString(), DateTimeOffset.UtcNow).Sign());
            using var welcomed = await b.Client.SendAsync(fresh);
            Assert.Equal(HttpStatusCode.OK, welcomed.StatusCode);
        }
        finally
        {
            await TestServers.DropDatabaseAsync(database);
        }
    }

    private const string Issuer = "https://ehr.example.test";
    private static readonly Uri PublicBaseUrl = new("https://cds.example.test");

    /// <summary>What every node of one deployment shares: stores, trusted issuer, and the public URL in front of them.</summary>
    private static Dictionary<string, string> SharedNodeSettings(string database, TestSigningKey key) => new()
    {
        ["Storage__Provider"] = "postgres",
        ["Storage__ConnectionString"] = database,
        ["Redis__ConnectionString"] = TestServers.Redis,
        ["Security__RequireJwt"] = "true",
        ["Security__PublicBaseUrl"] = PublicBaseUrl.ToString().TrimEnd('/'),
        ["Security__Issuers__0__Issuer"] = Issuer,
        ["Security__Issuers__0__Jwks"] = TestSigningKey.Jwks(key),
    };

    /// <summary>
    /// The card log is written behind the response (on node A), so a node may answer before it lands: poll with a
    /// deadline. Feedback needs no wait (200 means committed); the issued count is what may lag.
    /// </summary>
    private static async Task<(JsonElement Therapy, JsonElement Ssri, TimeSpan Waited)> WaitForAnalyticsAsync(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync("/analytics/cards");
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            using var doc = JsonDocument.Parse(text);
            var kinds = doc.RootElement.GetProperty("cards").EnumerateArray().ToList();
            var therapy = kinds.FirstOrDefault(k => k.GetProperty("cardKind").GetString() == "iron-therapy");
            var ssri = kinds.FirstOrDefault(k => k.GetProperty("cardKind").GetString() == "ssri-caution");
            if (therapy.ValueKind == JsonValueKind.Object && ssri.ValueKind == JsonValueKind.Object
                && therapy.GetProperty("issued").GetInt64() > 0 && ssri.GetProperty("issued").GetInt64() > 0)
            {
                return (therapy.Clone(), ssri.Clone(), clock.Elapsed);
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the card log did not reach the shared store within 20 s: " + text);
            await Task.Delay(50);
        }
    }
}
