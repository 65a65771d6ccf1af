using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsHooks.Testing;

namespace CdsHooks.Api.Tests.Operations;

/// <summary>
/// What the console shows for a hook call, from the built service as a process: the simple one-line format of
/// Development and the JSON lines of every other environment both carry the call's hookInstance (the correlation
/// id) — not the type name of the scope's state — and never the patient id.
/// </summary>
public sealed class ConsoleLogTests : IDisposable
{
    private static readonly TimeSpan LineTimeout = TimeSpan.FromSeconds(30);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cds-tests", Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task HookCall_ConsoleLogLine_NamesTheHookInstance(string environment)
    {
        var request = JsonNode.Parse(FixtureFiles.ReadFixture(HookCalls.ZoloftLowIron))!.AsObject();
        var hookInstance = Guid.NewGuid().ToString();
        request["hookInstance"] = hookInstance;
        var patientId = request["context"]!["patientId"]!.GetValue<string>();
        await using var node = await ServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = environment,
            ["Logging__LogLevel__Default"] = "Information",
            ["Storage__ConnectionString"] = "Data Source=" + Path.Combine(_folder, "cds.db"),
        });

        using var response = await node.Client.PostAsync("/cds-services/rls-iron-order-select", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"));
        var line = await node.WaitForLineAsync("Answered with", LineTimeout);

        Assert.True(response.IsSuccessStatusCode, line);
        Assert.DoesNotContain("System.Collections", line, StringComparison.Ordinal);
        if (environment == "Development")
        {
            Assert.Contains($"hookInstance:{hookInstance} serviceId:rls-iron-order-select", line, StringComparison.Ordinal);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: ", line); // the time, then a space
        }
        else
        {
            var scopes = JsonNode.Parse(line)!["Scopes"]!.AsArray();
            var scope = Assert.Single(scopes, s => s is JsonObject o && o.ContainsKey("hookInstance"))!;
            Assert.Equal(hookInstance, scope["hookInstance"]!.GetValue<string>());
            Assert.Equal("rls-iron-order-select", scope["serviceId"]!.GetValue<string>());
            Assert.Equal($"hookInstance:{hookInstance} serviceId:rls-iron-order-select", scope["Message"]!.GetValue<string>());
        }
        Assert.DoesNotContain(patientId, node.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp file left behind is harmless.
        }
    }
}
