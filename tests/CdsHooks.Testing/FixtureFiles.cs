using System.Text.Json;
using CdsHooks.Protocol;

namespace CdsHooks.Testing;

/// <summary>One place that finds and loads files from fhir-fixtures/ and ../shared/spec-examples/.</summary>
public static class FixtureFiles
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CdsHooks.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (CdsHooks.sln) above " + AppContext.BaseDirectory);
    });

    public static string RepositoryRoot => Root.Value;

    public static string FixturePath(string relative) => Path.Combine(RepositoryRoot, "fhir-fixtures", relative);

    public static string ReadFixture(string relative) => File.ReadAllText(FixturePath(relative));

    /// <summary>The shared spec examples sit beside the repository (../shared) in CI and on developer machines.</summary>
    public static string? SpecExamplesDirectory
    {
        get
        {
            var dir = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "spec-examples"));
            return Directory.Exists(dir) ? dir : null;
        }
    }

    public static CdsRequest LoadRequest(string relative) =>
        JsonSerializer.Deserialize(ReadFixture(relative), CdsJson.RequestInfo) ?? throw new InvalidOperationException(relative + " is empty");

    public static IReadOnlyList<Scenario> Scenarios() =>
        JsonSerializer.Deserialize<List<Scenario>>(ReadFixture("scenarios.json"), new JsonSerializerOptions(JsonSerializerDefaults.Web)) ?? [];
}

/// <summary>An entry of fhir-fixtures/scenarios.json.</summary>
public sealed class Scenario
{
    public string Name { get; set; } = "";
    public string Request { get; set; } = "";
    public string ServiceId { get; set; } = "";
    public List<string> ExpectedTopics { get; set; } = [];
    public string? Why { get; set; }

    public override string ToString() => Name;
}
