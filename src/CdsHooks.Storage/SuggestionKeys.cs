using System.Globalization;

namespace CdsHooks.Storage;

/// <summary>
/// How the card log stores each suggestion's stable key (<c>card_log.suggestion_keys</c>): space-separated in the order
/// of <c>suggestion_uuids</c>, <c>?</c> where a suggestion has none. A suggestion without a recorded key is named by its
/// position in the card (<c>#1</c>, <c>#2</c>…), which stays meaningful only while the card's suggestions keep their order.
/// </summary>
public static class SuggestionKeys
{
    private const string Missing = "?";
    private const int MaxLength = 64;

    /// <summary>The stored text, or null when no suggestion of the card has a key.</summary>
    public static string? Format(IReadOnlyList<string?> keys, int suggestionCount)
    {
        if (keys.Count == 0 || keys.All(k => !IsValid(k))) return null;
        var parts = new string[suggestionCount];
        for (var i = 0; i < suggestionCount; i++) parts[i] = i < keys.Count && IsValid(keys[i]) ? keys[i]! : Missing;
        return string.Join(' ', parts);
    }

    /// <summary>The key of the suggestion at <paramref name="position"/> (0-based), or its positional name.</summary>
    public static string At(string? stored, int position)
    {
        if (stored is not null)
        {
            var parts = stored.Split(' ');
            if (position < parts.Length && parts[position] != Missing) return parts[position];
        }
        return Positional(position);
    }

    public static string Positional(int position) => "#" + (position + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>Lower-case letters, digits and '-', 1–64 characters: safe in the stored list, a CSV cell and a URL.</summary>
    public static bool IsValid(string? key) =>
        key is { Length: > 0 and <= MaxLength } && key.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}
