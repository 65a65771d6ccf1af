using System.Globalization;
using System.Text.RegularExpressions;

namespace CdsHooks.Protocol;

/// <summary>
/// RFC 3339 §5.6 <c>date-time</c>: full date, <c>T</c>, time with optional fraction, and a required offset (<c>Z</c> or
/// ±hh:mm). CDS Hooks uses it for <c>outcomeTimestamp</c>. Stricter than <see cref="DateTimeOffset.TryParse(string?, out DateTimeOffset)"/>,
/// which also takes local times and culture formats.
/// </summary>
public static partial class Rfc3339
{
    public static bool TryParse(string? value, out DateTimeOffset instant)
    {
        instant = default;
        if (value is null || value.Length > 40) return false;
        var m = DateTime().Match(value);
        if (!m.Success) return false;
        // .NET reads at most 7 fraction digits; RFC 3339 allows any number: extra digits below 100 ns are dropped.
        var fraction = m.Groups["fraction"].Value;
        if (fraction.Length > 8) fraction = fraction[..8];
        var offset = m.Groups["offset"].Value.ToUpperInvariant();
        var text = m.Groups["date"].Value + "T" + m.Groups["time"].Value + fraction + (offset == "Z" ? "+00:00" : offset);
        return DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"],
            CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }

    [GeneratedRegex(@"^(?<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?<fraction>\.[0-9]+)?(?<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTime();
}
