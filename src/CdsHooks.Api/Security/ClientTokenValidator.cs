using System.Buffers.Text;
using System.Collections.Frozen;
using System.Security.Claims;
using System.Text.Json;
using CdsHooks.Storage;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CdsHooks.Api.Security;

/// <summary>The CDS client (EHR) a request was authenticated as. Set as an HTTP feature; see <see cref="CdsClientHttpContextExtensions"/>.</summary>
public sealed record CdsClient(string Issuer, string? Tenant, string? Subject)
{
    public const string AuthenticationType = "CdsHooksClientJwt";

    public ClaimsPrincipal ToPrincipal()
    {
        var claims = new List<Claim> { new(JwtRegisteredClaimNames.Iss, Issuer) };
        if (Tenant is not null) claims.Add(new Claim("tenant", Tenant));
        if (Subject is not null) claims.Add(new Claim(JwtRegisteredClaimNames.Sub, Subject));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthenticationType, JwtRegisteredClaimNames.Iss, null));
    }
}

public static class CdsClientHttpContextExtensions
{
    /// <summary>The authenticated CDS client, or null when the call was not authenticated (<c>Security:RequireJwt=false</c>).</summary>
    public static CdsClient? GetCdsClient(this HttpContext context) => context.Features.Get<CdsClient>();
}

/// <summary>
/// Either the authenticated client or why the token was refused: <see cref="Failure"/> in words for the log (it never
/// holds the token), <see cref="Refusal"/> as one of a few codes for metrics and traces.
/// <see cref="Unavailable"/>: the token could not be checked (its jti store did not answer), so it is not accepted
/// either, but the client is not at fault: 503, not 401.
/// </summary>
public readonly record struct ClientTokenResult(CdsClient? Client, string? Failure, bool Unavailable = false, ClientTokenRefusal Refusal = ClientTokenRefusal.None)
{
    public static ClientTokenResult Refused(ClientTokenRefusal refusal, string reason) => new(null, reason, Refusal: refusal);

    public static ClientTokenResult CannotCheck(string reason) => new(null, reason, Unavailable: true);
}

/// <summary>Why a client JWT was refused, coarsely: a fixed set of codes, unlike the reason's words (which quote the token's values).</summary>
public enum ClientTokenRefusal
{
    None,
    /// <summary>No <c>Authorization</c> header.</summary>
    Missing,
    /// <summary>Not a single bearer token, not a JWS, or a header that cannot be read.</summary>
    Malformed,
    /// <summary><c>alg</c>, <c>typ</c>, <c>kid</c> or <c>crit</c> not acceptable.</summary>
    Header,
    /// <summary><c>iss</c> not trusted.</summary>
    Issuer,
    /// <summary>No usable key: a <c>jku</c> off the allowlist, an unknown <c>kid</c>, a key for another algorithm.</summary>
    Key,
    Signature,
    /// <summary><c>aud</c> is not the URL called.</summary>
    Audience,
    /// <summary><c>exp</c>, <c>nbf</c> or <c>iat</c> missing, passed, not reached or too far ahead.</summary>
    Lifetime,
    /// <summary><c>jti</c> missing or already used.</summary>
    Replay,
    Tenant,
    /// <summary>Any other validation failure.</summary>
    Invalid,
}

public static class ClientTokenRefusalCodes
{
    /// <summary>The code as a metric tag and span attribute.</summary>
    public static string Code(this ClientTokenRefusal refusal) => refusal switch
    {
        ClientTokenRefusal.None => "none",
        ClientTokenRefusal.Missing => "missing",
        ClientTokenRefusal.Malformed => "malformed",
        ClientTokenRefusal.Header => "header",
        ClientTokenRefusal.Issuer => "issuer",
        ClientTokenRefusal.Key => "key",
        ClientTokenRefusal.Signature => "signature",
        ClientTokenRefusal.Audience => "audience",
        ClientTokenRefusal.Lifetime => "lifetime",
        ClientTokenRefusal.Replay => "replay",
        ClientTokenRefusal.Tenant => "tenant",
        _ => "invalid",
    };
}

