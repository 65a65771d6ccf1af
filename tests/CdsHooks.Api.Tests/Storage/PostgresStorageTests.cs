using System.Net;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.Tests.Feedback;
using CdsHooks.Storage;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Storage;

/// <summary>The service on a fresh database of the real test PostgreSQL (CDS_TEST_POSTGRES).</summary>
public class PostgresHost : CdsServiceHost, IAsyncLifetime
{
    public string? ConnectionString { get; private set; }

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [new("Storage:Provider", "postgres"), new("Storage:ConnectionString", ConnectionString ?? "Host=postgres-not-configured")];

    public async Task InitializeAsync()
    {
        // Outside CI without the server, every test here is skipped and no database is made; in CI this throws.
        if (TestServers.SkipReason(TestServers.PostgresVariable) is null) ConnectionString = await TestServers.CreateDatabaseAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (ConnectionString is not null) await TestServers.DropDatabaseAsync(ConnectionString);
    }
}

public sealed class PostgresStorageTests(PostgresHost host) : IClassFixture<PostgresHost>
{
    [RequiresPostgresFact]
    public async Task Host_OnPostgres_StoresFeedbackOnceAndJoinsItToTheCardLog()
    {
        _ = host.Client; // start on the Kestrel socket before reading Services
        Assert.Equal("postgres", host.Services.GetRequiredService<CdsDatabase>().Provider);
        var (_, cards) = await HookCalls.CallAsync(host.Client);
        await host.Services.GetRequiredService<CardLogWriter>().FlushAsync(CancellationToken.None);
        var therapy = cards.Single(c => c.Source.Topic!.Code == "iron-therapy");
        var body = FeedbackTests.Body(FeedbackTests.Accepted(therapy.Uuid!, therapy.Suggestions![0].Uuid!, "2026-11-21T12:05:00Z"));

        await HookCalls.PostFeedbackAsync(host.Client, body);
        await HookCalls.PostFeedbackAsync(host.Client, body);

        Assert.Single(await host.FeedbackRowsAsync(therapy.Uuid!));
        using var response = await host.Client.GetAsync("/analytics/cards?from=2026-11-21&to=2026-11-21");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var report = System.Text.Json.JsonDocument.Parse(text);
        var kind = report.RootElement.GetProperty("cards").EnumerateArray().Single(c => c.GetProperty("cardKind").GetString() == "iron-therapy");
        Assert.True(kind.GetProperty("issued").GetInt64() >= 1, text);
        Assert.True(kind.GetProperty("accepted").GetInt64() >= 1, text);
    }
}
