using System.Security.Cryptography;
using System.Text;

namespace CdsHooks.Rls.Cards;

/// <summary>
/// Name-based UUIDs (RFC 9562 version 8, SHA-256 of the parts): the same hook call always yields the same card
/// and suggestion uuids, so a retried or repeated order-select is idempotent and feedback joins to what was shown.
/// </summary>
public static class StableUuid
{
    public static string From(string a, string b, string c)
    {
        Span<byte> hash = stackalloc byte[32];
        var text = string.Concat(a, "\n", b, "\n", c);
        var bytes = Encoding.UTF8.GetBytes(text);
        SHA256.HashData(bytes, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(hash[..16], bigEndian: true).ToString();
    }
}
