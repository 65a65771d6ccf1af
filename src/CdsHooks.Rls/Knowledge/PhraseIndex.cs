using System.Collections.Frozen;
using System.Text;

namespace CdsHooks.Rls.Knowledge;

/// <summary>
/// Finds known names (ingredients, brands, diagnoses) as whole words in free text such as
/// "sertraline 50 MG Oral Tablet [Zoloft]": "citalopram" never matches inside "escitalopram",
/// and multi-word names ("ferric carboxymaltose") are matched before their single words.
/// Built once at start-up; matching is a dictionary probe per word window, no regex.
/// </summary>
public sealed class PhraseIndex<T>
{
    private readonly FrozenDictionary<string, T> _phrases;
    private readonly int _maxWords;

    public PhraseIndex(IEnumerable<KeyValuePair<string, T>> phrases)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        int maxWords = 1;
        foreach (var (phrase, value) in phrases)
        {
            var words = Words(phrase);
            if (words.Count == 0) continue;
            map[string.Join(' ', words)] = value;
            maxWords = Math.Max(maxWords, words.Count);
        }
        _phrases = map.ToFrozenDictionary(StringComparer.Ordinal);
        _maxWords = maxWords;
    }

    public int Count => _phrases.Count;

    /// <summary>Every known phrase in <paramref name="text"/>, longest match first at each position.</summary>
    public void FindAll(string? text, List<(string Phrase, T Value)> results)
    {
        if (string.IsNullOrWhiteSpace(text)) return;
        var words = Words(text);
        var key = new StringBuilder(64);
        for (int i = 0; i < words.Count; i++)
        {
            for (int n = Math.Min(_maxWords, words.Count - i); n >= 1; n--)
            {
                key.Clear();
                for (int k = 0; k < n; k++)
                {
                    if (k > 0) key.Append(' ');
                    key.Append(words[i + k]);
                }
                var candidate = key.ToString();
                if (_phrases.TryGetValue(candidate, out var value))
                {
                    results.Add((candidate, value));
                    i += n - 1;
                    break;
                }
            }
        }
    }

    /// <summary>Lower-case letter/digit runs: punctuation, brackets and hyphens separate words.</summary>
    internal static List<string> Words(string text)
    {
        var words = new List<string>();
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool isWordChar = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (isWordChar && start < 0) start = i;
            else if (!isWordChar && start >= 0)
            {
                words.Add(text[start..i].ToLowerInvariant());
                start = -1;
            }
        }
        return words;
    }
}
