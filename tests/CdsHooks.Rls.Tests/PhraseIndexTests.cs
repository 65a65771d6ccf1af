using CdsHooks.Rls.Knowledge;

namespace CdsHooks.Rls.Tests;

public class PhraseIndexTests
{
    private static readonly PhraseIndex<string> Index = new(
    [
        KeyValuePair.Create("citalopram", "ssri"),
        KeyValuePair.Create("escitalopram", "ssri"),
        KeyValuePair.Create("Zoloft", "ssri"),
        KeyValuePair.Create("ferric carboxymaltose", "iv-iron"),
        KeyValuePair.Create("ferric", "other"),
        KeyValuePair.Create("Chlor-Trimeton", "antihistamine"),
    ]);

    private static List<(string Phrase, string Value)> Find(string? text)
    {
        var found = new List<(string, string)>();
        Index.FindAll(text, found);
        return found;
    }

    [Fact]
    public void FindAll_MultiWordName_MatchedBeforeItsFirstWord()
    {
        Assert.Equal([("ferric carboxymaltose", "iv-iron")], Find("Ferric Carboxymaltose 750 MG in 15 ML Injection"));
        Assert.Equal([("ferric", "other")], Find("ferric citrate"));
    }

    [Fact]
    public void FindAll_MultiWordNamesSharingOrLackingASingleWordEntry_AllFound()
    {
        // Only the first words of multi-word names open a multi-word probe: each length must still be tried there.
        var index = new PhraseIndex<string>(
        [
            KeyValuePair.Create("restless legs syndrome", "rls-3"),
            KeyValuePair.Create("restless legs", "rls-2"),
            KeyValuePair.Create("Willis-Ekbom disease", "wed"),
            KeyValuePair.Create("legs", "legs"),
        ]);
        var found = new List<(string, string)>();

        index.FindAll("legs; restless legs; Restless Legs Syndrome; willis ekbom disease; restless", found);

        Assert.Equal([("legs", "legs"), ("restless legs", "rls-2"), ("restless legs syndrome", "rls-3"), ("willis ekbom disease", "wed")], found);
    }

    [Fact]
    public void FindAll_NameInsideLongerWord_NotMatched()
    {
        Assert.Equal([("escitalopram", "ssri")], Find("escitalopram 10 MG Oral Tablet"));
    }

    [Fact]
    public void FindAll_CaseBracketsAndHyphens_Ignored()
    {
        Assert.Equal([("zoloft", "ssri"), ("chlor trimeton", "antihistamine")], Find("sertraline 50 MG [ZOLOFT]; CHLOR-TRIMETON 4 mg"));
    }

    [Fact]
    public void FindAll_NoTextOrNoName_FindsNothing()
    {
        Assert.Empty(Find(null));
        Assert.Empty(Find("   "));
        Assert.Empty(Find("acetaminophen 500 MG Oral Tablet"));
    }

    [Fact]
    public void FindAll_TextLongerThanTheStackBuffer_StillFindsTheLastWord()
    {
        var text = string.Join(' ', Enumerable.Repeat("word", 300)) + " citalopram";
        Assert.Equal([("citalopram", "ssri")], Find(text));
    }

    [Fact]
    public void Contains_OtherValueCoversTheWords_False()
    {
        Assert.True(Index.Contains("ferric carboxymaltose", "iv-iron"));
        // The longer phrase wins the words, so "ferric" alone is not found here (as FindAll reports it).
        Assert.False(Index.Contains("ferric carboxymaltose", "other"));
        Assert.False(Index.Contains(null, "ssri"));
    }

    [Fact]
    public void FindAll_TextWithoutMatch_AllocatesNothing()
    {
        // Every medication display of every hook call is scanned: matching must not allocate per word or window.
        const string text = "acetaminophen 500 MG Oral Tablet (Tylenol Extra Strength) take 2 tablets every 6 hours";
        var found = new List<(string, string)>(4);
        Index.FindAll(text, found);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Index.FindAll(text, found);
        Index.Contains(text, "ssri");
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
