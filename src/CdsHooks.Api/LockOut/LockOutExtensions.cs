using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using CdsHooks.Api.Analytics;
using CdsHooks.Storage;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.LockOut;

public static partial class LockOutExtensions
{
    /// <summary>The development key file, in the data folder.</summary>
    public const string DevelopmentKeyFile = "patient-key.dev";

    /// <summary>The lock-out after override and the one-reminder-per-encounter rule (<c>Analytics:LockOut</c>, <c>Analytics:PatientKey</c>).</summary>
    public static IServiceCollection AddCardLockOut(this IServiceCollection services)
    {
        services.AddSingleton<CardHistoryQuery>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AnalyticsOptions>>();
            var logger = sp.GetRequiredService<ILogger<CardLockOut>>();
            var keyring = options.Value.LockOut.Enabled
                ? new PatientKeyring(PatientKey(options.Value, sp.GetRequiredService<DataFolder>(), logger))
                : null;
            return new CardLockOut(options, keyring, sp.GetRequiredService<CardHistoryQuery>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<IMeterFactory>(), logger);
        });
        // Built at start-up, not at the first hook call: the development key is made (and announced) before any traffic.
        services.AddHostedService<LockOutStartup>();
        return services;
    }

    /// <summary>
    /// <c>Analytics:PatientKey</c>; without it (Development only: elsewhere the options validation stopped the boot) a
    /// random key kept in the data folder, so hashes, and lock-outs, survive a restart of a developer's service.
    /// </summary>
    private static byte[] PatientKey(AnalyticsOptions options, DataFolder dataFolder, ILogger logger)
    {
        if (!string.IsNullOrWhiteSpace(options.PatientKey)) return AnalyticsOptionsValidator.DecodePatientKey(options.PatientKey)!;
        var path = dataFolder.Resolve(DevelopmentKeyFile);
        if (File.Exists(path) && AnalyticsOptionsValidator.DecodePatientKey(File.ReadAllText(path)) is { Length: >= AnalyticsOptionsValidator.MinimumPatientKeyBytes } kept)
        {
            LogDevelopmentKey(logger, path, "kept from an earlier run");
            return kept;
        }
        var key = RandomNumberGenerator.GetBytes(AnalyticsOptionsValidator.MinimumPatientKeyBytes);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var write = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) write.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new StreamWriter(path, write)) file.Write(Convert.ToBase64String(key));
        LogDevelopmentKey(logger, path, "generated now");
        return key;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "!!! Analytics:PatientKey is not set: Development hashes patient ids with the key in {Path} ({How}). " +
        "Outside Development the service refuses to start without Analytics:PatientKey (base64 of 32 random bytes, the same on every node, kept secret).")]
    private static partial void LogDevelopmentKey(ILogger logger, string path, string how);

    private sealed class LockOutStartup(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => services.GetRequiredService<CardLockOut>().WarmUpAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
