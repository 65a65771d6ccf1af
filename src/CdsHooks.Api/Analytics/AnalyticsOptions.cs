using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Analytics;

/// <summary>Section <c>Analytics</c>: the card log (queue, writer, spool) and the analytics endpoint's optional key.</summary>
public sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    /// <summary>When set, <c>/analytics/*</c> also requires the header <c>X-Api-Key</c> with this value.</summary>
    public string? ApiKey { get; set; }

    public bool RequiresApiKey => !string.IsNullOrWhiteSpace(ApiKey);

    /// <summary>
    /// Cards held in memory for the writer. The writer moves them to the spool once half of it is used, so it fills only
    /// when the writer itself is stuck; a card arriving then is dropped (counted), never waited for.
    /// </summary>
    public int CardLogQueueCapacity { get; set; } = 10_000;

    /// <summary>Most cards written in one transaction (and replayed from the spool at a time).</summary>
    public int CardLogBatchSize { get; set; } = 500;

    /// <summary>
    /// How long the writer waits for more cards before writing a batch that is not full (0 = write at once). Bounds
    /// how stale the log is; saves a transaction per hook call under load.
    /// </summary>
    public int CardLogLingerMilliseconds { get; set; } = 10;

    /// <summary>One store write may take this long; past it the batch goes to the spool and the store counts as failing.</summary>
    public int CardLogWriteTimeoutMilliseconds { get; set; } = 2000;

    /// <summary>Longest pause between two attempts at a failing store (backoff from 100 ms, doubling up to this).</summary>
    public int CardLogRetryMaxMilliseconds { get; set; } = 2000;

    /// <summary>The spool file; relative paths are taken from the content root. Default: <c>card-log.spool</c> in the data folder.</summary>
    public string? CardLogSpoolPath { get; set; }

    /// <summary>Largest spool file; past it cards are dropped (counted and logged once per episode). 64 MiB ≈ 250,000 cards.</summary>
    public long CardLogSpoolMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How many override reasons each card kind lists.</summary>
    public int TopOverrideReasons { get; set; } = 5;
}

/// <summary>A bad analytics configuration stops the service at boot with a message naming the key.</summary>
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
        if (options.CardLogWriteTimeoutMilliseconds is < 50 or > 60_000) errors.Add("Analytics:CardLogWriteTimeoutMilliseconds must be between 50 and 60000.");
        if (options.CardLogRetryMaxMilliseconds is < 10 or > 2000) errors.Add("Analytics:CardLogRetryMaxMilliseconds must be between 10 and 2000.");
        if (options.CardLogSpoolMaxBytes is < 64 * 1024 or > 64L * 1024 * 1024 * 1024) errors.Add("Analytics:CardLogSpoolMaxBytes must be between 65536 and 68719476736 (64 GiB).");
        if (options.CardLogSpoolPath is { } spool && (string.IsNullOrWhiteSpace(spool) || spool.IndexOfAny(Path.GetInvalidPathChars()) >= 0))
        {
            errors.Add("Analytics:CardLogSpoolPath must be a file path (or unset for card-log.spool in the data folder).");
        }
        if (options.TopOverrideReasons is < 0 or > 100) errors.Add("Analytics:TopOverrideReasons must be between 0 and 100.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
