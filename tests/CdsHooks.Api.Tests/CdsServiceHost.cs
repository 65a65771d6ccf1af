using System.Net;
using CdsHooks.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsHooks.Api.Tests;

/// <summary>
/// The real service on a real Kestrel socket at 127.0.0.1:&lt;random port&gt;, with a fixed clock and captured logs.
/// Shared per test class through <c>IClassFixture</c>; subclasses add configuration.
/// </summary>
public class CdsServiceHost : WebApplicationFactory<Program>
{
    private HttpClient? _client;
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "cds-tests", Guid.NewGuid().ToString("N"));

    public FixedTimeProvider Clock { get; } = new();
    public LogCapture Logs { get; } = new();

    /// <summary>An HttpClient bound to the Kestrel socket.</summary>
    public HttpClient Client => _client ??= Start();

    public Uri BaseAddress => Client.BaseAddress!;

    /// <summary>This host's own SQLite file (a temp dir per host, so parallel test classes never share a store).</summary>
    public string DatabasePath => Path.Combine(_dataDirectory, "cds.db");

    /// <summary>This host's card-log spool file (in its temp dir).</summary>
    public string SpoolPath => Path.Combine(_dataDirectory, "card-log.spool");

    /// <summary><c>Analytics:PatientKey</c> of every test host: base64 of the bytes 1..32.</summary>
    public static readonly string TestPatientKey = Convert.ToBase64String([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);

    /// <summary>Extra configuration (section:key -> value) for this host.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> Settings => [];

    protected virtual void ConfigureTestServices(IServiceCollection services) { }

    private HttpClient Start()
    {
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        StartServer();
        return CreateClient();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // Open mode for the functional tests; the security tests' hosts configure issuers and turn it back on.
        builder.UseSetting("Security:RequireJwt", "false");
        // Before Settings, so a subclass can point the host at another store (e.g. PostgreSQL).
        builder.UseSetting("Storage:ConnectionString", "Data Source=" + DatabasePath);
        // Outside Development the lock-out needs a configured key; each host its own spool (never the content root's).
        builder.UseSetting("Analytics:PatientKey", TestPatientKey);
        builder.UseSetting("Analytics:CardLogSpoolPath", SpoolPath);
        // The suite shares two cores with builds: functional tests give the lock-out's lookup a second, so a slow moment
        // never turns into "fail open"; the fault tests (StoreOutageTests) keep the production bound.
        builder.UseSetting("Analytics:LockOut:LookupTimeoutMilliseconds", "1000");
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(l => l.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        builder.ConfigureServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            ConfigureTestServices(services);
        });
    }

    protected override void Dispose(bool disposing)
    {
        _client?.Dispose();
        base.Dispose(disposing);
        try
        {
            if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temp file left behind is harmless.
        }
    }
}

/// <summary>
/// A host with one-off settings and, optionally, another environment (start-up failures, security modes, options).
/// </summary>
public sealed class ConfiguredHost : CdsServiceHost
{
    private readonly string? _environment;
    private readonly KeyValuePair<string, string?>[] _settings;

    public ConfiguredHost(params (string Key, string? Value)[] settings) : this(null, settings) { }

    public ConfiguredHost(string? environment, params (string Key, string? Value)[] settings)
    {
        _environment = environment;
        _settings = [.. settings.Select(s => KeyValuePair.Create(s.Key, s.Value))];
    }

    protected override IEnumerable<KeyValuePair<string, string?>> Settings => base.Settings.Concat(_settings);

    /// <summary>The exception a host with these settings fails to start with (the test fails if it starts).</summary>
    public static Exception BootFailure(params (string Key, string? Value)[] settings) => BootFailure(null, settings);

    /// <summary>
    /// The exception a host with these settings fails to start with (the test fails if it starts). The test host factory
    /// learns of the host Program.cs builds through a process-wide diagnostic event, and its deferred host can lose a race
    /// with the disposal of a host that failed to start: the start's own error then surfaces as an ObjectDisposedException
    /// of the factory (dotnet/aspnetcore#33494, #38335; seen here under load even with the boot-failure tests run alone).
    /// Such a start is tried again, at most three times in all; any other exception is returned at once.
    /// </summary>
    public static Exception BootFailure(string? environment, params (string Key, string? Value)[] settings)
    {
        Exception failure = null!;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var host = new ConfiguredHost(environment, settings);
            failure = Assert.ThrowsAny<Exception>(() => host.Client);
            if (failure is not ObjectDisposedException) return failure;
        }
        return failure;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (_environment is not null) builder.UseEnvironment(_environment);
    }
}
