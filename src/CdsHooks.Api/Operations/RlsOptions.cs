using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Operations;

/// <summary>Configuration section <c>Rls</c>. Validated at start-up: a bad value stops the service at boot.</summary>
public sealed class RlsOptions
{
    public const string Section = "Rls";

    /// <summary>A knowledge file to use instead of the embedded one (for a clinical reviewer's edits).</summary>
    public string? KnowledgePath { get; set; }

    /// <summary>Overrides the knowledge file's iron-studies recency window, in days.</summary>
    public int? IronStudiesWindowDays { get; set; }

    /// <summary>Also use Observations with status 'preliminary'.</summary>
    public bool AcceptPreliminaryResults { get; set; }
}

public sealed class RlsOptionsValidator : IValidateOptions<RlsOptions>
{
    public ValidateOptionsResult Validate(string? name, RlsOptions options)
    {
        var failures = new List<string>();
        if (options.KnowledgePath is { Length: > 0 } path && !File.Exists(path))
        {
            failures.Add($"Rls:KnowledgePath: file '{path}' does not exist.");
        }
        if (options.IronStudiesWindowDays is { } days && (days < 30 || days > 3650))
        {
            failures.Add($"Rls:IronStudiesWindowDays: {days} is outside 30..3650 days.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
