using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Dashboard;

/// <summary>Section <c>Dashboard</c>. The operator key itself is <c>Analytics:ApiKey</c>.</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>How long a session cookie is valid after the key was entered (absolute, not sliding).</summary>
    public int SessionMinutes { get; set; } = 60;

    /// <summary>Failed or successful logins one client address may try per minute.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;
}

public sealed class DashboardOptionsValidator : IValidateOptions<DashboardOptions>
{
    public ValidateOptionsResult Validate(string? name, DashboardOptions options)
    {
        var errors = new List<string>();
        if (options.SessionMinutes is < 5 or > 1440) errors.Add("Dashboard:SessionMinutes must be between 5 and 1440.");
        if (options.LoginAttemptsPerMinute is < 1 or > 1000) errors.Add("Dashboard:LoginAttemptsPerMinute must be between 1 and 1000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
