using System.Net;
using System.Text;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.LockOut;
using CdsHooks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Tests.Operations;

/// <summary>A bad configuration stops the service at boot with a message naming the key, never at the first request.</summary>
[Collection(BootFailureCollection.Name)]
public sealed class StartupValidationTests
{
    [Fact]
    public void WindowOutOfRange_FailsAtBoot_NamingTheKey()
    {
        var ex = ConfiguredHost.BootFailure(("Rls:IronStudiesWindowDays", "5"));
        var validation = FindInner<OptionsValidationException>(ex);
        Assert.Contains("Rls:IronStudiesWindowDays", validation.Message);
    }

    [Theory]
    [InlineData("Analytics:CardLogLingerMilliseconds", "-1")]
    [InlineData("Analytics:CardLogLingerMilliseconds", "1001")]
    [InlineData("Analytics:CardLogBatchSize", "0")]
    [InlineData("Analytics:CardLogQueueCapacity", "0")]
    [InlineData("Analytics:CardLogRetryMaxMilliseconds", "2001")]
    [InlineData("Analytics:CardLogWriteTimeoutMilliseconds", "10")]
    [InlineData("Analytics:CardLogSpoolMaxBytes", "1000")]
    public void CardLogSettingOutOfRange_FailsAtBoot_NamingTheKey(string key, string value)
    {
        var ex = ConfiguredHost.BootFailure((key, value));
        Assert.Contains(key, FindInner<OptionsValidationException>(ex).Message);
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Testing")]
    public void PatientKeyMissing_OutsideDevelopmentWithTheLockOutOn_FailsAtBootNamingTheKey(string environment)
    {
        var ex = ConfiguredHost.BootFailure(environment, ("Analytics:PatientKey", null));
        var message = FindInner<OptionsValidationException>(ex).Message;
        Assert.Contains("Analytics:PatientKey is required", message);
        Assert.Contains("Analytics__LockOut__Enabled=false", message);
    }

    [Theory]
    [InlineData("Analytics:PatientKey", "not base64!")]
    [InlineData("Analytics:PatientKey", "c2hvcnQga2V5")] // base64 of 9 bytes
    [InlineData("Analytics:LockOut:DefaultDays", "-1")]
    [InlineData("Analytics:LockOut:Days:iron-therapie", "30")]
    [InlineData("Analytics:LockOut:Days:iron-therapy", "4000")]
    [InlineData("Analytics:LockOut:EncounterHours", "1000")]
    [InlineData("Analytics:LockOut:NoEncounterMinutes", "-5")]
    [InlineData("Analytics:LockOut:LookupTimeoutMilliseconds", "0")]
    public void LockOutSettingInvalid_FailsAtBoot_NamingTheKey(string key, string value)
    {
        var ex = ConfiguredHost.BootFailure((key, value));
        Assert.Contains(key, FindInner<OptionsValidationException>(ex).Message);
    }

    [Fact]
    public async Task PatientKeyMissing_LockOutOff_StartsAndKeepsNoHash()
    {
        using var host = new ConfiguredHost("Production", ("Analytics:PatientKey", null), ("Analytics:LockOut:Enabled", "false"));
        var (hookInstance, cards) = await HookCalls.CallAsync(host.Client, encounterId: "visit-1");
        await host.Services.GetRequiredService<CardLogWriter>().FlushAsync(CancellationToken.None);

        var rows = await host.CardLogRowsAsync(hookInstance);
        Assert.Equal(cards.Count, rows.Count);
        Assert.All(rows, r => Assert.Null(r["patient_key"]));
        Assert.All(rows, r => Assert.Null(r["encounter_key"]));
    }

    [Fact]
    public void PatientKeyMissing_Development_GeneratesOneInTheDataFolderWithALoudWarning()
    {
        using var host = new ConfiguredHost("Development", ("Analytics:PatientKey", null));
        _ = host.Client;

        var file = Path.Combine(Path.GetDirectoryName(host.DatabasePath)!, LockOutExtensions.DevelopmentKeyFile);
        Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(file)).Length);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("Analytics:PatientKey is not set", StringComparison.Ordinal));
    }

    [Fact]
    public void KnowledgePathMissing_FailsAtBoot_NamingTheKey()
    {
        var ex = ConfiguredHost.BootFailure(("Rls:KnowledgePath", "/nonexistent/knowledge.json"));
        Assert.Contains("Rls:KnowledgePath", FindInner<OptionsValidationException>(ex).Message);
    }

    [Fact]
    public void BrokenKnowledgeFile_FailsAtBoot_NamingTheEntry()
    {
        var path = Path.Combine(Path.GetTempPath(), $"knowledge-{Guid.NewGuid():N}.json");
        var original = File.ReadAllText(Path.Combine(FixtureFiles.RepositoryRoot, "src/CdsHooks.Rls/Knowledge/rls-knowledge.json"));
        File.WriteAllText(path, original.Replace("\"ferritinIronTherapyMaxNgPerMl\": {\n      \"value\": 75", "\"ferritinIronTherapyMaxNgPerMl\": {\n      \"value\": 150", StringComparison.Ordinal));
        try
        {
            var ex = ConfiguredHost.BootFailure(("Rls:KnowledgePath", path));
            Assert.Contains("ferritin thresholds must rise", FindInner<InvalidOperationException>(ex).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ShorterWindow_FromConfiguration_ChangesWhichResultsCountAsRecent()
    {
        // The fixture's labs are from 2026-09-10, 72 days before the fixed clock: recent at 365 days, stale at 60.
        using var host = new ConfiguredHost(("Rls:IronStudiesWindowDays", "60"));
        var body = FixtureFiles.ReadFixture("requests/order-select-zoloft-text-low-iron.json");
        using var response = await host.Client.PostAsync("/cds-services/rls-iron-order-select", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["ssri-caution"], CardAssertions.Topics(CardAssertions.AssertConformantResponse(json)));
        Assert.Contains("last 2 months", json);
    }

    private static T FindInner<T>(Exception ex) where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T t) return t;
            if (e is AggregateException agg && agg.InnerExceptions.Select(FindInnerOrNull<T>).FirstOrDefault(x => x is not null) is { } found) return found;
        }
        throw new Xunit.Sdk.XunitException($"No {typeof(T).Name} in {ex}");
    }

    private static T? FindInnerOrNull<T>(Exception ex) where T : Exception
    {
        try { return FindInner<T>(ex); } catch (Xunit.Sdk.XunitException) { return null; }
    }
}
