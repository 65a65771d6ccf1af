using System.Data.Common;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Api.Tests.Feedback;
using CdsHooks.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Storage;

/// <summary>
/// A host whose SQLite file a test can fill up: while <see cref="PageLimitedDatabase.Full"/> is set, every connection
/// the service opens gets <c>PRAGMA max_page_count</c> at the file's current size, so SQLite itself refuses any write
/// that needs a new page with SQLITE_FULL ("database or disk is full"), as on a full disk.
/// </summary>
public sealed class StoreOutOfSpaceHost : CdsServiceHost
{
    public PageLimitedDatabase Database { get; private set; } = null!;

    protected override void ConfigureTestServices(IServiceCollection services) =>
        services.AddSingleton<CdsDatabase>(_ => Database = new PageLimitedDatabase(new SqliteCdsDatabase("Data Source=" + DatabasePath, Path.GetTempPath())));

    public sealed class PageLimitedDatabase(CdsDatabase inner) : CdsDatabase
    {
        public volatile bool Full;

        public override string Provider => inner.Provider;
        public override string Location => inner.Location;

        public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
        {
            var connection = await inner.OpenAsync(cancellationToken);
            await using var limit = connection.CreateCommand();
            // A limit below the file's size is raised to it: "no page more than now". Connections are pooled, so the
            // limit is set (or lifted) on every open.
            limit.CommandText = Full ? "PRAGMA max_page_count = 1" : "PRAGMA max_page_count = 4294967294";
            await limit.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}

/// <summary>SQLite out of space: feedback 503 with Retry-After (nothing acknowledged), readiness says so, both recover.</summary>
public sealed class StoreOutOfSpaceTests(StoreOutOfSpaceHost host) : IClassFixture<StoreOutOfSpaceHost>
{
    private const string Feedback = "/cds-services/rls-iron-order-select/feedback";

    [Fact]
    public async Task SqliteOutOfSpace_Feedback503AndNotReady_ThenBothRecoverWithoutAnyOtherWrite()
    {
        _ = host.Client;
        // Many reports with long override reasons: more than the free room of any page.
        var cards = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid().ToString()).ToList();
        var body = FeedbackTests.Body([.. cards.Select(c => FeedbackTests.Overridden(c, "benefit-outweighs-risk-" + new string('x', 100)))]);

        host.Database.Full = true;
        try
        {
            using var refused = await PostAsync(body);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Empty(await host.FeedbackRowsAsync(cards[0]));

            var (status, storage) = await ReadinessAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            var description = storage.GetProperty("description").GetString();
            Assert.Contains("feedback writes failing", description);
            Assert.Contains("full", description);
            // Still full: readiness' write probe fails too, and readiness stays unhealthy.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ReadinessAsync()).Status);
        }
        finally
        {
            host.Database.Full = false;
        }

        // Room again: readiness probes a write and recovers by itself, before any feedback comes back.
        var (recovered, check) = await ReadinessAsync();
        Assert.True(recovered == HttpStatusCode.OK, check.ToString());
        using var stored = await PostAsync(body);
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Single(await host.FeedbackRowsAsync(cards[^1]));
        Assert.Single(host.Logs.Lines, l => l.Contains("Store feedback is failing", StringComparison.Ordinal));
        Assert.Single(host.Logs.Lines, l => l.Contains("Store feedback recovered", StringComparison.Ordinal));
    }

    private Task<HttpResponseMessage> PostAsync(string body) => host.Client.PostAsync(Feedback, new StringContent(body, Encoding.UTF8, "application/json"));

    private async Task<(HttpStatusCode Status, JsonElement Storage)> ReadinessAsync()
    {
        using var response = await host.Client.GetAsync("/health/ready");
        var report = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, JsonDocument.Parse(report["checks"]!["storage"]!.ToJsonString()).RootElement.Clone());
    }
}
