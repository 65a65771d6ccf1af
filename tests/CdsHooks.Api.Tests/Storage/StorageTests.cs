using System.Net;
using System.Text;
using CdsHooks.Api.Tests.Feedback;
using CdsHooks.Protocol;
using CdsHooks.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Tests.Storage;

/// <summary>A bad storage or Redis setting stops the start, naming the key (the validators alone: CdsHooks.Storage.Tests).</summary>
[Collection(BootFailureCollection.Name)]
public sealed class StorageTests
{
    [Fact]
    public void RedisOperationTimeoutOutOfRange_StopsTheStartWithTheKeyInTheMessage()
    {
        using var host = new ConfiguredHost(("Redis:OperationTimeoutMilliseconds", "5000"));
        var error = Assert.Throws<OptionsValidationException>(() => host.Client);
        Assert.Contains("Redis:OperationTimeoutMilliseconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadStorageProvider_StopsTheStartWithTheKeyInTheMessage()
    {
        using var host = new ConfiguredHost(("Storage:Provider", "oracle"));
        var error = Assert.Throws<OptionsValidationException>(() => host.Client);
        Assert.Contains("Storage:Provider", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>A host whose store a test can take down after start-up (the schema is migrated while it is up).</summary>
public sealed class StoreDownHost : CdsServiceHost
{
    public SwitchableDatabase Database { get; private set; } = null!;

    protected override void ConfigureTestServices(IServiceCollection services) =>
        services.AddSingleton<CdsDatabase>(sp =>
            Database = new SwitchableDatabase(new SqliteCdsDatabase("Data Source=" + DatabasePath, Path.GetTempPath())));

    public sealed class SwitchableDatabase(CdsDatabase inner) : CdsDatabase
    {
        public volatile bool Down;

        public override string Provider => inner.Provider;
        public override string Location => inner.Location;

        public override Task<System.Data.Common.DbConnection> OpenAsync(CancellationToken cancellationToken) =>
            Down ? throw new SqliteException("unable to open database file (simulated)", 14) : inner.OpenAsync(cancellationToken);

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}

/// <summary>When the store fails: feedback 503 with Retry-After (nothing acknowledged that was not stored), analytics 503, not ready.</summary>
public sealed class StoreDownTests(StoreDownHost host) : IClassFixture<StoreDownHost>
{
    [Fact]
    public async Task StoreDown_FeedbackAnalyticsAndReadiness_Return503()
    {
        _ = host.Client;
        host.Database.Down = true;
        try
        {
            using var content = new StringContent(FeedbackTests.Body(FeedbackTests.Accepted(Guid.NewGuid().ToString(), Guid.NewGuid().ToString())), Encoding.UTF8, "application/json");
            using var feedback = await host.Client.PostAsync("/cds-services/rls-iron-order-select/feedback", content);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, feedback.StatusCode);
            Assert.NotNull(feedback.Headers.RetryAfter);

            using var analytics = await host.Client.GetAsync("/analytics/cards");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, analytics.StatusCode);

            using var ready = await host.Client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }
        finally
        {
            host.Database.Down = false;
        }
    }
}
