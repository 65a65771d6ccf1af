using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using CdsHooks.Api.Analytics;
using CdsHooks.Api.Security;

namespace CdsHooks.Api.LockOut;

/// <summary>
/// Turns a patient id (and an encounter id) into the keyed hash the card log keeps instead: HMAC-SHA256 under a key
/// derived from the server secret (<c>Analytics:PatientKey</c>) and the calling EHR's scope (issuer and tenant, or
/// <c>open</c> without client authentication), truncated to 128 bits, hex. The same patient of the same EHR always
/// gets the same hash, so "same patient" can be told; without the secret a hash cannot be tested against guessed ids
/// (patient ids are short and guessable, a plain hash would not hide them), and two EHRs (or tenants) never share one.
/// </summary>
public sealed class PatientKeyring
{
    /// <summary>The scope of calls without an authenticated client.</summary>
    public const string OpenScope = "open";
    private const int MaxCachedScopes = 1024;
    private const int HashBytes = 16;
    private static readonly byte[] ScopeLabel = "rls-iron-cds/patient-key/v1\n"u8.ToArray();

    private readonly byte[] _secret;
    private readonly ConcurrentDictionary<string, byte[]> _scopeKeys = new(StringComparer.Ordinal);

    public PatientKeyring(byte[] secret)
    {
        if (secret.Length < AnalyticsOptionsValidator.MinimumPatientKeyBytes) throw new ArgumentException("The patient key is too short.", nameof(secret));
        _secret = [.. secret];
    }

    /// <summary>Issuer and tenant, length-prefixed so no two pairs read alike; <see cref="OpenScope"/> without a client.</summary>
    public static string ScopeOf(CdsClient? client) =>
        client is null ? OpenScope : $"iss:{client.Issuer.Length}:{client.Issuer}|tenant:{client.Tenant}";

    /// <summary>The keyed hashes of <paramref name="patientId"/> and, when given, of the encounter (of that patient).</summary>
    public SubjectKeys For(string scope, string patientId, string? encounterId)
    {
        var key = ScopeKey(scope);
        return new SubjectKeys(Hash(key, (byte)'p', patientId, null), encounterId is null ? null : Hash(key, (byte)'e', patientId, encounterId));
    }

    private byte[] ScopeKey(string scope)
    {
        if (_scopeKeys.TryGetValue(scope, out var key)) return key;
        var label = Encoding.UTF8.GetBytes(scope);
        key = HMACSHA256.HashData(_secret, (byte[])[.. ScopeLabel, .. label]);
        // Scopes come from configured issuers (and their tenants): few. A flood of tenants is hashed, not cached.
        if (_scopeKeys.Count < MaxCachedScopes) _scopeKeys.TryAdd(scope, key);
        return key;
    }

    /// <summary>HMAC of: a domain byte, the first id's UTF-8 length (4 bytes) and bytes, then the second id's bytes.</summary>
    private static string Hash(byte[] key, byte domain, string first, string? second)
    {
        var max = 5 + Encoding.UTF8.GetMaxByteCount(first.Length) + (second is null ? 0 : Encoding.UTF8.GetMaxByteCount(second.Length));
        var rented = max > 512 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> buffer = rented ?? stackalloc byte[512];
        try
        {
            buffer[0] = domain;
            var length = Encoding.UTF8.GetBytes(first, buffer[5..]);
            BinaryPrimitives.WriteInt32BigEndian(buffer[1..], length);
            length += 5;
            if (second is not null) length += Encoding.UTF8.GetBytes(second, buffer[length..]);
            Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(key, buffer[..length], mac);
            return Convert.ToHexStringLower(mac[..HashBytes]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
