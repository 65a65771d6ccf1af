using CdsHooks.Api.Analytics;
using Microsoft.Extensions.DependencyInjection;

namespace CdsHooks.Api.Tests.Analytics;

/// <summary>Every card a hook call answers with is logged, so feedback can be joined to what was shown.</summary>
public sealed class CardLogTests(CdsServiceHost host) : IClassFixture<CdsServiceHost>
{
    [Fact]
    public async Task HookCall_EveryCardIsLoggedWithKindAndSuggestions()
    {
        var (hookInstance, cards) = await HookCalls.CallAsync(host.Client);
        await FlushAsync();

        var rows = await host.CardLogRowsAsync(hookInstance);
        Assert.Equal(cards.Select(c => c.Uuid).Order(), rows.Select(r => (string?)r["card_uuid"]).Order());
        foreach (var card in cards)
        {
            var row = rows.Single(r => (string?)r["card_uuid"] == card.Uuid);
            Assert.Equal(card.Source.Topic!.Code, row["card_kind"]);
            Assert.Equal("rls-iron-order-select", row["service_id"]);
            Assert.Equal(string.Join(' ', (card.Suggestions ?? []).Select(s => s.Uuid)), row["suggestion_uuids"]);
        }
    }

    [Fact]
    public async Task HookCall_NoPatientOrUserIdentifierIsStored()
    {
        var (hookInstance, _) = await HookCalls.CallAsync(host.Client, encounterId: "encounter-of-the-day");
        await FlushAsync();

        var rows = await host.CardLogRowsAsync(hookInstance);
        Assert.NotEmpty(rows);
        // The fixture's patient id, name, user id and the encounter: not in any column, and not anywhere in the files of
        // the data folder (database, WAL, spool; the spool's lock file is empty and held open).
        string[] identifiers = ["rls-lowiron-f29", "Raman", "Practitioner/example", "encounter-of-the-day"];
        foreach (var id in identifiers)
        {
            Assert.DoesNotContain(rows.SelectMany(r => r.Values), v => v is string s && s.Contains(id, StringComparison.Ordinal));
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(host.DatabasePath)!).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)))
            {
                var bytes = await ReadSharedAsync(file);
                Assert.False(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(id)) >= 0, $"{id} found in {Path.GetFileName(file)}");
            }
        }
    }

    [Fact]
    public async Task SameHookInstanceTwice_CardsLoggedOnce()
    {
        var (hookInstance, cards) = await HookCalls.CallAsync(host.Client);
        await HookCalls.CallAsync(host.Client, hookInstance: hookInstance);
        await FlushAsync();

        Assert.Equal(cards.Count, (await host.CardLogRowsAsync(hookInstance)).Count);
    }

    private Task FlushAsync() => host.Services.GetRequiredService<CardLogWriter>().FlushAsync(CancellationToken.None);

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
