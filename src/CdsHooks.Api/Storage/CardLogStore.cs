using CdsHooks.Api.Analytics;

namespace CdsHooks.Api.Storage;

/// <summary>
/// Card log rows. A card uuid is derived from the service, hookInstance and finding, so a retried hook call logs
/// its cards once.
/// </summary>
public sealed class CardLogStore(CdsDatabase database)
{
    private const string Insert = """
        INSERT INTO card_log (card_uuid, service_id, card_kind, hook_instance, issued_at, suggestion_uuids)
        VALUES (@card, @service, @kind, @hookInstance, @at, @suggestions)
        ON CONFLICT DO NOTHING
        """;

    public Task<int> AppendAsync(IReadOnlyList<IssuedCard> cards, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var written = 0;
            foreach (var card in cards)
            {
                await using var command = CdsDatabase.Command(connection, transaction, Insert)
                    .With("card", card.CardUuid)
                    .With("service", card.ServiceId)
                    .With("kind", card.CardKind)
                    .With("hookInstance", card.HookInstance)
                    .With("at", StoredTime.ToMicros(card.IssuedAt))
                    .With("suggestions", string.Join(' ', card.SuggestionUuids));
                written += await command.ExecuteNonQueryAsync(cancellationToken);
            }
            return written;
        }, cancellationToken);
}
