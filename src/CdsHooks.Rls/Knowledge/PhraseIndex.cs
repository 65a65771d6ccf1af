using System.Buffers;
using System.Collections.Frozen;

namespace CdsHooks.Rls.Knowledge;

/// <summary>
/// Finds known names (ingredients, brands, diagnoses) as whole words in free text such as
/// "sertraline 50 MG Oral Tablet [Zoloft]": "citalopram" never matches inside "escitalopram",
/// and multi-word names ("ferric carboxymaltose") are matched before their single words.
/// Built once at start-up; matching is a dictionary probe per word window, no regex. Every medication
/// display and text of every hook call goes through here, so matching works on spans: the text is lower-cased
/// once into a stack buffer, and its word windows are probed through the dictionary's span lookup (a single word
/// as a slice of it), allocating nothing.
/// </summary>
public sealed class PhraseIndex<T>
{
    /// <summary>Word boundaries of texts up to this many words live on the stack; longer texts rent an array.</summary>
    private const int StackWords = 64;

    /// <summary>Texts up to this many characters are lower-cased on the stack; longer texts rent an array.</summary>
    private const int StackChars = 256;

    // The key is kept in the value too: a span probe has no string to report as the phrase found.
    private readonly FrozenDictionary<string, (string Phrase, T Value)> _phrases;
    private readonly FrozenDictionary<string, (string Phrase, T Value)>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    // First words of the multi-word phrases: a window longer than one word is probed only when it starts with one,
    // so most words cost one probe, not one per possible phrase length.
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _multiWordStarts;
    private readonly int _maxWords;
    private readonly int _maxKeyLength;

    public PhraseIndex(IEnumerable<KeyValuePair<string, T>> phrases)
    {
        var map = new Dictionary<string, (string, T)>(StringComparer.Ordinal);
        var multiWordStarts = new HashSet<string>(StringComparer.Ordinal);
        int maxWords = 1;
        foreach (var (phrase, value) in phrases)
        {
            var words = Words(phrase);
            if (words.Count == 0) continue;
            var key = string.Join(' ', words);
            map[key] = (key, value);
            if (words.Count > 1) multiWordStarts.Add(words[0]);
            maxWords = Math.Max(maxWords, words.Count);
            _maxKeyLength = Math.Max(_maxKeyLength, key.Length);
        }
        _multiWordStarts = multiWordStarts.ToFrozenSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        _phrases = map.ToFrozenDictionary(StringComparer.Ordinal);
        _bySpan = _phrases.GetAlternateLookup<ReadOnlySpan<char>>();
        _maxWords = maxWords;
    }

    public int Count => _phrases.Count;

    /// <summary>Every known phrase in <paramref name="text"/>, longest match first at each position.</summary>
    public void FindAll(string? text, List<(string Phrase, T Value)> results) => Scan(text, results, default!);

    /// <summary>True when <see cref="FindAll"/> would find a phrase whose value is <paramref name="value"/>.</summary>
    public bool Contains(string? text, T value) => Scan(text, null, value);

    /// <summary>Adds matches to <paramref name="results"/>, or (when it is null) stops at the first match of <paramref name="wanted"/>.</summary>
    private bool Scan(string? text, List<(string Phrase, T Value)>? results, T wanted)
    {
        if (string.IsNullOrWhiteSpace(text) || _phrases.Count == 0) return false;

        int[]? rentedBounds = null;
        char[]? rentedLower = null;
        var maxBounds = 2 * (text.Length / 2 + 1); // a start and an end per word; words are separated by at least one char
        Span<int> bounds = maxBounds <= 2 * StackWords ? stackalloc int[2 * StackWords] : (rentedBounds = ArrayPool<int>.Shared.Rent(maxBounds));
        // The whole text lower-cased once (invariant lower-casing maps each char on its own, and words hold no
        // surrogates), so a one-word window is probed as a slice of it and a longer one is copied from it.
        Span<char> lower = text.Length <= StackChars ? stackalloc char[StackChars] : (rentedLower = ArrayPool<char>.Shared.Rent(text.Length));
        Span<char> key = stackalloc char[_maxKeyLength];
        try
        {
            text.AsSpan().ToLowerInvariant(lower);
            var words = WordBounds(text, bounds);
            for (int i = 0; i < words; i++)
            {
                int start = bounds[2 * i], end = bounds[2 * i + 1];
                if (end - start > _maxKeyLength) continue; // longer than any phrase, alone or as the start of one
                var first = lower[start..end];
                var longest = Math.Min(_maxWords, words - i);
                if (longest > 1 && !_multiWordStarts.Contains(first)) longest = 1;
                for (int n = longest; n >= 1; n--)
                {
                    scoped ReadOnlySpan<char> probe;
                    if (n == 1)
                    {
                        probe = first;
                    }
                    else
                    {
                        if (!TryBuildKey(lower, bounds, i, n, key, out var length)) continue;
                        probe = key[..length];
                    }
                    if (!_bySpan.TryGetValue(probe, out var match)) continue;
                    if (results is not null)
                    {
                        results.Add(match);
                    }
                    else if (EqualityComparer<T>.Default.Equals(match.Value, wanted))
                    {
                        return true;
                    }
                    i += n - 1;
                    break;
                }
            }
            return false;
        }
        finally
        {
            if (rentedBounds is not null) ArrayPool<int>.Shared.Return(rentedBounds);
            if (rentedLower is not null) ArrayPool<char>.Shared.Return(rentedLower);
        }
    }

    /// <summary>Words <paramref name="first"/>..+<paramref name="count"/> of the lower-cased text, joined by single spaces; false when longer than any phrase.</summary>
    private static bool TryBuildKey(ReadOnlySpan<char> lower, ReadOnlySpan<int> bounds, int first, int count, Span<char> key, out int length)
    {
        length = 0;
        for (int k = 0; k < count; k++)
        {
            int start = bounds[2 * (first + k)], end = bounds[2 * (first + k) + 1];
            if (length + (k > 0 ? 1 : 0) + (end - start) > key.Length) return false;
            if (k > 0) key[length++] = ' ';
            lower[start..end].CopyTo(key[length..]);
            length += end - start;
        }
        return true;
    }

    /// <summary>Start and end of each letter/digit run, as <see cref="Words"/> splits them; returns the number of words.</summary>
    private static int WordBounds(string text, Span<int> bounds)
    {
        int count = 0, start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool isWordChar = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (isWordChar && start < 0) start = i;
            else if (!isWordChar && start >= 0)
            {
                bounds[2 * count] = start;
                bounds[2 * count + 1] = i;
                count++;
                start = -1;
            }
        }
        return count;
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
