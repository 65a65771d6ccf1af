namespace CdsHooks.Storage.Tests;

/// <summary>How the card log stores each suggestion's stable key, and how a stored key is read back.</summary>
public sealed class SuggestionKeysTests
{
    [Theory]
    [InlineData(new[] { "iv", "oral" }, 2, "iv oral")]
    [InlineData(new[] { "iv", null }, 2, "iv ?")]
    [InlineData(new[] { "Not A Key", "remove" }, 2, "? remove")]
    [InlineData(new[] { "iv" }, 3, "iv ? ?")]
    [InlineData(new string?[] { null, null }, 2, null)]
    [InlineData(new string?[0], 2, null)]
    public void SuggestionKeys_Format_KeepsPositionsAndRefusesUnsafeKeys(string?[] keys, int count, string? stored)
    {
        Assert.Equal(stored, SuggestionKeys.Format(keys, count));
        for (var i = 0; i < count; i++)
        {
            var expected = i < keys.Length && SuggestionKeys.IsValid(keys[i]) ? keys[i] : "#" + (i + 1);
            Assert.Equal(expected, SuggestionKeys.At(stored, i));
        }
    }
}
