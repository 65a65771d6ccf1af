using System.Buffers;
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
        // UTF-8 of "a\nb\nc", encoded part by part into a stack buffer (several uuids per card, every call).
        var max = Encoding.UTF8.GetMaxByteCount(a.Length + b.Length + c.Length + 2);
        byte[]? rented = null;
        Span<byte> text = max <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int n = Encoding.UTF8.GetBytes(a, text);
            text[n++] = (byte)'\n';
            n += Encoding.UTF8.GetBytes(b, text[n..]);
            text[n++] = (byte)'\n';
            n += Encoding.UTF8.GetBytes(c, text[n..]);

            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(text[..n], hash);
            hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8
            hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
            return new Guid(hash[..16], bigEndian: true).ToString();
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
