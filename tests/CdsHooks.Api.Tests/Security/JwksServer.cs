using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsHooks.Api.Tests.Security;

/// <summary>
/// An EHR's JWKS endpoint on loopback: serves <c>/{name}/jwks.json</c>, counts fetches, and can be taken down
/// (the connection is reset) per name.
/// </summary>
public sealed class JwksServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, string> _sets = new();
    private readonly ConcurrentDictionary<string, int> _fetches = new();
    private readonly ConcurrentDictionary<string, bool> _down = new();
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public string UrlOf(string name) => new Uri(BaseAddress, $"{name}/jwks.json").AbsoluteUri;

    public void Serve(string name, params TestSigningKey[] keys) => _sets[name] = TestSigningKey.Jwks(keys);

    public void SetDown(string name, bool down) => _down[name] = down;

    public int FetchCount(string name) => _fetches.GetValueOrDefault(name);

    public int TotalFetches => _fetches.Values.Sum();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapGet("/{name}/jwks.json", (string name, HttpContext context) =>
        {
            _fetches.AddOrUpdate(name, 1, (_, n) => n + 1);
            if (_down.GetValueOrDefault(name))
            {
                context.Abort();
                return Results.Empty;
            }
            return _sets.TryGetValue(name, out var json) ? Results.Text(json, "application/json") : Results.NotFound();
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