/// <summary>
/// Checks the JWT a CDS client signs each call with (CDS Hooks 2.0 §Trusting CDS Clients): header <c>alg</c>
/// (ES384/RS384 by default, never <c>none</c> or HMAC), <c>typ</c> JWT, <c>kid</c>, no <c>crit</c> (RFC 7515 §4.1.11:
/// no header extension is understood); <c>iss</c> on the allowlist; the signature against the issuer's inline key of
/// that <c>kid</c> (pinned: any <c>jku</c> is then unused) or else a key fetched from <c>jku</c>, which must be on that
/// issuer's allowlist (checked before anything is fetched), or from its JWKS URL; <c>aud</c> equal to the URL called;
/// <c>exp</c>, <c>nbf</c>, <c>iat</c> with a small skew; optional <c>tenant</c>; and <c>jti</c> never seen before.
/// </summary>
public sealed class ClientTokenValidator
{
    private const int MaxShownLength = 100;

    /// <summary>A client's JWT header is about 200 bytes; a larger one is decoded on the heap.</summary>
    private const int MaxHeaderBytesOnStack = 1024;

    /// <summary>The header parameters RFC 7515 §4.1 registers for JWS, which <c>crit</c> must not list (§4.1.11).</summary>
    private static readonly FrozenSet<string> RegisteredHeaderParameters =
        FrozenSet.ToFrozenSet(["alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"], StringComparer.Ordinal);

    private readonly CdsClientSecurityOptions _options;
    private readonly Dictionary<string, TrustedIssuer> _issuers;
    private readonly JwksKeyCache _keys;
    private readonly IJtiReplayStore _replay;
    private readonly TimeProvider _clock;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public ClientTokenValidator(IOptions<CdsClientSecurityOptions> options, JwksKeyCache keys, IJtiReplayStore replay, TimeProvider clock)
    {
        _options = options.Value;
        _keys = keys;
        _replay = replay;
        _clock = clock;
        _issuers = _options.Issuers.ToDictionary(
            i => i.Issuer,
            i => new TrustedIssuer(i, i.Jwks is { Length: > 0 } jwks ? JsonWebKeys.Parse(jwks) : new Dictionary<string, JsonWebKey>()),
            StringComparer.Ordinal);
    }

    /// <summary>Whether any issuer is configured; without one no token can be checked.</summary>
    public bool HasIssuers => _issuers.Count > 0;

