using CdsHooks.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsHooks.Oracle.Tests;

/// <summary>
/// The service in memory (ASP.NET Core's test server: the response bytes are the ones Kestrel would send, this project
/// tests what is in them, not the socket), with the fixtures' clock, open mode and its own SQLite file.
/// </summary>
public sealed class ServiceHost : WebApplicationFactory<Program>
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "cds-oracle-tests", Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Security:RequireJwt", "false");
        // Every fixture is answered on its own: no card held back because another fixture showed it to the same patient id.
        builder.UseSetting("Analytics:LockOut:Enabled", "false");
        builder.UseSetting("Storage:ConnectionString", "Data Source=" + Path.Combine(_dataDirectory, "cds.db"));
        builder.ConfigureLogging(logging => logging.ClearProviders());
        builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(new FixedTimeProvider()));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }
}
