using CdsHooks.Rls.Knowledge;
using Microsoft.Extensions.Options;

namespace CdsHooks.Api.Analytics;

/// <summary>Section <c>Analytics</c>: the card log (queue, writer, spool), the lock-out and the analytics endpoint's optional key.</summary>
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

    /// <summary>
    /// Base64 of at least 32 random bytes: the HMAC key that turns patient and encounter ids into the keyed hashes the
    /// card log keeps for the lock-out. The same on every node. Required outside Development while the lock-out is on.
    /// </summary>
    public string? PatientKey { get; set; }

    /// <summary>Section <c>Analytics:LockOut</c>.</summary>
    public LockOutOptions LockOut { get; set; } = new();
}

/// <summary>
/// Section <c>Analytics:LockOut</c>: which cards the service holds back (README "Relevant, not repeated"). A card about a
/// draft order (<c>Card.AboutDraftOrder</c>) is never held back.
/// </summary>
public sealed class LockOutOptions
{
    /// <summary>Off: every card the rules produce is shown, and nothing about the patient is stored.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>After an override, days a card kind stays away for that patient, unless <see cref="Days"/> names the kind. 0 = none.</summary>
    public int DefaultDays { get; set; } = 30;

    /// <summary>Per card kind (<c>source.topic.code</c>): <c>Analytics:LockOut:Days:iron-therapy=60</c>. 0 = no lock-out for that kind.</summary>
    public Dictionary<string, int> Days { get; set; } = [];

    /// <summary>A reminder shown in an encounter is not shown again in it for this many hours (0 = repeat it).</summary>
    public int EncounterHours { get; set; } = 24;

    /// <summary>Without an <c>encounterId</c>: a reminder shown to the same patient is not repeated for this many minutes (0 = repeat it).</summary>
    public int NoEncounterMinutes { get; set; } = 60;

    /// <summary>The one store lookup a hook call makes may take this long; past it the cards are shown (fail open).</summary>
    public int LookupTimeoutMilliseconds { get; set; } = 50;

    /// <summary>The lock-out of <paramref name="cardKind"/>, from <see cref="Days"/> (any case) or <see cref="DefaultDays"/>.</summary>
    public TimeSpan LockOutOf(string cardKind)
    {
        foreach (var (kind, days) in Days)
        {
            if (string.Equals(kind, cardKind, StringComparison.OrdinalIgnoreCase)) return TimeSpan.FromDays(days);
        }
        return TimeSpan.FromDays(DefaultDays);
    }
}

/// <summary>A bad analytics configuration stops the service at boot with a message naming the key.</summary>
public sealed class AnalyticsOptionsValidator(IHostEnvironment environment) : IValidateOptions<AnalyticsOptions>
{
    /// <summary>Smallest patient key: HMAC-SHA256 keys shorter than its output weaken it.</summary>
    public const int MinimumPatientKeyBytes = 32;

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
        ValidateLockOut(options.LockOut, errors);
        ValidatePatientKey(options, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateLockOut(LockOutOptions o, List<string> errors)
    {
        if (o.DefaultDays is < 0 or > 3650) errors.Add("Analytics:LockOut:DefaultDays must be between 0 and 3650.");
        var known = Enum.GetValues<CardKind>().Select(k => k.Code()).ToArray();
        foreach (var (kind, days) in o.Days)
        {
            if (!known.Contains(kind, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"Analytics:LockOut:Days:{kind}: '{kind}' is not a card kind (known: {string.Join(", ", known)}).");
            }
            else if (days is < 0 or > 3650)
            {
                errors.Add($"Analytics:LockOut:Days:{kind} must be between 0 and 3650.");
            }
        }
        if (o.EncounterHours is < 0 or > 720) errors.Add("Analytics:LockOut:EncounterHours must be between 0 and 720.");
        if (o.NoEncounterMinutes is < 0 or > 1440) errors.Add("Analytics:LockOut:NoEncounterMinutes must be between 0 and 1440.");
        if (o.LookupTimeoutMilliseconds is < 5 or > 1000) errors.Add("Analytics:LockOut:LookupTimeoutMilliseconds must be between 5 and 1000.");
    }

    private void ValidatePatientKey(AnalyticsOptions options, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(options.PatientKey))
        {
            if (options.LockOut.Enabled && !environment.IsDevelopment())
            {
                errors.Add($"Analytics:PatientKey is required while Analytics:LockOut:Enabled is true (environment '{environment.EnvironmentName}'): " +
                    $"set Analytics__PatientKey to base64 of at least {MinimumPatientKeyBytes} random bytes (e.g. `openssl rand -base64 32`), the same on every node " +
                    "and kept secret, or set Analytics__LockOut__Enabled=false.");
            }
            return;
        }
        if (DecodePatientKey(options.PatientKey) is not { Length: >= MinimumPatientKeyBytes })
        {
            errors.Add($"Analytics:PatientKey must be base64 of at least {MinimumPatientKeyBytes} random bytes (e.g. `openssl rand -base64 32`).");
        }
    }

    /// <summary>The key's bytes, or null when it is not base64.</summary>
    public static byte[]? DecodePatientKey(string value)
    {
        try
        {
            return Convert.FromBase64String(value.Trim());
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
