using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CdsHooks.Api.Security;

/// <summary>Reads a JWKS document into the signing keys this service can use, by <c>kid</c>.</summary>
internal static class JsonWebKeys
{
    /// <summary>
    /// EC and RSA public keys with a <c>kid</c> and no other use than <c>sig</c>. Symmetric (<c>oct</c>) keys are
    /// dropped so that an HMAC signature can never be checked against anything (CDS Hooks 2.0 §Trusting CDS Clients).
    /// </summary>
    /// <exception cref="ArgumentException">The text is not a JWKS.</exception>
    public static IReadOnlyDictionary<string, JsonWebKey> Parse(string json)
    {
        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(json);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            throw new ArgumentException("the JSON is not a JWK set", nameof(json), ex);
        }
        var keys = new Dictionary<string, JsonWebKey>(StringComparer.Ordinal);
        foreach (var key in set.Keys)
        {
            if (string.IsNullOrEmpty(key.Kid) || key.Kty is not ("EC" or "RSA")) continue;
            if (key.Use is { Length: > 0 } use && use != "sig") continue;
            keys.TryAdd(key.Kid, key);
        }
        return keys;
    }
}

/// <summary>
/// The EHRs' public keys fetched from their allowlisted JWKS URLs. A set is used for
/// <see cref="CdsClientSecurityOptions.JwksCacheSeconds"/>, then fetched again (so keys the EHR withdrew stop
/// working). An unknown <c>kid</c> (key rotation) fetches the set again, at most once per
/// <see cref="CdsClientSecurityOptions.JwksRefreshIntervalSeconds"/> per issuer and URL, so forged kids cannot
/// turn the service into a request amplifier. When the JWKS endpoint is down, the keys already fetched keep working.
/// </summary>
public sealed partial class JwksKeyCache(IHttpClientFactory httpClients, TimeProvider clock, IOptions<CdsClientSecurityOptions> options, ILogger<JwksKeyCache> logger)
{
    public const string HttpClientName = "cds-client-jwks";

    private static readonly KeySet Empty = new(new Dictionary<string, JsonWebKey>(), null, null);

    private readonly ConcurrentDictionary<(string Issuer, string Url), Slot> _slots = new();
    private readonly TimeSpan _cacheFor = TimeSpan.FromSeconds(options.Value.JwksCacheSeconds);
    private readonly TimeSpan _refreshEvery = TimeSpan.FromSeconds(options.Value.JwksRefreshIntervalSeconds);

    /// <summary>The key <paramref name="kid"/> of the JWKS at <paramref name="url"/> (an allowlisted URL of <paramref name="issuer"/>), or null.</summary>
    public async ValueTask<JsonWebKey?> FindAsync(string issuer, string url, string kid, CancellationToken cancellationToken)
    {
        var slot = _slots.GetOrAdd((issuer, url), static _ => new Slot());
        var state = slot.State;
        var known = state.Keys.GetValueOrDefault(kid);
        if (known is not null && IsFresh(state)) return known;
        if (!MayFetch(state)) return known;

        // A stale but known key: one caller refreshes, the others go on with the cached key instead of queueing.
        if (known is not null)
        {
            if (!await slot.Gate.WaitAsync(0, cancellationToken)) return known;
        }
        else
        {
            await slot.Gate.WaitAsync(cancellationToken);
        }
        try
        {
            state = slot.State;
            if (state.Keys.ContainsKey(kid) && IsFresh(state) || !MayFetch(state)) return state.Keys.GetValueOrDefault(kid);

            var now = clock.GetUtcNow();
            slot.State = state with { LastAttempt = now };
            if (await FetchAsync(url, cancellationToken) is { } keys)
            {
                slot.State = new KeySet(keys, now, now);
                LogFetched(logger, issuer, url, keys.Count);
            }
            else
            {
                LogUsingCached(logger, issuer, url, state.Keys.Count);
            }
            return slot.State.Keys.GetValueOrDefault(kid);
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    private bool IsFresh(KeySet state) => state.FetchedAt is { } at && clock.GetUtcNow() - at < _cacheFor;

    private bool MayFetch(KeySet state) => state.LastAttempt is not { } at || clock.GetUtcNow() - at >= _refreshEvery;

    private async Task<IReadOnlyDictionary<string, JsonWebKey>?> FetchAsync(string url, CancellationToken cancellationToken)
    {
        try
        {
            using var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.GetAsync(new Uri(url), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogFetchFailed(logger, url, $"HTTP {(int)response.StatusCode}");
                return null;
            }
            return JsonWebKeys.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (Exception ex) when (ex is HttpRequestException or ArgumentException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogFetchFailed(logger, url, ex.GetType().Name + ": " + ex.Message);
            return null;
        }
    }

    private sealed record KeySet(IReadOnlyDictionary<string, JsonWebKey> Keys, DateTimeOffset? FetchedAt, DateTimeOffset? LastAttempt);

    private sealed class Slot
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public KeySet State { get => Volatile.Read(ref _state); set => Volatile.Write(ref _state, value); }

        private KeySet _state = Empty;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched the JWKS of issuer {Issuer} from {JwksUrl}: {KeyCount} signing keys")]
    private static partial void LogFetched(ILogger logger, string issuer, string jwksUrl, int keyCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "JWKS of issuer {Issuer} at {JwksUrl} unavailable; still using the {KeyCount} keys fetched before")]
    private static partial void LogUsingCached(ILogger logger, string issuer, string jwksUrl, int keyCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "JWKS fetch from {JwksUrl} failed: {Reason}")]
    private static partial void LogFetchFailed(ILogger logger, string jwksUrl, string reason);
}