    /// <param name="token">The compact JWT from <c>Authorization: Bearer</c>.</param>
    /// <param name="audience">The URL that was called, as the client saw it.</param>
    /// <param name="cancellationToken">The request's.</param>
    public async ValueTask<ClientTokenResult> ValidateAsync(string token, string audience, CancellationToken cancellationToken)
    {
        JsonWebToken jwt;
        try
        {
            jwt = _handler.ReadJsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            return ClientTokenResult.Refused(ClientTokenRefusal.Malformed, "malformed token");
        }
        if (jwt.IsEncrypted) return ClientTokenResult.Refused(ClientTokenRefusal.Malformed, "encrypted tokens (JWE) are not accepted");

        // Header checks come first: an unsigned or HMAC token never reaches key lookup or any fetch.
        var alg = jwt.Alg;
        if (!_options.Algorithms.Contains(alg, StringComparer.Ordinal)) return ClientTokenResult.Refused(ClientTokenRefusal.Header, $"alg '{Shown(alg)}' is not allowed");
        if (!string.Equals(jwt.Typ, "JWT", StringComparison.OrdinalIgnoreCase)) return ClientTokenResult.Refused(ClientTokenRefusal.Header, $"typ '{Shown(jwt.Typ)}' is not JWT");
        if (string.IsNullOrEmpty(jwt.Kid)) return ClientTokenResult.Refused(ClientTokenRefusal.Header, "no kid in the header");
        if (CriticalHeaderRefusal(jwt) is { } crit) return ClientTokenResult.Refused(ClientTokenRefusal.Header, crit);

        var iss = jwt.Issuer;
        if (!_issuers.TryGetValue(iss, out var issuer)) return ClientTokenResult.Refused(ClientTokenRefusal.Issuer, $"issuer '{Shown(iss)}' is not trusted");

        // Inline keys are pinned: a token signed with one is checked against it whatever jku it names, since the jku
        // is not used (the Sandbox names its published JWKS; an operator who pasted that JWKS has nothing more to
        // set). The jku allowlist guards what may be fetched: it is checked before anything is.
        var jku = jwt.TryGetHeaderValue<string>("jku", out var j) ? j : null;
        if (!issuer.InlineKeys.TryGetValue(jwt.Kid, out var key))
        {
            if (jku is not null && !issuer.Options.JwksUrls.Contains(jku, StringComparer.Ordinal))
            {
                return ClientTokenResult.Refused(ClientTokenRefusal.Key, $"jku '{Shown(jku)}' is not on the allowlist of issuer '{Shown(iss)}'");
            }
            key = await FetchKeyAsync(issuer, jku, jwt.Kid, cancellationToken);
        }
        if (key is null) return ClientTokenResult.Refused(ClientTokenRefusal.Key, $"no key '{Shown(jwt.Kid)}' for issuer '{Shown(iss)}'");
        if (key.Alg is { Length: > 0 } keyAlg && keyAlg != alg) return ClientTokenResult.Refused(ClientTokenRefusal.Key, $"key '{Shown(jwt.Kid)}' is for {keyAlg}, the token says {Shown(alg)}");

        var result = await _handler.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            IssuerSigningKey = key,
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = [alg],
            RequireSignedTokens = true,
            ValidIssuer = issuer.Options.Issuer,
            ValidAudience = audience,
            RequireAudience = true,
            // Lifetime is checked below against the injected clock.
            ValidateLifetime = false,
            ValidateIssuerSigningKey = false,
            ValidateTokenReplay = false,
            LogValidationExceptions = false,
            IncludeTokenOnFailedValidation = false,
        });
        if (!result.IsValid) return ClientTokenResult.Refused(Classify(result.Exception), Describe(result.Exception, audience));

        // Lifetime (exp, nbf, iat all required or checked, with skew) on the injected clock.
        var now = _clock.GetUtcNow();
        var skew = _options.ClockSkew;
        if (!jwt.TryGetClaim(JwtRegisteredClaimNames.Exp, out _)) return ClientTokenResult.Refused(ClientTokenRefusal.Lifetime, "no exp claim");
        var expires = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero);
        if (expires + skew <= now) return ClientTokenResult.Refused(ClientTokenRefusal.Lifetime, "expired (exp)");
        if (jwt.TryGetClaim(JwtRegisteredClaimNames.Nbf, out _) && new DateTimeOffset(jwt.ValidFrom, TimeSpan.Zero) > now + skew)
        {
            return ClientTokenResult.Refused(ClientTokenRefusal.Lifetime, "not valid yet (nbf)");
        }
        if (!jwt.TryGetClaim(JwtRegisteredClaimNames.Iat, out _)) return ClientTokenResult.Refused(ClientTokenRefusal.Lifetime, "no iat claim");
        if (new DateTimeOffset(jwt.IssuedAt, TimeSpan.Zero) > now + skew) return ClientTokenResult.Refused(ClientTokenRefusal.Lifetime, "iat is in the future");
        if (expires - now > TimeSpan.FromSeconds(_options.MaxTokenLifetimeSeconds) + skew)
        {
            return ClientTokenResult.Refused(ClientTokenRefusal.Lifetime, $"exp is more than {_options.MaxTokenLifetimeSeconds} s ahead");
        }
        var jti = jwt.Id;
        if (string.IsNullOrEmpty(jti)) return ClientTokenResult.Refused(ClientTokenRefusal.Replay, "no jti claim");
        var tenant = jwt.TryGetPayloadValue<string>("tenant", out var t) ? t : null;
        if (issuer.Options.Tenant is { Length: > 0 } expectedTenant && !string.Equals(tenant, expectedTenant, StringComparison.Ordinal))
        {
            return ClientTokenResult.Refused(ClientTokenRefusal.Tenant, $"tenant '{Shown(tenant)}' is not the configured tenant of issuer '{Shown(iss)}'");
        }

        // Last, after the signature: only genuine tokens may use up a jti.
        bool firstUse;
        try
        {
            firstUse = await _replay.TryMarkUsedAsync(iss, jti, expires + _options.ClockSkew, cancellationToken);
        }
        catch (StoreUnavailableException ex)
        {
            return ClientTokenResult.CannotCheck($"the jti store ({ex.Component}) cannot check the token: {ex.Reason}");
        }
        if (!firstUse) return ClientTokenResult.Refused(ClientTokenRefusal.Replay, $"jti already used (replay) for issuer '{Shown(iss)}'");
        var subject = jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Sub, out var s) ? s : null;
        return new ClientTokenResult(new CdsClient(iss, tenant, subject), null);
    }

    /// <summary>The key from the JWKS the token points at (<c>jku</c>, allowlisted) or the issuer's configured JWKS URL.</summary>
    private async ValueTask<JsonWebKey?> FetchKeyAsync(TrustedIssuer issuer, string? jku, string kid, CancellationToken cancellationToken)
    {
        var url = jku ?? issuer.Options.JwksUrl;
        return string.IsNullOrEmpty(url) ? null : await _keys.FindAsync(issuer.Options.Issuer, url, kid, cancellationToken);
    }

    /// <summary>
    /// RFC 7515 §4.1.11: <c>crit</c> lists header extensions the recipient must understand, or refuse the token. This
    /// service understands none, so a token with <c>crit</c> is refused; the reason says whether it named extensions,
    /// named registered header parameters (which crit must not) or was not a non-empty array of names. Read from the
    /// header's own JSON, so an escaped or repeated <c>crit</c> is seen as it was sent.
    /// </summary>
    private static string? CriticalHeaderRefusal(JsonWebToken jwt)
    {
        Span<byte> buffer = stackalloc byte[MaxHeaderBytesOnStack];
        var header = Base64Url.GetMaxDecodedLength(jwt.EncodedHeader.Length) <= buffer.Length ? buffer : new byte[Base64Url.GetMaxDecodedLength(jwt.EncodedHeader.Length)];
        if (!Base64Url.TryDecodeFromChars(jwt.EncodedHeader, header, out var length)) return "malformed header";

        var reader = new Utf8JsonReader(header[..length]);
        string? refusal = null;
        var seen = false;
        try
        {
            reader.Read(); // the header object (the handler has parsed it already)
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCrit = reader.ValueTextEquals("crit"u8);
                reader.Read();
                if (!isCrit)
                {
                    reader.Skip();
                    continue;
                }
                refusal = seen ? "crit is given twice" : CritRefusal(ref reader);
                seen = true;
            }
        }
        catch (JsonException)
        {
            return "malformed header";
        }
        return refusal;
    }

    /// <summary>Why a <c>crit</c> value (the reader on it) is refused.</summary>
    private static string CritRefusal(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return "crit is not an array of header parameter names";
        }
        var names = new List<string>();
        var strings = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String) names.Add(reader.GetString()!);
            else strings = false;
            reader.Skip();
        }
        if (!strings) return "crit is not an array of header parameter names";
        if (names.Count == 0) return "crit is an empty array";
        if (names.FirstOrDefault(RegisteredHeaderParameters.Contains) is { } registered)
        {
            return $"crit lists the registered header parameter '{Shown(registered)}'";
        }
        return $"crit names header extensions this service does not understand: {Shown(string.Join(", ", names))}";
    }

    private static ClientTokenRefusal Classify(Exception? ex) => ex switch
    {
        SecurityTokenInvalidAudienceException => ClientTokenRefusal.Audience,
        SecurityTokenInvalidIssuerException => ClientTokenRefusal.Issuer,
        SecurityTokenInvalidAlgorithmException => ClientTokenRefusal.Header,
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => ClientTokenRefusal.Signature,
        _ => ClientTokenRefusal.Invalid,
    };

    private static string Describe(Exception? ex, string audience) => ex switch
    {
        SecurityTokenInvalidAudienceException => $"aud is not the URL called ({audience})",
        SecurityTokenInvalidIssuerException => "iss does not match",
        SecurityTokenInvalidAlgorithmException => "algorithm not allowed",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "bad signature",
        // The exception text may quote the token when PII logging is on: only its type is reported.
        null => "invalid",
        _ => ex.GetType().Name,
    };

    /// <summary>Header and claim values come from the caller: shortened and stripped of control characters for the log.</summary>
    private static string Shown(string? value)
    {
        if (value is null) return "(none)";
        var text = value.Length > MaxShownLength ? value[..MaxShownLength] + "…" : value;
        return string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));
    }

    private sealed record TrustedIssuer(TrustedIssuerOptions Options, IReadOnlyDictionary<string, JsonWebKey> InlineKeys);
}
