using System.Net;
using CdsHooks.Api.Security;
using CdsHooks.Storage;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Tests.Storage;

/// <summary>A node configured with <c>Redis:ConnectionString</c>.</summary>
public sealed class RedisHost : CdsServiceHost
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [new("Redis:ConnectionString", Environment.GetEnvironmentVariable(TestServers.RedisVariable) ?? "")];
}

public sealed class RedisConfiguredNodeTests(RedisHost host) : IClassFixture<RedisHost>
{
    [RequiresRedisFact]
    public async Task RedisConfigured_NodeUsesRedisForJti_AndAnotherNodeSeesIt()
    {
        _ = host.Client; // start on the Kestrel socket before reading Services
        var nodeStore = host.Services.GetRequiredService<IJtiReplayStore>();
        Assert.IsType<RedisJtiReplayStore>(nodeStore);
        await using var other = await TestServers.ConnectRedisAsync();
        var otherNode = new RedisJtiReplayStore(other, TimeProvider.System);
        var jti = Guid.NewGuid().ToString();

        Assert.True(await nodeStore.TryMarkUsedAsync("iss", jti, DateTimeOffset.UtcNow.AddMinutes(5), CancellationToken.None));
        Assert.False(await otherNode.TryMarkUsedAsync("iss", jti, DateTimeOffset.UtcNow.AddMinutes(5), CancellationToken.None));
    }

    [RequiresRedisFact]
    public async Task RedisConfigured_ReadinessChecksRedis()
    {
        using var ready = await host.Client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var checks = host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        Assert.Contains(checks, c => c.Name == "redis" && c.Tags.Contains("ready"));
    }

    [Fact]
    public void RedisNotConfigured_NoRedisJtiStoreIsRegistered()
    {
        using var plain = new CdsServiceHost();
        _ = plain.Client; // start on the Kestrel socket, as every other host here does
        Assert.IsType<InMemoryJtiReplayStore>(plain.Services.GetService<IJtiReplayStore>());
    }
}
