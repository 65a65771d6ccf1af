using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Analytics;

/// <summary>Section <c>Analytics</c>: the card log queue and the analytics endpoint's optional key.</summary>
public sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    /// <summary>When set, <c>/analytics/*</c> also requires the header <c>X-Api-Key</c> with this value.</summary>
    public string? ApiKey { get; set; }

    public bool RequiresApiKey => !string.IsNullOrWhiteSpace(ApiKey);

    /// <summary>Cards the log may hold before hook calls wait for the writer (back-pressure).</summary>
    public int CardLogQueueCapacity { get; set; } = 10_000;

    /// <summary>Most cards written in one transaction.</summary>
    public int CardLogBatchSize { get; set; } = 500;

    /// <summary>
    /// How long the writer waits for more cards before writing a batch that is not full (0 = write at once). Bounds
    /// how stale the log is; saves a transaction per hook call under load.
    /// </summary>
    public int CardLogLingerMilliseconds { get; set; } = 10;

    /// <summary>How many override reasons each card kind lists.</summary>
    public int TopOverrideReasons { get; set; } = 5;
}

public sealed class AnalyticsOptionsValidator : IValidateOptions<AnalyticsOptions>
{
    public ValidateOptionsResult Validate(string? name, AnalyticsOptions options)
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.ApiKey) && options.ApiKey.Trim().Length < 16)
        {
            errors.Add("Analytics:ApiKey must be at least 16 characters (or unset).");
        }
        if (options.CardLogQueueCapacity is < 1 or > 1_000_000) errors.Add("Analytics:CardLogQueueCapacity must be between 1 and 1000000.");
        if (options.CardLogBatchSize is < 1 or > 10_000) errors.Add("Analytics:CardLogBatchSize must be between 1 and 10000.");
        if (options.CardLogLingerMilliseconds is < 0 or > 1000) errors.Add("Analytics:CardLogLingerMilliseconds must be between 0 and 1000.");
        if (options.TopOverrideReasons is < 0 or > 100) errors.Add("Analytics:TopOverrideReasons must be between 0 and 100.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
